"""NGSI-LD storage: a ``Store`` protocol with SQLite (sqlite3) and PostgreSQL (psycopg 3) backends.

protocol.py  QuerySpec, Store, WriteTx
rows.py      rows derived from an entity: geo index rows, the encoded document (NUL check)
events.py    the change events of a write
base.py      the DB-API logic both backends share (reads, queries, index upkeep, schema)
sqlite.py    SQLite: one writer connection, a small pool of reader connections (WAL)
postgres.py  PostgreSQL: a bounded connection pool (psycopg_pool)
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import TransientConflict
from .events import event_rows
from .protocol import QuerySpec, Store, WriteTx
from .rows import geo_rows

__all__ = ["QuerySpec", "Store", "WriteTx", "event_rows", "geo_rows", "open_store", "retrying"]


def retrying[T](run: Callable[[], T], attempts: int = 3) -> T:
    """Run a whole write transaction again when it lost a race with concurrent writes
    (``TransientConflict``: it was rolled back, nothing of it is stored)."""
    for n in range(attempts):
        try:
            return run()
        except TransientConflict:
            if n == attempts - 1:
                raise
    raise AssertionError("unreachable")


#: connections per process (PostgreSQL pool; SQLite reader connections)
DEFAULT_POOL_SIZE = 4
#: seconds a request waits for a free connection before it is answered 503
DEFAULT_POOL_TIMEOUT = 10.0


def open_store(
    url: str,
    *,
    durable: bool = False,
    pool_size: int = DEFAULT_POOL_SIZE,
    pool_timeout: float = DEFAULT_POOL_TIMEOUT,
) -> Store:
    """Open a store: ``sqlite:///path/to/ngsi.sqlite3``, a plain path, ``:memory:``,
    or ``postgresql://user@host:port/db`` (optionally ``?schema=name``).

    ``durable``: every commit waits for the disk (see ``NgsiConfig.durable_commits``).
    ``pool_size``: PostgreSQL connections of this process (queued beyond, up to ``pool_timeout``
    seconds, then ``ServiceUnavailable``); SQLite reader connections beside the one writer."""
    if url.startswith(("postgres://", "postgresql://")):
        from .postgres import PostgresStore

        return PostgresStore(url, durable=durable, pool_size=pool_size, pool_timeout=pool_timeout)
    if url.startswith("sqlite://"):
        path = url[len("sqlite://") :]
        if path in ("", "/", "/:memory:", ":memory:"):
            path = ":memory:"
    else:
        path = url
    from .sqlite import SqliteStore

    return SqliteStore(path, durable=durable, readers=pool_size)
