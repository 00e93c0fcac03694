"""PostgreSQL backend (psycopg 3): jsonb documents, GiST box index for the geo bboxes."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
import psycopg
from psycopg.types.json import set_json_dumps, set_json_loads
from psycopg_pool import ConnectionPool, PoolTimeout

from ..errors import BadRequestData, ServiceUnavailable, TransientConflict
from .base import SqlStore, SqlWriteTx, _chunks
from .rows import encode_doc, geo_rows, has_geo
from .temporal import ensure_partitions, record_docs, record_events

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
CREATE TABLE IF NOT EXISTS ngsi_context (
    tenant text NOT NULL, id text NOT NULL, url text NOT NULL, kind text NOT NULL,
    doc jsonb NOT NULL, created_at double precision NOT NULL,
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


class _Cursor(psycopg.Cursor):
    """Turns errors caused by a request's data into 400s and lost races into retryable
    conflicts; anything else stays an internal error."""

    def execute(self, query: Any, params: Any = None, **kw: Any) -> Any:
        try:
            return super().execute(query, params, **kw)
        except psycopg.Error as e:
            raise _translate(e) from None

    def executemany(self, query: Any, params_seq: Any, **kw: Any) -> Any:
        try:
            return super().executemany(query, params_seq, **kw)
        except psycopg.Error as e:
            raise _translate(e) from None


def _translate(e: psycopg.Error) -> Exception:
    if isinstance(e, psycopg.DataError):  # SQLSTATE class 22: NUL bytes, numbers out of range
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        return BadRequestData(f"the database cannot take this value: {msg}")
    if isinstance(e, psycopg.errors.TransactionRollbackError):  # type: ignore[attr-defined]  # deadlock, serialization
        return TransientConflict("the write collided with concurrent writes; retry")
    return e


class PostgresStore(SqlStore):
    """A bounded pool of connections per process (``pool_size``): a request waits for a free
    connection up to ``pool_timeout`` seconds and is then answered 503; the server never sees
    more than ``pool_size`` connections from one worker."""

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

    def __init__(
        self,
        url: str,
        *,
        durable: bool = False,
        pool_size: int = 4,
        pool_timeout: float = 10.0,
    ):
        super().__init__()
        conninfo, schema = _split_url(url)
        self._conninfo = conninfo
        self.schema = schema
        self.durable = durable
        self.pool_timeout = pool_timeout
        with psycopg.connect(conninfo, autocommit=True) as c:
            if schema:
                c.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            self._configure(c)
            self._create_schema(c)
        self.pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=max(1, pool_size),
            timeout=pool_timeout,
            kwargs={"autocommit": True, "cursor_factory": _Cursor},
            configure=self._configure,
            max_idle=300.0,
            name="herzstadt-ngsi",
            num_workers=1,
            open=True,
        )
        # the partitions of attribute instances of this month and the next (storage/temporal.py)
        now = time.time()
        ensure_partitions(self, (now, now + 32 * 86400))

    def _configure(self, conn: psycopg.Connection) -> None:
        if not self.durable:  # like SQLite's WAL + synchronous=NORMAL: no disk flush per commit
            conn.execute("SET synchronous_commit = off")
        set_json_loads(orjson.loads, conn)
        set_json_dumps(lambda o: orjson.dumps(o).decode(), conn)
        if self.schema:
            conn.execute(f'SET search_path TO "{self.schema}"')

    def _create_schema(self, conn: psycopg.Connection) -> None:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(427311)")
            self._create_tables(conn)
            # Documents up to ~8 kB stay in the row uncompressed: every ``doc->…`` of a query
            # would otherwise decompress the whole document again (tables of older versions
            # get the setting for the rows written from now on).
            opts = cast(
                "tuple[Any, ...]",
                conn.execute(
                    "SELECT reloptions FROM pg_class WHERE oid = 'ngsi_entity'::regclass"
                ).fetchone(),
            )[0]
            if ENTITY_STORAGE not in (opts or []):
                conn.execute(f"ALTER TABLE ngsi_entity SET ({ENTITY_STORAGE})")

    def run_ddl(self, statements: list[str]) -> None:
        """Run DDL in a transaction of its own on a connection of its own (not the pool's: a
        write that needs a new partition may hold the pool's last connection)."""
        with psycopg.connect(self._conninfo, autocommit=True) as c:
            self._configure(c)
            c.execute("SET lock_timeout = '2s'")
            with c.transaction():
                for s in statements:
                    c.execute(s)

    def _getconn(self) -> psycopg.Connection:
        try:
            return self.pool.getconn()
        except PoolTimeout:
            raise ServiceUnavailable(
                f"all {self.pool.max_size} database connections of this worker stayed busy for"
                f" {self.pool_timeout:g} s; retry"
            ) from None

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection (503 when none frees up in time)."""
        conn = self._getconn()
        try:
            yield conn
        finally:
            self.pool.putconn(conn)

    def _take_reader(self) -> psycopg.Connection:
        return self._getconn()

    def _give_reader(self, conn: psycopg.Connection) -> None:
        self.pool.putconn(conn)

    def _decode(self, v: Any) -> dict[str, Any]:
        doc: dict[str, Any] = v if isinstance(v, dict) else orjson.loads(v)
        return doc

    @contextmanager
    def write(self, tenant: str) -> Iterator[PostgresWriteTx]:
        with self.connection() as conn, conn.transaction(), self._in_tx(conn):
            cur = conn.cursor()
            if tenant not in self._tenants:
                cur.execute(
                    "INSERT INTO ngsi_tenant(name) VALUES (%s) ON CONFLICT DO NOTHING", (tenant,)
                )
            yield PostgresWriteTx(self, cur, tenant)
        self._tenants.add(tenant)

    def close(self) -> None:
        self.pool.close()

    def _bbox_condition(self, tenant: str, bbox: tuple[Any, ...]) -> tuple[str, list[Any]]:
        attr, minx, miny, maxx, maxy = bbox
        return (
            "e.pk IN (SELECT g.entity_pk FROM ngsi_geo g WHERE"
            " box(point(g.minx, g.miny), point(g.maxx, g.maxy)) && box(point(%s, %s),"
            " point(%s, %s)) AND g.tenant = %s AND g.attr = %s)",
            [minx, miny, maxx, maxy, tenant, attr],
        )


class PostgresWriteTx(SqlWriteTx):
    def insert_many(
        self, docs: list[dict[str, Any]], *, events_at: str | None = None
    ) -> list[dict[str, Any]]:
        """Bulk insert with COPY (entities, index rows and 'create' events); returns the
        documents whose id exists (not inserted).

        Rows go in id order, so two batches with overlapping new ids queue on the first shared
        id instead of deadlocking. When the COPY meets an id that a concurrent transaction has
        just inserted (unique violation), it is undone (savepoint) and the rows are inserted one
        by one with ``ON CONFLICT DO NOTHING``; the caller gets the conflicting documents back.
        """
        if not docs:
            return []
        cur = self.cur
        cur.execute(
            "SELECT nextval(pg_get_serial_sequence('ngsi_entity', 'pk'))"
            " FROM generate_series(1, %s)",
            (len(docs),),
        )
        pks = [r[0] for r in cur.fetchall()]
        t = self.tenant
        encoded = [encode_doc(d) for d in docs]
        order = sorted(range(len(docs)), key=lambda n: docs[n]["id"])
        rows = [
            (
                pks[n],
                t,
                docs[n]["id"],
                encoded[n],
                docs[n].get("createdAt", ""),
                docs[n].get("modifiedAt", ""),
            )
            for n in order
        ]
        try:
            copy = "COPY ngsi_entity (pk, tenant, id, doc, created_at, modified_at) FROM STDIN"
            with cur.connection.transaction(), cur.copy(copy) as cp:  # in a savepoint
                for row in rows:
                    cp.write_row(row)
            done = order
        except (psycopg.errors.UniqueViolation, psycopg.errors.DeadlockDetected):
            cur.executemany(
                "INSERT INTO ngsi_entity (pk, tenant, id, doc, created_at, modified_at)"
                " VALUES (%s, %s, %s, %s::jsonb, %s, %s) ON CONFLICT (tenant, id) DO NOTHING"
                " RETURNING pk",
                rows,
                returning=True,
            )
            written: set[int] = set()
            while True:
                written.update(r[0] for r in cur.fetchall())
                if not cur.nextset():
                    break
            done = [n for n in order if pks[n] in written]
        except psycopg.Error as e:
            raise _translate(e) from None
        self._index_many([(pks[n], docs[n], encoded[n]) for n in sorted(done)], events_at)
        inserted = set(done)
        return [d for n, d in enumerate(docs) if n not in inserted]

    def _index_many(
        self, rows: list[tuple[int, dict[str, Any], str]], events_at: str | None
    ) -> None:
        """Index rows and 'create' events of freshly inserted entities, with COPY."""
        t = self.tenant
        cur = self.cur
        with cur.copy("COPY ngsi_entity_type (tenant, type, entity_pk) FROM STDIN") as cp:
            for pk, d, _ in rows:
                for ty in d.get("type") or []:
                    cp.write_row((t, ty, pk))
        scopes = [(t, s, pk) for pk, d, _ in rows for s in d.get("scope") or []]
        if scopes:
            with cur.copy("COPY ngsi_scope (tenant, scope, entity_pk) FROM STDIN") as cp:
                for row in scopes:
                    cp.write_row(row)
        geo = [(t, pk, *row) for pk, d, _ in rows if has_geo(d) for row in geo_rows(d)]
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
                for _pk, d, enc in rows:
                    cp.write_row((t, d["id"], "", "create", enc, None, events_at))
            record_docs(self, (d for _pk, d, _enc in rows), events_at)

    def get_many(self, ids: list[str]) -> dict[str, tuple[int, dict[str, Any]]]:
        """One pipelined point look-up per id: the unique index whatever the table statistics
        say (an ``IN`` list over a freshly loaded table is planned as a scan of the tenant)."""
        ids = sorted(set(ids))  # lock order: see SqlWriteTx.get_many
        if len(ids) < 2:
            return super().get_many(ids)
        cur = self.cur
        cur.executemany(
            "SELECT pk, id, doc FROM ngsi_entity WHERE tenant = %s AND id = %s FOR UPDATE",
            [(self.tenant, i) for i in ids],
            returning=True,
        )
        out: dict[str, tuple[int, dict[str, Any]]] = {}
        decode = self.store._decode
        while True:
            for pk, eid, doc in cur.fetchall():
                out[eid] = (pk, decode(doc))
            if not cur.nextset():
                return out

    def events(self, rows: list[tuple[Any, ...]]) -> None:
        if len(rows) < 16:
            super().events(rows)
            return
        with self.cur.copy(
            "COPY ngsi_event (tenant, entity_id, attr, kind, instance, observed_at, modified_at)"
            " FROM STDIN"
        ) as cp:
            for row in rows:
                cp.write_row(row)
        record_events(self, rows)

    def _geo_insert(self, pk: int, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self.cur.executemany(
                "INSERT INTO ngsi_geo(tenant, entity_pk, attr, minx, miny, maxx, maxy)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [(self.tenant, pk, *r) for r in rows],
            )

    def _geo_delete(self, pks: list[int]) -> None:
        for chunk in _chunks(pks, 500):
            self.cur.execute("DELETE FROM ngsi_geo WHERE entity_pk = ANY(%s)", (chunk,))
