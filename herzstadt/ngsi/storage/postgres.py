"""PostgreSQL backend (psycopg 3): jsonb documents, GiST box index for the geo bboxes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
import psycopg
from psycopg.types.json import set_json_dumps, set_json_loads

from .base import SqlStore, SqlWriteTx, _chunks, _has_geo, geo_rows

SCHEMA = """
CREATE TABLE IF NOT EXISTS ngsi_tenant (name text PRIMARY KEY, created_at timestamptz NOT NULL
    DEFAULT now());
CREATE TABLE IF NOT EXISTS ngsi_entity (
    pk bigserial PRIMARY KEY,
    tenant text NOT NULL,
    id text NOT NULL,
    doc jsonb NOT NULL,
    created_at text NOT NULL,
    modified_at text NOT NULL
) WITH (toast_tuple_target = 8160);
CREATE UNIQUE INDEX IF NOT EXISTS ngsi_entity_tenant_id ON ngsi_entity (tenant, id);
CREATE TABLE IF NOT EXISTS ngsi_entity_type (
    tenant text NOT NULL, type text NOT NULL, entity_pk bigint NOT NULL,
    PRIMARY KEY (tenant, type, entity_pk)
);
CREATE INDEX IF NOT EXISTS ngsi_entity_type_pk ON ngsi_entity_type (entity_pk);
CREATE TABLE IF NOT EXISTS ngsi_scope (
    tenant text NOT NULL, scope text NOT NULL, entity_pk bigint NOT NULL,
    PRIMARY KEY (tenant, scope, entity_pk)
);
CREATE INDEX IF NOT EXISTS ngsi_scope_pk ON ngsi_scope (entity_pk);
CREATE TABLE IF NOT EXISTS ngsi_geo (
    id bigserial PRIMARY KEY,
    tenant text NOT NULL, entity_pk bigint NOT NULL, attr text NOT NULL,
    minx double precision NOT NULL, miny double precision NOT NULL,
    maxx double precision NOT NULL, maxy double precision NOT NULL
);
CREATE INDEX IF NOT EXISTS ngsi_geo_pk ON ngsi_geo (entity_pk);
CREATE INDEX IF NOT EXISTS ngsi_geo_box ON ngsi_geo USING gist (box(point(minx, miny), point(maxx, maxy)));
CREATE TABLE IF NOT EXISTS ngsi_event (
    seq bigserial PRIMARY KEY,
    tenant text NOT NULL, entity_id text NOT NULL, attr text NOT NULL, kind text NOT NULL,
    instance jsonb, observed_at text, modified_at text NOT NULL
);
CREATE INDEX IF NOT EXISTS ngsi_event_entity ON ngsi_event (tenant, entity_id, attr, seq);
CREATE TABLE IF NOT EXISTS ngsi_subscription (
    tenant text NOT NULL, id text NOT NULL, doc jsonb NOT NULL,
    PRIMARY KEY (tenant, id)
);
"""

ENTITY_STORAGE = "toast_tuple_target=8160"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _split_url(url: str) -> tuple[str, str | None]:
    """Remove our ``schema=`` query parameter from a libpq URL."""
    parts = urlsplit(url)
    q = parse_qsl(parts.query, keep_blank_values=True)
    schema = None
    rest = []
    for k, v in q:
        if k == "schema":
            schema = v
        else:
            rest.append((k, v))
    if schema is not None and not _SCHEMA_NAME.match(schema):
        raise ValueError(f"invalid schema name {schema!r}")
    url = urlunsplit(
        (
            parts.scheme.replace("postgres", "postgresql", 1)
            if parts.scheme == "postgres"
            else parts.scheme,
            parts.netloc,
            parts.path,
            urlencode(rest),
            parts.fragment,
        )
    )
    return url, schema


class PostgresStore(SqlStore):
    dialect = "postgresql"
    placeholder = "%s"
    ddl = SCHEMA
    attr_keys_sql = (
        "SELECT DISTINCT jsonb_object_keys(doc->'attrs') FROM ngsi_entity WHERE tenant = %s"
        " AND jsonb_typeof(doc->'attrs') = 'object'"
    )
    json_attr_exists = "jsonb_exists(e.doc->'attrs', {p})"
    regex_op = "~"
    json_cast = "::jsonb"
    for_update = " FOR UPDATE"
    doc_text = "e.doc::text"

    def __init__(self, url: str, *, durable: bool = False):
        super().__init__()
        conninfo, schema = _split_url(url)
        self.schema = schema
        self.conn = psycopg.connect(conninfo, autocommit=True)
        if not durable:  # like SQLite's WAL + synchronous=NORMAL: no disk flush per commit
            self.conn.execute("SET synchronous_commit = off")
        set_json_loads(orjson.loads, self.conn)
        set_json_dumps(lambda o: orjson.dumps(o).decode(), self.conn)
        if schema:
            self.conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            self.conn.execute(f'SET search_path TO "{schema}"')
        self._create_schema()

    def _create_schema(self) -> None:
        with self.conn.transaction():
            self.conn.execute("SELECT pg_advisory_xact_lock(427311)")
            self._create_tables()
            # Documents up to ~8 kB stay in the row uncompressed: every ``doc->…`` of a query
            # would otherwise decompress the whole document again (tables of older versions
            # get the setting for the rows written from now on).
            opts = self.conn.execute(
                "SELECT reloptions FROM pg_class WHERE oid = 'ngsi_entity'::regclass"
            ).fetchone()[0]
            if ENTITY_STORAGE not in (opts or []):
                self.conn.execute(f"ALTER TABLE ngsi_entity SET ({ENTITY_STORAGE})")

    def _decode(self, v):
        return v if isinstance(v, dict) else orjson.loads(v)

    @contextmanager
    def write(self, tenant: str) -> Iterator[PostgresWriteTx]:
        with self.lock, self.conn.transaction():
            cur = self.conn.cursor()
            if tenant not in self._tenants:
                cur.execute(
                    "INSERT INTO ngsi_tenant(name) VALUES (%s) ON CONFLICT DO NOTHING", (tenant,)
                )
            yield PostgresWriteTx(self, cur, tenant)
        self._tenants.add(tenant)

    def _bbox_condition(self, tenant: str, bbox: tuple) -> tuple[str, list]:
        attr, minx, miny, maxx, maxy = bbox
        return (
            "e.pk IN (SELECT g.entity_pk FROM ngsi_geo g WHERE"
            " box(point(g.minx, g.miny), point(g.maxx, g.maxy)) && box(point(%s, %s),"
            " point(%s, %s)) AND g.tenant = %s AND g.attr = %s)",
            [minx, miny, maxx, maxy, tenant, attr],
        )


class PostgresWriteTx(SqlWriteTx):
    def insert(self, doc: dict) -> int:
        self.cur.execute(
            "INSERT INTO ngsi_entity(tenant, id, doc, created_at, modified_at)"
            " VALUES (%s, %s, %s::jsonb, %s, %s) RETURNING pk",
            (
                self.tenant,
                doc["id"],
                self.store._encode(doc),
                doc.get("createdAt", ""),
                doc.get("modifiedAt", ""),
            ),
        )
        pk = self.cur.fetchone()[0]
        self._index(pk, doc)
        return pk

    def insert_many(self, docs: list[dict], *, events_at: str | None = None) -> None:
        """Bulk insert with COPY (entities, index rows and 'create' events)."""
        if not docs:
            return
        self.cur.execute(
            "SELECT nextval(pg_get_serial_sequence('ngsi_entity', 'pk'))"
            " FROM generate_series(1, %s)",
            (len(docs),),
        )
        pks = [r[0] for r in self.cur.fetchall()]
        t = self.tenant
        encoded = [orjson.dumps(d).decode() for d in docs]
        cur = self.cur
        with cur.copy(
            "COPY ngsi_entity (pk, tenant, id, doc, created_at, modified_at) FROM STDIN"
        ) as cp:
            for pk, d, enc in zip(pks, docs, encoded, strict=True):
                cp.write_row((pk, t, d["id"], enc, d.get("createdAt", ""), d.get("modifiedAt", "")))
        with cur.copy("COPY ngsi_entity_type (tenant, type, entity_pk) FROM STDIN") as cp:
            for pk, d in zip(pks, docs, strict=True):
                for ty in d.get("type") or []:
                    cp.write_row((t, ty, pk))
        scopes = [(t, s, pk) for pk, d in zip(pks, docs, strict=True) for s in d.get("scope") or []]
        if scopes:
            with cur.copy("COPY ngsi_scope (tenant, scope, entity_pk) FROM STDIN") as cp:
                for row in scopes:
                    cp.write_row(row)
        geo = [
            (t, pk, *row)
            for pk, d in zip(pks, docs, strict=True)
            if _has_geo(d)
            for row in geo_rows(d)
        ]
        if geo:
            with cur.copy(
                "COPY ngsi_geo (tenant, entity_pk, attr, minx, miny, maxx, maxy) FROM STDIN"
            ) as cp:
                for row in geo:
                    cp.write_row(row)
        if events_at is not None:
            with cur.copy(
                "COPY ngsi_event (tenant, entity_id, attr, kind, instance, observed_at,"
                " modified_at) FROM STDIN"
            ) as cp:
                for d, enc in zip(docs, encoded, strict=True):
                    cp.write_row((t, d["id"], "", "create", enc, None, events_at))

    def get_many(self, ids: list[str]) -> dict[str, tuple[int, dict]]:
        """One pipelined point look-up per id: the unique index whatever the table statistics
        say (an ``IN`` list over a freshly loaded table is planned as a scan of the tenant)."""
        ids = list(dict.fromkeys(ids))
        if len(ids) < 2:
            return super().get_many(ids)
        cur = self.cur
        cur.executemany(
            "SELECT pk, id, doc FROM ngsi_entity WHERE tenant = %s AND id = %s FOR UPDATE",
            [(self.tenant, i) for i in ids],
            returning=True,
        )
        out: dict[str, tuple[int, dict]] = {}
        decode = self.store._decode
        while True:
            for pk, eid, doc in cur.fetchall():
                out[eid] = (pk, decode(doc))
            if not cur.nextset():
                return out

    def events(self, rows: list[tuple]) -> None:
        if len(rows) < 16:
            super().events(rows)
            return
        with self.cur.copy(
            "COPY ngsi_event (tenant, entity_id, attr, kind, instance, observed_at, modified_at)"
            " FROM STDIN"
        ) as cp:
            for row in rows:
                cp.write_row(row)

    def _geo_insert(self, pk: int, rows: list[tuple]) -> None:
        if rows:
            self.cur.executemany(
                "INSERT INTO ngsi_geo(tenant, entity_pk, attr, minx, miny, maxx, maxy)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [(self.tenant, pk, *r) for r in rows],
            )

    def _geo_delete(self, pks: list[int]) -> None:
        for chunk in _chunks(pks, 500):
            self.cur.execute("DELETE FROM ngsi_geo WHERE entity_pk = ANY(%s)", (chunk,))
