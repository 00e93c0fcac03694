"""Store protocol and the DB-API logic shared by the SQLite and PostgreSQL backends."""

# ruff: noqa: S608 - SQL text from fixed keywords and placeholders; all data is bound
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from ..errors import NonexistentTenant
from ..query.regex import compile_pattern

SCHEMA_VERSION = 1


@dataclass(slots=True)
class QuerySpec:
    """What the service asks of ``Store.query``; SQL fragments use the backend's placeholder."""

    types: list[str] | None = None  # expanded type IRIs, OR-ed (walks the type index)
    ids: list[str] | None = None
    id_pattern: str | None = None
    attrs_any: list[str] | None = None  # at least one of these attributes present
    where: list[tuple[str, list]] = field(default_factory=list)  # extra predicates over e.doc
    predicate: Callable[[dict], bool] | None = None  # exact Python filter over the decoded doc
    bbox: tuple[str, float, float, float, float] | None = None  # (attr, minx, miny, maxx, maxy)
    limit: int = 20
    offset: int = 0
    count: bool = False


class WriteTx(Protocol):
    def get(self, eid: str) -> tuple[int, dict] | None: ...
    def get_many(self, ids: list[str]) -> dict[str, tuple[int, dict]]: ...
    def insert(self, doc: dict) -> int: ...
    def insert_many(self, docs: list[dict], *, events_at: str | None = None) -> None: ...
    def update(self, pk: int, old: dict | None, doc: dict) -> None: ...
    def update_many(self, rows: list[tuple[int, dict | None, dict]]) -> None: ...
    def delete(self, pk: int) -> None: ...
    def delete_many(self, pks: list[int]) -> None: ...
    def sub_insert(self, sid: str, doc: dict) -> bool: ...
    def sub_update(self, sid: str, doc: dict) -> None: ...
    def sub_delete(self, sid: str) -> bool: ...
    def events(self, rows: list[tuple]) -> None: ...


class Store(Protocol):
    dialect: str
    placeholder: str

    def tenant_exists(self, tenant: str) -> bool: ...
    def check_tenant(self, tenant: str) -> None: ...
    def get(self, tenant: str, eid: str) -> dict | None: ...
    def write(self, tenant: str) -> Any: ...  # context manager -> WriteTx
    def query(self, tenant: str, spec: QuerySpec) -> tuple[list[dict], int | None]: ...
    def query_text(self, tenant: str, spec: QuerySpec) -> tuple[list[str], int | None]: ...
    def all_docs(self, tenant: str, types: list[str] | None = None) -> Iterator[dict]: ...
    def entity_types(self, tenant: str) -> list[str]: ...
    def attribute_names(self, tenant: str) -> list[str]: ...
    def sub_get(self, tenant: str, sid: str) -> dict | None: ...
    def sub_list(self, tenant: str) -> list[dict]: ...
    def close(self) -> None: ...


# ------------------------------------------------------------------------------- index rows
def _walk_coords(c: Any, acc: list[float]) -> None:
    if c and isinstance(c[0], (int, float)):
        acc.append(c[0])
        acc.append(c[1])
    else:
        for x in c:
            _walk_coords(x, acc)


def _bbox(g: dict) -> tuple[float, float, float, float] | None:
    acc: list[float] = []
    try:
        if g.get("type") == "GeometryCollection":
            for sub in g.get("geometries") or []:
                b = _bbox(sub)
                if b:
                    acc.extend((b[0], b[1], b[2], b[3]))
        else:
            _walk_coords(g.get("coordinates") or [], acc)
    except (TypeError, IndexError, AttributeError):
        return None
    if not acc:
        return None
    xs, ys = acc[0::2], acc[1::2]
    return (min(xs), min(ys), max(xs), max(ys))


def _local_geo_rows(doc: dict) -> list[tuple[str, float, float, float, float]]:
    rows = []
    for attr, insts in (doc.get("attrs") or {}).items():
        for i in insts:
            if i.get("type") == "GeoProperty":
                b = _bbox(i.get("value") or {})
                if b:
                    rows.append((attr, *b))
    return rows


def geo_rows(doc: dict) -> list[tuple]:
    """(attr, minx, miny, maxx, maxy) for every GeoProperty instance of a stored entity."""
    points = []
    for attr, insts in (doc.get("attrs") or {}).items():
        for i in insts:
            if i.get("type") == "GeoProperty":
                g = i.get("value") or {}
                if g.get("type") != "Point":
                    points = None
                    break
                x, y = g["coordinates"][0], g["coordinates"][1]
                points.append((attr, x, y, x, y))
        if points is None:
            break
    if points is not None:
        return points  # fast path: a point's bbox is the point
    if _query_geo_rows is not None:
        try:
            return [tuple(r) for r in _query_geo_rows(doc)]
        except Exception:  # pragma: no cover - fall back to the local computation
            return _local_geo_rows(doc)
    return _local_geo_rows(doc)


try:  # the query package owns the geo index rows once it is there
    from ..query import geo_index_rows as _query_geo_rows  # type: ignore[attr-defined]
except Exception:  # pragma: no cover
    _query_geo_rows = None


def _has_geo(doc: dict) -> bool:
    for insts in (doc.get("attrs") or {}).values():
        for i in insts:
            if i.get("type") == "GeoProperty":
                return True
    return False


def event_rows(tenant: str, old: dict | None, new: dict | None, now: str) -> list[tuple]:
    """Append-only change events, written in the transaction of the change.

    Rows: (tenant, entity_id, attr, kind, instance_json, observed_at, modified_at).
    A created entity is ONE row (attr '', kind 'create', instance = the whole stored document);
    a deleted entity one row (attr '', kind 'delete'); an update one row per changed attribute
    instance (kind create/update/delete; a deleted instance is ``{"datasetId": ...}`` or ``{}``)
    plus an attr '' row (instance ``{"type": [...], "scope": [...]}``) when types/scope changed.
    """
    eid = (new or old)["id"]
    rows: list[tuple] = []
    if old is None and new is not None:
        rows.append((tenant, eid, "", "create", orjson.dumps(new).decode(), None, now))
        return rows
    if new is None and old is not None:
        rows.append((tenant, eid, "", "delete", None, None, now))
        return rows
    assert old is not None and new is not None
    if _entity_head(old) != _entity_head(new):
        rows.append(
            (tenant, eid, "", "update", orjson.dumps(_entity_head(new)).decode(), None, now)
        )
    oa, na = old.get("attrs") or {}, new.get("attrs") or {}
    dumps = orjson.dumps
    for attr, insts in na.items():
        before = oa.get(attr)
        if before is None or (
            len(before) == 1
            and len(insts) == 1
            and before[0].get("datasetId") == insts[0].get("datasetId")
        ):
            # fast path: a new attribute, or one instance replacing one instance
            if before is not None and before[0] == insts[0]:
                continue
            kind = "create" if before is None else "update"
            for i in insts:
                rows.append((tenant, eid, attr, kind, dumps(i).decode(), i.get("observedAt"), now))
            continue
        if before == insts:
            continue
        bykey = {i.get("datasetId"): i for i in before or []}
        for i in insts:
            b = bykey.pop(i.get("datasetId"), None)
            if b == i:
                continue
            rows.append(
                (
                    tenant,
                    eid,
                    attr,
                    "update" if b is not None else "create",
                    orjson.dumps(i).decode(),
                    i.get("observedAt"),
                    now,
                )
            )
        rows.extend(_deleted(tenant, eid, attr, ds, now) for ds in bykey)
    for attr, insts in oa.items():
        if attr not in na:
            rows.extend(_deleted(tenant, eid, attr, i.get("datasetId"), now) for i in insts)
    return rows


def _deleted(tenant: str, eid: str, attr: str, ds: str | None, now: str) -> tuple:
    """The event row of a deleted attribute instance."""
    return (
        tenant,
        eid,
        attr,
        "delete",
        orjson.dumps({"datasetId": ds} if ds else {}).decode(),
        None,
        now,
    )


def _entity_head(doc: dict) -> dict:
    h = {"type": doc.get("type")}
    if "scope" in doc:
        h["scope"] = doc["scope"]
    return h


# ------------------------------------------------------------------------------- backend base
class SqlStore:
    """DB-API store; subclasses set the dialect details and the connection."""

    dialect = ""
    placeholder = "?"
    json_attr_exists = ""  # format with {p} placeholder: predicate "attribute exists"
    regex_op = ""
    json_cast = ""  # appended to JSON parameters (PostgreSQL: ::jsonb)
    for_update = ""

    ddl = ""  # CREATE … IF NOT EXISTS statements, separated by ";"

    def __init__(self) -> None:
        self._tenants: set[str] = {""}
        self.conn: Any = None
        self.lock = threading.RLock()  # one connection, shared by the threads of a process

    def _create_tables(self) -> None:
        """Create what is missing (idempotent), inside the caller's transaction."""
        c = self.conn
        c.execute(
            "CREATE TABLE IF NOT EXISTS ngsi_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        row = c.execute("SELECT value FROM ngsi_meta WHERE key='schema_version'").fetchone()
        for stmt in self.ddl.split(";"):
            if stmt.strip():
                c.execute(stmt)
        if row is None:
            c.execute(
                f"INSERT INTO ngsi_meta(key, value) VALUES ('schema_version', {self.placeholder})",
                (str(SCHEMA_VERSION),),
            )

    # --- tenants
    def tenant_exists(self, tenant: str) -> bool:
        if tenant in self._tenants:
            return True
        with self.lock:  # the connection is shared by the broker's threads
            cur = self.conn.cursor()
            cur.execute(f"SELECT 1 FROM ngsi_tenant WHERE name={self.placeholder}", (tenant,))
            ok = cur.fetchone() is not None
            self._end_read()
        if ok:
            self._tenants.add(tenant)
        return ok

    def check_tenant(self, tenant: str) -> None:
        if not self.tenant_exists(tenant):
            raise NonexistentTenant(f"tenant {tenant!r} does not exist")

    def tenants(self) -> list[str]:
        with self.lock:
            cur = self.conn.cursor()
            cur.execute("SELECT name FROM ngsi_tenant ORDER BY name")
            out = [r[0] for r in cur.fetchall()]
            self._end_read()
        return out

    def _end_read(self) -> None:
        """Hook: end an implicit read transaction (PostgreSQL)."""

    def _decode(self, v: Any) -> dict:
        return orjson.loads(v) if isinstance(v, (str, bytes)) else v

    def _encode(self, doc: dict) -> Any:
        return orjson.dumps(doc).decode()

    # --- reads
    def get(self, tenant: str, eid: str) -> dict | None:
        p = self.placeholder
        with self.lock:
            cur = self.conn.cursor()
            cur.execute(f"SELECT doc FROM ngsi_entity WHERE tenant={p} AND id={p}", (tenant, eid))
            r = cur.fetchone()
            self._end_read()
        return self._decode(r[0]) if r else None

    def all_docs(self, tenant: str, types: list[str] | None = None) -> Iterator[dict]:
        p = self.placeholder
        with self.lock:
            cur = self.conn.cursor()
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
            self._end_read()
        for (d,) in rows:
            yield self._decode(d)

    attr_keys_sql = ""  # SELECT DISTINCT attribute IRIs of a tenant's entities (one placeholder)

    def _column(self, sql: str, params: tuple) -> list:
        with self.lock:
            cur = self.conn.cursor()
            cur.execute(sql, params)
            out = [r[0] for r in cur.fetchall()]
            self._end_read()
        return out

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

    def _query_sql(self, tenant: str, spec: QuerySpec) -> tuple[str, list]:
        p = self.placeholder
        params: list = []
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
        return f"FROM {frm} WHERE {' AND '.join(conds)}", params, order  # type: ignore[return-value]

    def _bbox_condition(self, tenant: str, bbox: tuple) -> tuple[str, list]:
        raise NotImplementedError

    doc_text = "e.doc"  # SQL for the document as JSON text

    def query_text(self, tenant: str, spec: QuerySpec) -> tuple[list[str], int | None]:
        """Like ``query`` without a Python predicate, returning the documents as JSON text
        (lets callers reuse rendered output for unchanged documents)."""
        assert spec.predicate is None
        with self.lock:
            return self._query_text(tenant, spec)

    def _query_text(self, tenant: str, spec: QuerySpec) -> tuple[list[str], int | None]:
        frm, params, order = self._query_sql(tenant, spec)  # type: ignore[misc]
        cur = self.conn.cursor()
        p = self.placeholder
        total: int | None = None
        if spec.count:
            cur.execute(f"SELECT count(*) {frm}", params)
            total = cur.fetchone()[0]
        if spec.limit == 0:
            self._end_read()
            return [], total
        cur.execute(
            f"SELECT {self.doc_text} {frm} ORDER BY {order} LIMIT {p} OFFSET {p}",
            [*params, spec.limit, spec.offset],
        )
        texts = [r[0] for r in cur.fetchall()]
        self._end_read()
        return texts, total

    def query(self, tenant: str, spec: QuerySpec) -> tuple[list[dict], int | None]:
        with self.lock:
            return self._query(tenant, spec)

    def _query(self, tenant: str, spec: QuerySpec) -> tuple[list[dict], int | None]:
        frm, params, order = self._query_sql(tenant, spec)  # type: ignore[misc]
        cur = self.conn.cursor()
        p = self.placeholder
        total: int | None = None
        if spec.predicate is None:
            if spec.count:
                cur.execute(f"SELECT count(*) {frm}", params)
                total = cur.fetchone()[0]
            if spec.limit == 0:
                self._end_read()
                return [], total
            cur.execute(
                f"SELECT e.doc {frm} ORDER BY {order} LIMIT {p} OFFSET {p}",
                [*params, spec.limit, spec.offset],
            )
            docs = [self._decode(r[0]) for r in cur.fetchall()]
            self._end_read()
            return docs, total
        cur.execute(f"SELECT e.doc {frm} ORDER BY {order}", params)
        pred = spec.predicate
        out: list[dict] = []
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
        self._end_read()
        return out, (n if spec.count else None)

    # --- subscriptions (documents keyed by (tenant, id))
    def sub_get(self, tenant: str, sid: str) -> dict | None:
        p = self.placeholder
        with self.lock:
            cur = self.conn.cursor()
            cur.execute(
                f"SELECT doc FROM ngsi_subscription WHERE tenant={p} AND id={p}", (tenant, sid)
            )
            r = cur.fetchone()
            self._end_read()
        return self._decode(r[0]) if r else None

    def sub_list(self, tenant: str) -> list[dict]:
        p = self.placeholder
        with self.lock:
            cur = self.conn.cursor()
            cur.execute(
                f"SELECT doc FROM ngsi_subscription WHERE tenant={p} ORDER BY id", (tenant,)
            )
            rows = cur.fetchall()
            self._end_read()
        return [self._decode(r[0]) for r in rows]

    # --- writes
    @contextmanager
    def write(self, tenant: str) -> Iterator[SqlWriteTx]:
        raise NotImplementedError
        yield  # pragma: no cover

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class SqlWriteTx:
    """Writes of one transaction; keeps the index tables and the event table in step."""

    def __init__(self, store: SqlStore, cur: Any, tenant: str):
        self.store = store
        self.cur = cur
        self.tenant = tenant
        self.p = store.placeholder

    def get(self, eid: str) -> tuple[int, dict] | None:
        self.cur.execute(
            f"SELECT pk, doc FROM ngsi_entity WHERE tenant={self.p} AND id={self.p}"
            + self.store.for_update,
            (self.tenant, eid),
        )
        r = self.cur.fetchone()
        return (r[0], self.store._decode(r[1])) if r else None

    def get_many(self, ids: list[str]) -> dict[str, tuple[int, dict]]:
        out: dict[str, tuple[int, dict]] = {}
        p = self.p
        for chunk in _chunks(list(dict.fromkeys(ids)), 500):
            self.cur.execute(
                f"SELECT pk, id, doc FROM ngsi_entity WHERE tenant={p} AND id IN"
                f" ({','.join([p] * len(chunk))})" + self.store.for_update,
                (self.tenant, *chunk),
            )
            for pk, eid, doc in self.cur.fetchall():
                out[eid] = (pk, self.store._decode(doc))
        return out

    def insert(self, doc: dict) -> int:
        raise NotImplementedError

    def insert_many(self, docs: list[dict], *, events_at: str | None = None) -> None:
        for d in docs:
            self.insert(d)
        if events_at is not None:
            self.events([r for d in docs for r in event_rows(self.tenant, None, d, events_at)])

    def _index(self, pk: int, doc: dict, *, types=True, scope=True, geo=True) -> None:
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
        if geo and _has_geo(doc):
            self._geo_insert(pk, geo_rows(doc))

    def _geo_insert(self, pk: int, rows: list[tuple]) -> None:
        raise NotImplementedError

    def _geo_delete(self, pks: list[int]) -> None:
        raise NotImplementedError

    def _unindex(self, pks: list[int], *, types=True, scope=True, geo=True) -> None:
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

    def update(self, pk: int, old: dict | None, doc: dict) -> None:
        self.update_many([(pk, old, doc)])

    def update_many(self, rows: list[tuple[int, dict | None, dict]]) -> None:
        p = self.p
        self.cur.executemany(
            f"UPDATE ngsi_entity SET doc={p}{self.store.json_cast}, modified_at={p} WHERE pk={p}",
            [(self.store._encode(d), d.get("modifiedAt", ""), pk) for pk, _, d in rows],
        )
        for pk, old, doc in rows:
            same_types = old is not None and old.get("type") == doc.get("type")
            same_scope = old is not None and old.get("scope") == doc.get("scope")
            same_geo = old is not None and (
                (not _has_geo(old) and not _has_geo(doc)) or geo_rows(old) == geo_rows(doc)
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

    def sub_insert(self, sid: str, doc: dict) -> bool:
        """Insert a subscription; False if the id exists."""
        p = self.p
        self.cur.execute(
            f"SELECT 1 FROM ngsi_subscription WHERE tenant={p} AND id={p}", (self.tenant, sid)
        )
        if self.cur.fetchone():
            return False
        self.cur.execute(
            f"INSERT INTO ngsi_subscription(tenant, id, doc) VALUES ({p},{p},{p}{self.store.json_cast})",
            (self.tenant, sid, self.store._encode(doc)),
        )
        return True

    def sub_update(self, sid: str, doc: dict) -> None:
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
        return self.cur.rowcount > 0

    def events(self, rows: list[tuple]) -> None:
        if rows:
            p = self.p
            self.cur.executemany(
                "INSERT INTO ngsi_event(tenant, entity_id, attr, kind, instance, observed_at,"
                f" modified_at) VALUES ({p},{p},{p},{p},{p}{self.store.json_cast},{p},{p})",
                rows,
            )


def _chunks(xs: list, n: int) -> Iterable[list]:
    for i in range(0, len(xs), n):
        yield xs[i : i + n]
