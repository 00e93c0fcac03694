"""NGSI-LD storage: a ``Store`` protocol with SQLite (sqlite3) and PostgreSQL (psycopg 3) backends."""

from __future__ import annotations

from .base import QuerySpec, Store, WriteTx, event_rows, geo_rows

__all__ = ["QuerySpec", "Store", "WriteTx", "event_rows", "geo_rows", "open_store"]


def open_store(url: str, *, durable: bool = False) -> Store:
    """Open a store: ``sqlite:///path/to/ngsi.sqlite3``, a plain path, ``:memory:``,
    or ``postgresql://user@host:port/db`` (optionally ``?schema=name``).

    ``durable``: every commit waits for the disk (see ``NgsiConfig.durable_commits``)."""
    if url.startswith(("postgres://", "postgresql://")):
        from .postgres import PostgresStore

        return PostgresStore(url, durable=durable)
    if url.startswith("sqlite://"):
        path = url[len("sqlite://") :]
        if path in ("", "/", "/:memory:", ":memory:"):
            path = ":memory:"
    else:
        path = url
    from .sqlite import SqliteStore

    return SqliteStore(path, durable=durable)
