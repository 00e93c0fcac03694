"""SQLite backend (sqlite3): WAL, synchronous=NORMAL, IMMEDIATE write transactions, R*Tree geo index."""

from __future__ import annotations

import os
import queue
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows
    fcntl = None  # type: ignore[assignment]

from ..errors import BadRequestData
from .base import SqlStore, SqlWriteTx
from .rows import encode_doc, geo_rows, has_geo
from .temporal import record_docs

#: GeoProperty instances per entity in the R*Tree (ids are entity_pk * GEO_PER_ENTITY + n)
GEO_PER_ENTITY = 64
#: seconds between WAL checkpoints of one connection (not durable mode, see ``SqliteStore.write``)
CHECKPOINT_INTERVAL = 1.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS ngsi_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ngsi_tenant (name TEXT PRIMARY KEY, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ngsi_entity (
    pk INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    doc TEXT NOT NULL,
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS ngsi_entity_tenant_id ON ngsi_entity (tenant, id);
CREATE TABLE IF NOT EXISTS ngsi_entity_type (
    tenant TEXT NOT NULL, type TEXT NOT NULL, entity_pk INTEGER NOT NULL,
    PRIMARY KEY (tenant, type, entity_pk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ngsi_entity_type_pk ON ngsi_entity_type (entity_pk);
CREATE TABLE IF NOT EXISTS ngsi_scope (
    tenant TEXT NOT NULL, scope TEXT NOT NULL, entity_pk INTEGER NOT NULL,
    PRIMARY KEY (tenant, scope, entity_pk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ngsi_scope_pk ON ngsi_scope (entity_pk);
-- the bbox table is an R*Tree with auxiliary columns, id = entity_pk * 64 + n (n < 64)
CREATE VIRTUAL TABLE IF NOT EXISTS ngsi_geo USING rtree (
    id, minx, maxx, miny, maxy, +tenant TEXT, +entity_pk INTEGER, +attr TEXT
);
CREATE TABLE IF NOT EXISTS ngsi_event (
    seq INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL, entity_id TEXT NOT NULL, attr TEXT NOT NULL, kind TEXT NOT NULL,
    instance TEXT, observed_at TEXT, modified_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ngsi_event_entity ON ngsi_event (tenant, entity_id, attr, seq);
CREATE TABLE IF NOT EXISTS ngsi_subscription (
    tenant TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ngsi_context (
    tenant TEXT NOT NULL, id TEXT NOT NULL, url TEXT NOT NULL, kind TEXT NOT NULL,
    doc TEXT NOT NULL, created_at REAL NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
"""


class SqliteStore(SqlStore):
    """One writer connection (writers of all processes queue on a kernel lock, then
    ``BEGIN IMMEDIATE``) and up to ``readers`` reader connections per process: in WAL mode a
    read never waits for a write, and reads of several threads run side by side."""

    dialect = "sqlite"
    placeholder = "?"
    ddl = SCHEMA
    attr_keys_sql = (
        "SELECT DISTINCT a.key FROM ngsi_entity e, json_each(e.doc, '$.attrs') AS a"
        " WHERE e.tenant = ?"
    )
    json_attr_exists = "json_type(e.doc, '$.attrs.\"' || {p} || '\"') IS NOT NULL"
    regex_op = "REGEXP"
    for_update = ""

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout_ms: int = 10000,
        durable: bool = False,
        readers: int = 4,
    ):
        super().__init__()
        self.path = str(path)
        self.busy_timeout_ms = busy_timeout_ms
        self.durable = durable
        self.lock = threading.RLock()  # the writer connection, shared by the threads
        self._lockfd: int | None = None
        self._last_checkpoint = 0.0
        memory = self.path == ":memory:"
        if not memory:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # Not durable: no automatic checkpoint at the end of a write (it fsyncs while the write
        # lock is held); ``write`` runs a passive one after releasing the lock, at most once per
        # CHECKPOINT_INTERVAL.
        self._checkpoints = not durable and not memory
        self.conn = self._connect(writer=True)
        self._create_schema()
        # an in-memory database exists once per connection: it reads through the writer
        self._max_readers = 0 if memory else max(0, readers)
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._readers: list[sqlite3.Connection] = []
        self._grow = threading.Lock()

    def _connect(self, *, writer: bool) -> sqlite3.Connection:
        c = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, cached_statements=256
        )
        c.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_ms)}")
        if writer and self.path != ":memory:":
            c.execute("PRAGMA journal_mode=WAL")
        c.execute(f"PRAGMA synchronous={'FULL' if self.durable else 'NORMAL'}")
        if self._checkpoints:
            c.execute("PRAGMA wal_autocheckpoint=0")
        c.execute("PRAGMA foreign_keys=OFF")
        # page cache per connection: 64 MiB for the writer, 16 MiB per reader (the file is
        # memory-mapped as well)
        c.execute(f"PRAGMA cache_size={-65536 if writer else -16384}")
        c.execute("PRAGMA mmap_size=268435456")
        if not writer:
            c.execute("PRAGMA query_only=1")
        from ..query import install_sqlite_functions

        install_sqlite_functions(c)
        return c

    def _create_schema(self) -> None:
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        try:
            self._create_tables(c)
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def _take_reader(self) -> sqlite3.Connection:
        if not self._max_readers:
            self.lock.acquire()
            return self.conn
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._grow:
            if len(self._readers) < self._max_readers:
                c = self._connect(writer=False)
                self._readers.append(c)
                return c
        return self._idle.get()  # all in use: wait for one to come back

    def _give_reader(self, conn: sqlite3.Connection) -> None:
        if not self._max_readers:
            self.lock.release()
        else:
            self._idle.put(conn)

    def _lock_file(self) -> int | None:
        """A lock file that queues writers of all processes (SQLite's own busy handler polls
        with sleeps of up to 100 ms; a kernel lock wakes the next writer at once)."""
        if fcntl is None or self.path == ":memory:":
            return None
        if self._lockfd is None:
            self._lockfd = os.open(self.path + "-writelock", os.O_RDWR | os.O_CREAT, 0o644)
        return self._lockfd

    @contextmanager
    def write(self, tenant: str) -> Iterator[SqliteWriteTx]:
        with self.lock:
            c = self.conn
            fd = self._lock_file()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                c.execute("BEGIN IMMEDIATE")
            except BaseException:
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                raise
            try:
                cur = c.cursor()
                self._local.tx = c
                if tenant not in self._tenants:
                    cur.execute(
                        "INSERT OR IGNORE INTO ngsi_tenant(name, created_at) VALUES (?,"
                        " strftime('%Y-%m-%dT%H:%M:%fZ','now'))",
                        (tenant,),
                    )
                yield SqliteWriteTx(self, cur, tenant)
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
            finally:
                self._local.tx = None
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            if self._checkpoints:
                now = time.monotonic()
                if now - self._last_checkpoint >= CHECKPOINT_INTERVAL:
                    self._last_checkpoint = now
                    # PASSIVE: waits for no reader or writer, copies what it can
                    c.execute("PRAGMA wal_checkpoint(PASSIVE)")
        self._tenants.add(tenant)

    def close(self) -> None:
        with self.lock:
            for r in self._readers:
                r.close()
            self._readers.clear()
            if self.conn is not None:
                self.conn.close()
                self.conn = None  # type: ignore[assignment]
            if self._lockfd is not None:
                os.close(self._lockfd)
                self._lockfd = None

    def _bbox_condition(self, tenant: str, bbox: tuple[Any, ...]) -> tuple[str, list[Any]]:
        attr, minx, miny, maxx, maxy = bbox
        return (
            "e.pk IN (SELECT g.entity_pk FROM ngsi_geo g"
            " WHERE g.maxx >= ? AND g.minx <= ? AND g.maxy >= ? AND g.miny <= ?"
            " AND g.tenant = ? AND g.attr = ?)",
            [minx, maxx, miny, maxy, tenant, attr],
        )


class SqliteWriteTx(SqlWriteTx):
    def insert_many(
        self, docs: list[dict[str, Any]], *, events_at: str | None = None
    ) -> list[dict[str, Any]]:
        """Insert new entities; with ``events_at`` also their 'create' events (one row each,
        sharing the encoded document). Returns the documents whose id exists (not inserted)."""
        if not docs:
            return []
        row = self.cur.execute("SELECT coalesce(max(pk), 0) FROM ngsi_entity").fetchone()
        base = row[0] + 1
        t = self.tenant
        encoded = [encode_doc(d) for d in docs]
        self.cur.executemany(
            "INSERT INTO ngsi_entity(pk, tenant, id, doc, created_at, modified_at)"
            " VALUES (?,?,?,?,?,?) ON CONFLICT (tenant, id) DO NOTHING",
            [
                (base + n, t, d["id"], encoded[n], d.get("createdAt", ""), d.get("modifiedAt", ""))
                for n, d in enumerate(docs)
            ],
        )
        conflicts: list[dict[str, Any]] = []
        rows = list(enumerate(docs))
        if self.cur.rowcount != len(docs):
            written = {
                r[0]
                for r in self.cur.execute(
                    "SELECT pk FROM ngsi_entity WHERE pk BETWEEN ? AND ?",
                    (base, base + len(docs) - 1),
                )
            }
            conflicts = [d for n, d in rows if base + n not in written]
            rows = [(n, d) for n, d in rows if base + n in written]
        self.cur.executemany(
            "INSERT INTO ngsi_entity_type(tenant, type, entity_pk) VALUES (?,?,?)",
            [(t, ty, base + n) for n, d in rows for ty in d.get("type") or []],
        )
        scopes = [(t, s, base + n) for n, d in rows for s in d.get("scope") or []]
        if scopes:
            self.cur.executemany(
                "INSERT INTO ngsi_scope(tenant, scope, entity_pk) VALUES (?,?,?)", scopes
            )
        geo: list[tuple[Any, ...]] = []
        for n, d in rows:
            if has_geo(d):
                geo.extend(self._geo_tuples(base + n, geo_rows(d)))
        if geo:
            self.cur.executemany(
                "INSERT INTO ngsi_geo(id, minx, maxx, miny, maxy, tenant, entity_pk, attr)"
                " VALUES (?,?,?,?,?,?,?,?)",
                geo,
            )
        if events_at is not None:
            self.cur.executemany(
                "INSERT INTO ngsi_event(tenant, entity_id, attr, kind, instance, observed_at,"
                " modified_at) VALUES (?,?,'','create',?,NULL,?)",
                [(t, d["id"], encoded[n], events_at) for n, d in rows],
            )
            record_docs(self, (d for _n, d in rows), events_at)
        return conflicts

    def _geo_tuples(self, pk: int, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        if len(rows) > GEO_PER_ENTITY:
            raise BadRequestData(f"at most {GEO_PER_ENTITY} GeoProperty instances per entity")
        return [
            (pk * GEO_PER_ENTITY + k, minx, maxx, miny, maxy, self.tenant, pk, attr)
            for k, (attr, minx, miny, maxx, maxy) in enumerate(rows)
        ]

    def _geo_insert(self, pk: int, rows: list[tuple[Any, ...]]) -> None:
        self.cur.executemany(
            "INSERT INTO ngsi_geo(id, minx, maxx, miny, maxy, tenant, entity_pk, attr)"
            " VALUES (?,?,?,?,?,?,?,?)",
            self._geo_tuples(pk, rows),
        )

    def _geo_delete(self, pks: list[int]) -> None:
        for pk in pks:
            self.cur.execute(
                "DELETE FROM ngsi_geo WHERE id BETWEEN ? AND ?",
                (pk * GEO_PER_ENTITY, pk * GEO_PER_ENTITY + GEO_PER_ENTITY - 1),
            )
