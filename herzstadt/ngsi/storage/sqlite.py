"""SQLite backend (sqlite3): WAL, synchronous=NORMAL, IMMEDIATE write transactions, R*Tree geo index."""

# ruff: noqa: S608 - SQL text from fixed keywords and placeholders; all data is bound
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .base import SCHEMA_VERSION, SqlStore, SqlWriteTx, _chunks

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
CREATE TABLE IF NOT EXISTS ngsi_geo (
    id INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL, entity_pk INTEGER NOT NULL, attr TEXT NOT NULL,
    minx REAL NOT NULL, miny REAL NOT NULL, maxx REAL NOT NULL, maxy REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ngsi_geo_pk ON ngsi_geo (entity_pk);
CREATE VIRTUAL TABLE IF NOT EXISTS ngsi_geo_rtree USING rtree (id, minx, maxx, miny, maxy);
CREATE TABLE IF NOT EXISTS ngsi_event (
    seq INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL, entity_id TEXT NOT NULL, attr TEXT NOT NULL, kind TEXT NOT NULL,
    instance TEXT, observed_at TEXT, modified_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ngsi_event_entity ON ngsi_event (tenant, entity_id, attr, seq);
"""


class SqliteStore(SqlStore):
    dialect = "sqlite"
    placeholder = "?"
    json_attr_exists = "json_type(e.doc, '$.attrs.\"' || {p} || '\"') IS NOT NULL"
    regex_op = "REGEXP"
    for_update = ""

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 10000):
        super().__init__()
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, cached_statements=256
        )
        self.lock = threading.RLock()
        c = self.conn
        c.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if self.path != ":memory:":
            c.execute("PRAGMA journal_mode=WAL")
        c.execute("PRAGMA synchronous=NORMAL")
        c.execute("PRAGMA foreign_keys=OFF")
        c.execute("PRAGMA cache_size=-65536")
        c.execute("PRAGMA mmap_size=268435456")
        from ..query import install_sqlite_functions

        install_sqlite_functions(c)
        self._create_schema()

    def _create_schema(self) -> None:
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        try:
            c.execute("CREATE TABLE IF NOT EXISTS ngsi_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            row = c.execute("SELECT value FROM ngsi_meta WHERE key='schema_version'").fetchone()
            if row is None:
                for stmt in SCHEMA.split(";"):
                    if stmt.strip():
                        c.execute(stmt)
                c.execute(
                    "INSERT INTO ngsi_meta(key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    @contextmanager
    def write(self, tenant: str) -> Iterator[SqliteWriteTx]:
        with self.lock:
            c = self.conn
            c.execute("BEGIN IMMEDIATE")
            try:
                cur = c.cursor()
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
        self._tenants.add(tenant)

    def _bbox_condition(self, tenant: str, bbox: tuple) -> tuple[str, list]:
        attr, minx, miny, maxx, maxy = bbox
        return (
            "e.pk IN (SELECT g.entity_pk FROM ngsi_geo_rtree r JOIN ngsi_geo g ON g.id = r.id"
            " WHERE r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ?"
            " AND g.tenant = ? AND g.attr = ?)",
            [minx, maxx, miny, maxy, tenant, attr],
        )

    def query(self, tenant, spec):
        with self.lock:
            return super().query(tenant, spec)

    def get(self, tenant, eid):
        with self.lock:
            return super().get(tenant, eid)


class SqliteWriteTx(SqlWriteTx):
    def insert(self, doc: dict) -> int:
        self.cur.execute(
            "INSERT INTO ngsi_entity(tenant, id, doc, created_at, modified_at) VALUES (?,?,?,?,?)",
            (self.tenant, doc["id"], self.store._encode(doc), doc.get("createdAt", ""),
             doc.get("modifiedAt", "")),
        )
        pk = self.cur.lastrowid
        self._index(pk, doc)
        return pk

    def insert_many(self, docs: list[dict]) -> None:
        if not docs:
            return
        row = self.cur.execute("SELECT coalesce(max(pk), 0) FROM ngsi_entity").fetchone()
        base = row[0] + 1
        t = self.tenant
        enc = self.store._encode
        self.cur.executemany(
            "INSERT INTO ngsi_entity(pk, tenant, id, doc, created_at, modified_at)"
            " VALUES (?,?,?,?,?,?)",
            [(base + n, t, d["id"], enc(d), d.get("createdAt", ""), d.get("modifiedAt", ""))
             for n, d in enumerate(docs)],
        )
        self.cur.executemany(
            "INSERT INTO ngsi_entity_type(tenant, type, entity_pk) VALUES (?,?,?)",
            [(t, ty, base + n) for n, d in enumerate(docs) for ty in d.get("type") or []],
        )
        scopes = [(t, s, base + n) for n, d in enumerate(docs) for s in d.get("scope") or []]
        if scopes:
            self.cur.executemany(
                "INSERT INTO ngsi_scope(tenant, scope, entity_pk) VALUES (?,?,?)", scopes
            )
        from .base import _has_geo, geo_rows

        for n, d in enumerate(docs):
            if _has_geo(d):
                self._geo_insert(base + n, geo_rows(d))

    def _geo_insert(self, pk: int, rows: list[tuple]) -> None:
        for attr, minx, miny, maxx, maxy in rows:
            self.cur.execute(
                "INSERT INTO ngsi_geo(tenant, entity_pk, attr, minx, miny, maxx, maxy)"
                " VALUES (?,?,?,?,?,?,?)",
                (self.tenant, pk, attr, minx, miny, maxx, maxy),
            )
            gid = self.cur.lastrowid
            self.cur.execute(
                "INSERT INTO ngsi_geo_rtree(id, minx, maxx, miny, maxy) VALUES (?,?,?,?,?)",
                (gid, minx, maxx, miny, maxy),
            )

    def _geo_delete(self, pks: list[int]) -> None:
        for chunk in _chunks(pks, 500):
            marks = ",".join("?" * len(chunk))
            self.cur.execute(
                f"DELETE FROM ngsi_geo_rtree WHERE id IN (SELECT id FROM ngsi_geo WHERE entity_pk"
                f" IN ({marks}))",
                chunk,
            )
            self.cur.execute(f"DELETE FROM ngsi_geo WHERE entity_pk IN ({marks})", chunk)
