"""The DB-API logic shared by the SQLite and PostgreSQL backends (reads, queries, index rows,
schema creation); each backend supplies its connections and dialect details."""

# ruff: noqa: S608 - SQL text from fixed keywords and placeholders; all data is bound
from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson

from ..errors import NonexistentTenant
from ..query.regex import compile_pattern
from .events import event_rows
from .protocol import QuerySpec
from .rows import encode_doc, geo_rows, has_geo
from .temporal import DDL_POSTGRES, DDL_SQLITE, record_events

SCHEMA_VERSION = 1


# ------------------------------------------------------------------------------- backend base
class SqlStore:
    """DB-API store; subclasses set the dialect details and supply connections.

    Reads run on ``self._reader()`` (a cursor of a connection the calling thread has to itself
    for the duration: a pooled PostgreSQL connection, one of SQLite's reader connections), writes
    in ``write()`` (one transaction). Nothing is shared between threads without a lock, and no
    read waits for a write to finish.
    """

    dialect = ""
    placeholder = "?"
    json_attr_exists = ""  # format with {p} placeholder: predicate "attribute exists"
    regex_op = ""
    json_cast = ""  # appended to JSON parameters (PostgreSQL: ::jsonb)
    for_update = ""

    ddl = ""  # CREATE … IF NOT EXISTS statements, separated by ";"

    def __init__(self) -> None:
        self._tenants: set[str] = {""}
        self._local = threading.local()  # .tx: the connection of this thread's write, if any

    def _create_tables(self, c: Any) -> None:
        """Create what is missing (idempotent), inside the caller's transaction on ``c``."""
        c.execute(
            "CREATE TABLE IF NOT EXISTS ngsi_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        row = c.execute("SELECT value FROM ngsi_meta WHERE key='schema_version'").fetchone()
        for stmt in self.ddl.split(";"):
            if stmt.strip():
                c.execute(stmt)
        for stmt in DDL_SQLITE if self.dialect == "sqlite" else DDL_POSTGRES[1:]:
            c.execute(stmt)  # the attribute instances of the temporal API (storage/temporal.py)
        if row is None:
            c.execute(
                f"INSERT INTO ngsi_meta(key, value) VALUES ('schema_version', {self.placeholder})",
                (str(SCHEMA_VERSION),),
            )

    def _reader(self) -> _Reading:
        """``with store._reader() as cur``: a cursor for reads (autocommit: every statement sees
        the latest commits) on a connection this thread has to itself. Inside a ``write`` of the
        same thread, a cursor of that transaction (it sees its own changes, and a thread never
        holds two connections at once)."""
        return _Reading(self)

    def reading(self) -> _Reading:
        """The public form of ``_reader``, for SQL that lives beside the store (other tables of
        the broker)."""
        return _Reading(self)

    def _take_reader(self) -> Any:
        """A connection for reads (the backend's pool); given back with ``_give_reader``."""
        raise NotImplementedError

    def _give_reader(self, conn: Any) -> None:
        raise NotImplementedError

    @contextmanager
    def _in_tx(self, conn: Any) -> Iterator[None]:
        """Mark ``conn`` as this thread's write connection while the transaction runs."""
        self._local.tx = conn
        try:
            yield
        finally:
            self._local.tx = None

    # --- tenants
    def tenant_exists(self, tenant: str) -> bool:
        if tenant in self._tenants:
            return True
        with self._reader() as cur:
            cur.execute(f"SELECT 1 FROM ngsi_tenant WHERE name={self.placeholder}", (tenant,))
            ok = cur.fetchone() is not None
        if ok:
            self._tenants.add(tenant)
        return ok

    def check_tenant(self, tenant: str) -> None:
        if not self.tenant_exists(tenant):
            raise NonexistentTenant(f"tenant {tenant!r} does not exist")

    def tenants(self) -> list[str]:
        return self._column("SELECT name FROM ngsi_tenant ORDER BY name", ())

    def _decode(self, v: Any) -> dict[str, Any]:
        doc: dict[str, Any] = orjson.loads(v) if isinstance(v, (str, bytes)) else v
        return doc

    def _encode(self, doc: dict[str, Any]) -> Any:
        return encode_doc(doc)

    # --- reads
    def get(self, tenant: str, eid: str) -> dict[str, Any] | None:
        p = self.placeholder
        with self._reader() as cur:
            cur.execute(f"SELECT doc FROM ngsi_entity WHERE tenant={p} AND id={p}", (tenant, eid))
            r = cur.fetchone()
        return self._decode(r[0]) if r else None

    def all_docs(self, tenant: str, types: list[str] | None = None) -> Iterator[dict[str, Any]]:
        p = self.placeholder
        with self._reader() as cur:
            if types:
                cur.execute(
                    f"SELECT e.doc FROM ngsi_entity e WHERE e.tenant={p} AND e.pk IN (SELECT"
                    f" entity_pk FROM ngsi_entity_type WHERE tenant={p} AND type IN"
                    f" ({','.join([p] * len(types))})) ORDER BY e.pk",
                    (tenant, tenant, *types),
                )
            else:
                cur.execute(f"SELECT doc FROM ngsi_entity WHERE tenant={p} ORDER BY pk", (tenant,))
            rows = cur.fetchall()
        for (d,) in rows:
            yield self._decode(d)

    attr_keys_sql = ""  # SELECT DISTINCT attribute IRIs of a tenant's entities (one placeholder)

    def _column(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        with self._reader() as cur:
            cur.execute(sql, params)
            return [r[0] for r in cur.fetchall()]

    def entity_types(self, tenant: str) -> list[str]:
        """The expanded types of a tenant's entities, sorted (from the type index)."""
        p = self.placeholder
        return self._column(
            f"SELECT DISTINCT type FROM ngsi_entity_type WHERE tenant = {p} ORDER BY type",
            (tenant,),
        )

    def attribute_names(self, tenant: str) -> list[str]:
        """The expanded attribute names of a tenant's entities, sorted (read in SQL, without
        decoding the documents in Python)."""
        return sorted(self._column(self.attr_keys_sql, (tenant,)))

    def _query_sql(self, tenant: str, spec: QuerySpec) -> tuple[str, list[Any], str]:
        p = self.placeholder
        params: list[Any] = []
        conds: list[str] = []
        if spec.types and len(spec.types) == 1:
            frm = "ngsi_entity_type t JOIN ngsi_entity e ON e.pk = t.entity_pk"
            conds.append(f"t.tenant = {p} AND t.type = {p}")
            params += [tenant, spec.types[0]]
            order = "t.entity_pk"
        else:
            frm = "ngsi_entity e"
            order = "e.pk"
            if spec.types:
                conds.append(
                    f"e.pk IN (SELECT entity_pk FROM ngsi_entity_type WHERE tenant = {p} AND type IN"
                    f" ({','.join([p] * len(spec.types))}))"
                )
                params += [tenant, *spec.types]
        conds.append(f"e.tenant = {p}")
        params.append(tenant)
        if spec.ids is not None:
            conds.append(f"e.id IN ({','.join([p] * len(spec.ids))})" if spec.ids else "1=0")
            params += spec.ids
        if spec.id_pattern is not None:
            conds.append(f"e.id {self.regex_op} {p}")
            params.append(compile_pattern(spec.id_pattern, "idPattern").for_dialect(self.dialect))
        if spec.attrs_any:
            conds.append(
                "(" + " OR ".join(self.json_attr_exists.format(p=p) for _ in spec.attrs_any) + ")"
            )
            params += spec.attrs_any
        if spec.bbox is not None:
            sql, bp = self._bbox_condition(tenant, spec.bbox)
            conds.append(sql)
            params += bp
        for sql, wp in spec.where:
            conds.append(f"({sql})")
            params += wp
        return f"FROM {frm} WHERE {' AND '.join(conds)}", params, order

    def _bbox_condition(self, tenant: str, bbox: tuple[Any, ...]) -> tuple[str, list[Any]]:
        raise NotImplementedError

    doc_text = "e.doc"  # SQL for the document as JSON text

    def query_text(self, tenant: str, spec: QuerySpec) -> tuple[list[str], int | None]:
        """Like ``query`` without a Python predicate, returning the documents as JSON text
        (lets callers reuse rendered output for unchanged documents)."""
        assert spec.predicate is None
        frm, params, order = self._query_sql(tenant, spec)
        p = self.placeholder
        total: int | None = None
        with self._reader() as cur:
            if spec.count:
                cur.execute(f"SELECT count(*) {frm}", params)
                total = cur.fetchone()[0]
            if spec.limit == 0:
                return [], total
            cur.execute(
                f"SELECT {self.doc_text} {frm} ORDER BY {order} LIMIT {p} OFFSET {p}",
                [*params, spec.limit, _bounded(spec.offset)],
            )
            return [r[0] for r in cur.fetchall()], total

    def query(self, tenant: str, spec: QuerySpec) -> tuple[list[dict[str, Any]], int | None]:
        frm, params, order = self._query_sql(tenant, spec)
        p = self.placeholder
        total: int | None = None
        with self._reader() as cur:
            if spec.predicate is None:
                if spec.count:
                    cur.execute(f"SELECT count(*) {frm}", params)
                    total = cur.fetchone()[0]
                if spec.limit == 0:
                    return [], total
                cur.execute(
                    f"SELECT e.doc {frm} ORDER BY {order} LIMIT {p} OFFSET {p}",
                    [*params, _bounded(spec.limit), _bounded(spec.offset)],
                )
                return [self._decode(r[0]) for r in cur.fetchall()], total
            cur.execute(f"SELECT e.doc {frm} ORDER BY {order}", params)
            return self._filtered(cur, spec)

    def _filtered(self, cur: Any, spec: QuerySpec) -> tuple[list[dict[str, Any]], int | None]:
        """Page through the rows that pass the Python predicate."""
        pred = spec.predicate
        assert pred is not None
        out: list[dict[str, Any]] = []
        n = 0
        end = spec.offset + spec.limit
        for (raw,) in cur:
            d = self._decode(raw)
            if not pred(d):
                continue
            if spec.offset <= n < end:
                out.append(d)
            n += 1
            if n >= end and not spec.count:
                break
        return out, (n if spec.count else None)

    # --- subscriptions (documents keyed by (tenant, id))
    def sub_get(self, tenant: str, sid: str) -> dict[str, Any] | None:
        p = self.placeholder
        with self._reader() as cur:
            cur.execute(
                f"SELECT doc FROM ngsi_subscription WHERE tenant={p} AND id={p}", (tenant, sid)
            )
            r = cur.fetchone()
        return self._decode(r[0]) if r else None

    def sub_list(self, tenant: str) -> list[dict[str, Any]]:
        p = self.placeholder
        with self._reader() as cur:
            cur.execute(
                f"SELECT doc FROM ngsi_subscription WHERE tenant={p} ORDER BY id", (tenant,)
            )
            rows = cur.fetchall()
        return [self._decode(r[0]) for r in rows]

    # --- hosted @contexts (documents keyed by (tenant, id))
    def context_get(self, tenant: str, cid: str) -> tuple[str, str, Any, float] | None:
        """``(url, kind, doc, created_at)`` of a hosted @context of the tenant, or None."""
        p = self.placeholder
        with self._reader() as cur:
            cur.execute(
                f"SELECT url, kind, doc, created_at FROM ngsi_context WHERE tenant={p} AND id={p}",
                (tenant, cid),
            )
            r = cur.fetchone()
        return (r[0], r[1], self._decode(r[2]), float(r[3])) if r else None

    def context_list(self, tenant: str) -> list[tuple[str, str, str, Any, float]]:
        """``(id, url, kind, doc, created_at)`` of the tenant's hosted @contexts, oldest first."""
        p = self.placeholder
        with self._reader() as cur:
            cur.execute(
                "SELECT id, url, kind, doc, created_at FROM ngsi_context"
                f" WHERE tenant={p} ORDER BY created_at, id",
                (tenant,),
            )
            rows = cur.fetchall()
        return [(r[0], r[1], r[2], self._decode(r[3]), float(r[4])) for r in rows]

    # --- writes
    @contextmanager
    def write(self, tenant: str) -> Iterator[SqlWriteTx]:
        raise NotImplementedError
        yield  # pragma: no cover

    def close(self) -> None:
        raise NotImplementedError


class _Reading:
    """The context manager of ``SqlStore._reader`` (a class: it runs on every read)."""

    __slots__ = ("conn", "cur", "own", "store")

    def __init__(self, store: SqlStore):
        self.store = store

    def __enter__(self) -> Any:
        store = self.store
        tx = getattr(store._local, "tx", None)
        self.own = tx is None
        self.conn = store._take_reader() if tx is None else tx
        try:
            self.cur = self.conn.cursor()
        except BaseException:
            if self.own:
                store._give_reader(self.conn)
            raise
        return self.cur

    def __exit__(self, *exc: object) -> None:
        try:
            self.cur.close()  # ends the statement: the connection keeps no read snapshot
        finally:
            if self.own:
                self.store._give_reader(self.conn)


#: the largest LIMIT/OFFSET both databases take (a 64-bit integer)
MAX_ROWS = 2**63 - 1


def _bounded(n: int) -> int:
    return min(n, MAX_ROWS)


class SqlWriteTx:
    """Writes of one transaction; keeps the index tables and the event table in step."""

    def __init__(self, store: SqlStore, cur: Any, tenant: str):
        self.store = store
        self.cur = cur
        self.tenant = tenant
        self.p = store.placeholder

    def get(self, eid: str) -> tuple[int, dict[str, Any]] | None:
        self.cur.execute(
            f"SELECT pk, doc FROM ngsi_entity WHERE tenant={self.p} AND id={self.p}"
            + self.store.for_update,
            (self.tenant, eid),
        )
        r = self.cur.fetchone()
        return (r[0], self.store._decode(r[1])) if r else None

    def get_many(self, ids: list[str]) -> dict[str, tuple[int, dict[str, Any]]]:
        """The stored entities among ``ids`` (locked for update on PostgreSQL, in id order, so
        that concurrent batches over the same entities queue instead of deadlocking)."""
        out: dict[str, tuple[int, dict[str, Any]]] = {}
        p = self.p
        for chunk in _chunks(sorted(set(ids)), 500):
            self.cur.execute(
                f"SELECT pk, id, doc FROM ngsi_entity WHERE tenant={p} AND id IN"
                f" ({','.join([p] * len(chunk))})" + self.store.for_update,
                (self.tenant, *chunk),
            )
            for pk, eid, doc in self.cur.fetchall():
                out[eid] = (pk, self.store._decode(doc))
        return out

    def insert(self, doc: dict[str, Any]) -> int | None:
        """Insert a new entity with its index rows; None (nothing written) when an entity with
        this id exists, also one committed by a concurrent transaction a moment ago."""
        p = self.p
        self.cur.execute(
            "INSERT INTO ngsi_entity(tenant, id, doc, created_at, modified_at)"
            f" VALUES ({p},{p},{p}{self.store.json_cast},{p},{p})"
            " ON CONFLICT (tenant, id) DO NOTHING RETURNING pk",
            (
                self.tenant,
                doc["id"],
                self.store._encode(doc),
                doc.get("createdAt", ""),
                doc.get("modifiedAt", ""),
            ),
        )
        row = self.cur.fetchone()
        if row is None:
            return None
        pk: int = row[0]
        self._index(pk, doc)
        return pk

    def insert_many(
        self, docs: list[dict[str, Any]], *, events_at: str | None = None
    ) -> list[dict[str, Any]]:
        """Insert new entities (with their 'create' events when ``events_at`` is given); returns
        the documents that were not inserted because their id exists."""
        conflicts = [d for d in docs if self.insert(d) is None]
        if events_at is not None:
            skip = {id(d) for d in conflicts}
            self.events(
                [
                    r
                    for d in docs
                    if id(d) not in skip
                    for r in event_rows(self.tenant, None, d, events_at)
                ]
            )
        return conflicts

    def _index(
        self,
        pk: int,
        doc: dict[str, Any],
        *,
        types: bool = True,
        scope: bool = True,
        geo: bool = True,
    ) -> None:
        """Index rows of one entity (type, scope, geo; those named)."""
        p, t = self.p, self.tenant
        if types:
            self.cur.executemany(
                f"INSERT INTO ngsi_entity_type(tenant, type, entity_pk) VALUES ({p},{p},{p})",
                [(t, ty, pk) for ty in doc.get("type") or []],
            )
        if scope and doc.get("scope"):
            self.cur.executemany(
                f"INSERT INTO ngsi_scope(tenant, scope, entity_pk) VALUES ({p},{p},{p})",
                [(t, s, pk) for s in doc["scope"]],
            )
        if geo and has_geo(doc):
            self._geo_insert(pk, geo_rows(doc))

    def _geo_insert(self, pk: int, rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def _geo_delete(self, pks: list[int]) -> None:
        raise NotImplementedError

    def _unindex(
        self, pks: list[int], *, types: bool = True, scope: bool = True, geo: bool = True
    ) -> None:
        p = self.p
        for chunk in _chunks(pks, 500):
            marks = ",".join([p] * len(chunk))
            if types:
                self.cur.execute(
                    f"DELETE FROM ngsi_entity_type WHERE entity_pk IN ({marks})", chunk
                )
            if scope:
                self.cur.execute(f"DELETE FROM ngsi_scope WHERE entity_pk IN ({marks})", chunk)
            if geo:
                self._geo_delete(chunk)

    def update(self, pk: int, old: dict[str, Any] | None, doc: dict[str, Any]) -> None:
        self.update_many([(pk, old, doc)])

    def update_many(self, rows: list[tuple[int, dict[str, Any] | None, dict[str, Any]]]) -> None:
        p = self.p
        self.cur.executemany(
            f"UPDATE ngsi_entity SET doc={p}{self.store.json_cast}, modified_at={p} WHERE pk={p}",
            [(self.store._encode(d), d.get("modifiedAt", ""), pk) for pk, _, d in rows],
        )
        for pk, old, doc in rows:
            same_types = old is not None and old.get("type") == doc.get("type")
            same_scope = old is not None and old.get("scope") == doc.get("scope")
            same_geo = old is not None and (
                (not has_geo(old) and not has_geo(doc)) or geo_rows(old) == geo_rows(doc)
            )
            if same_types and same_scope and same_geo:
                continue
            changed = {"types": not same_types, "scope": not same_scope, "geo": not same_geo}
            self._unindex([pk], **changed)
            self._index(pk, doc, **changed)

    def delete(self, pk: int) -> None:
        self.delete_many([pk])

    def delete_many(self, pks: list[int]) -> None:
        if not pks:
            return
        self._unindex(pks)
        p = self.p
        for chunk in _chunks(pks, 500):
            self.cur.execute(
                f"DELETE FROM ngsi_entity WHERE pk IN ({','.join([p] * len(chunk))})", chunk
            )

    def sub_insert(self, sid: str, doc: dict[str, Any]) -> bool:
        """Insert a subscription; False if the id exists."""
        p = self.p
        self.cur.execute(
            f"INSERT INTO ngsi_subscription(tenant, id, doc) VALUES ({p},{p},{p}{self.store.json_cast})"
            " ON CONFLICT (tenant, id) DO NOTHING RETURNING 1",
            (self.tenant, sid, self.store._encode(doc)),
        )
        return self.cur.fetchone() is not None

    def sub_update(self, sid: str, doc: dict[str, Any]) -> None:
        p = self.p
        self.cur.execute(
            f"UPDATE ngsi_subscription SET doc={p}{self.store.json_cast} WHERE tenant={p} AND id={p}",
            (self.store._encode(doc), self.tenant, sid),
        )

    def sub_delete(self, sid: str) -> bool:
        p = self.p
        self.cur.execute(
            f"DELETE FROM ngsi_subscription WHERE tenant={p} AND id={p}", (self.tenant, sid)
        )
        deleted: bool = self.cur.rowcount > 0
        return deleted

    def context_insert(self, cid: str, url: str, kind: str, doc: Any, created_at: float) -> None:
        p = self.p
        self.cur.execute(
            "INSERT INTO ngsi_context(tenant, id, url, kind, doc, created_at)"
            f" VALUES ({p},{p},{p},{p},{p}{self.store.json_cast},{p})",
            (self.tenant, cid, url, kind, self.store._encode(doc), created_at),
        )

    def context_delete(self, cid: str) -> bool:
        p = self.p
        self.cur.execute(
            f"DELETE FROM ngsi_context WHERE tenant={p} AND id={p}", (self.tenant, cid)
        )
        deleted: bool = self.cur.rowcount > 0
        return deleted

    def events(self, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            p = self.p
            self.cur.executemany(
                "INSERT INTO ngsi_event(tenant, entity_id, attr, kind, instance, observed_at,"
                f" modified_at) VALUES ({p},{p},{p},{p},{p}{self.store.json_cast},{p},{p})",
                rows,
            )
            record_events(self, rows)


def _chunks(xs: list[Any], n: int) -> Iterable[list[Any]]:
    for i in range(0, len(xs), n):
        yield xs[i : i + n]
