"""Attribute instances of the temporal API (docs/ngsi-ld.md, "Temporal API").

Every change of an attribute keeps one row in ``ngsi_attr_instance``, written by the store's
write transaction that changes the current state (``record_events`` / ``record_docs``, called
from ``SqlWriteTx.events`` and the bulk inserts), so history and current state never disagree.

Columns: ``seq`` (the instance id is ``urn:ngsi-ld:Instance:<seq>``), tenant, entity id,
expanded attribute name, datasetId ('' for the default instance), ``t`` (the instance's time in
seconds since the epoch: observedAt, else the time of the change), observedAt / createdAt /
modifiedAt as written, ``deleted`` (1: the attribute was deleted at modifiedAt), ``num`` (the
value when it is a number: what SQL aggregates) and ``vtext`` (the value as JSON when it is not a
number: distinctCount), and the stored instance as JSON.

PostgreSQL partitions the table by month of ``t`` (declarative RANGE partitions, created on
demand in a transaction of their own). ``purge`` applies the per-tenant retention
(``ngsi_temporal_setting``; default ``NgsiConfig.temporal_retention_days``) and drops empty
partitions older than the oldest kept row.
"""
# ruff: noqa: S608 - SQL text from fixed keywords and placeholders; all data is bound

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson

INSTANCE_PREFIX = "urn:ngsi-ld:Instance:"

DDL_SQLITE = (
    "CREATE TABLE IF NOT EXISTS ngsi_attr_instance ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " tenant TEXT NOT NULL, entity_id TEXT NOT NULL, attr TEXT NOT NULL,"
    " dataset_id TEXT NOT NULL, t REAL NOT NULL, observed_at TEXT,"
    " created_at TEXT NOT NULL, modified_at TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,"
    " num REAL, vtext TEXT, instance TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ngsi_attr_instance_key"
    " ON ngsi_attr_instance (tenant, entity_id, attr, t)",
    "CREATE TABLE IF NOT EXISTS ngsi_temporal_setting ("
    " tenant TEXT PRIMARY KEY, retention_days REAL)",
    "CREATE TABLE IF NOT EXISTS ngsi_attr_rollup ("
    " tenant TEXT NOT NULL, entity_id TEXT NOT NULL, attr TEXT NOT NULL,"
    " dataset_id TEXT NOT NULL, d INTEGER NOT NULL, n_all INTEGER NOT NULL,"
    " n INTEGER NOT NULL, s REAL, sq REAL, mn REAL, mx REAL,"
    " PRIMARY KEY (tenant, entity_id, attr, dataset_id, d)) WITHOUT ROWID",
)
DDL_POSTGRES = (
    "SELECT pg_advisory_xact_lock(427313)",
    "CREATE TABLE IF NOT EXISTS ngsi_attr_instance ("
    " seq bigserial NOT NULL,"
    " tenant text NOT NULL, entity_id text NOT NULL, attr text NOT NULL,"
    " dataset_id text NOT NULL, t double precision NOT NULL, observed_at text,"
    " created_at text NOT NULL, modified_at text NOT NULL, deleted smallint NOT NULL DEFAULT 0,"
    " num double precision, vtext text, instance text NOT NULL) PARTITION BY RANGE (t)",
    "CREATE INDEX IF NOT EXISTS ngsi_attr_instance_key"
    " ON ngsi_attr_instance (tenant, entity_id, attr, t)",
    "CREATE INDEX IF NOT EXISTS ngsi_attr_instance_seq ON ngsi_attr_instance (seq)",
    "CREATE TABLE IF NOT EXISTS ngsi_temporal_setting ("
    " tenant text PRIMARY KEY, retention_days double precision)",
    "CREATE TABLE IF NOT EXISTS ngsi_attr_rollup ("
    " tenant text NOT NULL, entity_id text NOT NULL, attr text NOT NULL,"
    " dataset_id text NOT NULL, d bigint NOT NULL, n_all bigint NOT NULL,"
    " n bigint NOT NULL, s double precision, sq double precision, mn double precision,"
    " mx double precision, PRIMARY KEY (tenant, entity_id, attr, dataset_id, d))",
)

COLUMNS = (
    "tenant, entity_id, attr, dataset_id, t, observed_at, created_at, modified_at, deleted,"
    " num, vtext, instance"
)

_EPOCH: dict[str, float] = {}


def epoch(ts: str) -> float:
    """Seconds since the epoch of an ISO 8601 date-time (UTC when it names no zone)."""
    v = _EPOCH.get(ts)
    if v is None:
        d = datetime.fromisoformat(ts.replace("Z", "+00:00"))
        if d.tzinfo is None:
            d = d.replace(tzinfo=UTC)
        v = d.timestamp()
        if len(_EPOCH) > 100_000:
            _EPOCH.clear()
        _EPOCH[ts] = v
    return v


def iso(t: float) -> str:
    """An epoch time as ISO 8601 UTC: seconds precision when whole, else milliseconds."""
    d = datetime.fromtimestamp(t, UTC)
    if d.microsecond == 0:
        return d.strftime("%Y-%m-%dT%H:%M:%SZ")
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def canonical(ts: str) -> str:
    """A date-time in the format of the system timestamps (``model.now_iso``), for comparisons
    with createdAt / modifiedAt text."""
    d = datetime.fromtimestamp(epoch(ts), UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


_VALUE = {"Relationship": "object", "LanguageProperty": "languageMap", "ListProperty": "valueList"}
NULL = "urn:ngsi-ld:null"
#: the value member of a deleted attribute's marker instance, by attribute type
_DELETED = {
    "Property": ("value", NULL),
    "GeoProperty": ("value", NULL),
    "Relationship": ("object", NULL),
    "LanguageProperty": ("languageMap", {"@none": NULL}),
    "ListProperty": ("valueList", [NULL]),
    "ListRelationship": ("objectList", [{"object": NULL}]),
    "JsonProperty": ("json", NULL),
    "VocabProperty": ("vocab", NULL),
}


def instance_row(
    tenant: str,
    eid: str,
    attr: str,
    inst: dict[str, Any],
    text: str | None,
    now: str,
    *,
    deleted: bool = False,
) -> tuple[Any, ...]:
    """The row of one attribute instance (``text``: its JSON when already encoded)."""
    obs = inst.get("observedAt")
    t = epoch(obs) if obs else epoch(now)
    num = None
    vtext = None
    if not deleted:
        member = _VALUE.get(inst.get("type", "Property"), "value")
        v = inst.get(member)
        if type(v) is int or type(v) is float:
            num = float(v)
        elif v is not None:
            vtext = orjson.dumps(v).decode()
    return (
        tenant,
        eid,
        attr,
        inst.get("datasetId") or "",
        t,
        obs,
        now,
        now,
        1 if deleted else 0,
        num,
        vtext,
        text if text is not None else orjson.dumps(inst).decode(),
    )


def doc_rows(tenant: str, doc: dict[str, Any], now: str) -> list[tuple[Any, ...]]:
    """Rows of every attribute instance of a (new) stored entity."""
    eid = doc["id"]
    return [
        instance_row(tenant, eid, attr, i, None, now)
        for attr, insts in (doc.get("attrs") or {}).items()
        for i in insts or ()
    ]


def rows_of_events(rows: Iterable[tuple[Any, ...]]) -> tuple[list[tuple[Any, ...]], list[str]]:
    """Instance rows of change events ``(tenant, entity_id, attr, kind, instance, observed_at,
    modified_at)``, and the ids of entities deleted from the current state (their temporal
    representation goes with them, as the ETSI suite expects)."""
    out: list[tuple[Any, ...]] = []
    gone: list[str] = []
    loads = orjson.loads
    for tenant, eid, attr, kind, text, _obs, now in rows:
        if attr == "":
            if kind == "create":
                out.extend(doc_rows(tenant, loads(text), now))
            elif kind == "delete":
                gone.append(eid)
            continue
        if kind == "delete":
            ds = loads(text).get("datasetId") if text else None
            inst: dict[str, Any] = {"type": "Property", "value": NULL}
            if ds:
                inst["datasetId"] = ds
            out.append(instance_row(tenant, eid, attr, inst, None, now, deleted=True))
        else:
            out.append(instance_row(tenant, eid, attr, loads(text), text, now))
    return out, gone


# ------------------------------------------------------------------------------------ writes
def write_rows(tx: Any, rows: list[tuple[Any, ...]]) -> None:
    """Insert instance rows in the transaction ``tx`` (a ``SqlWriteTx``), and add them to the
    daily roll-ups."""
    if not rows:
        return
    add_rollups(tx, rows)
    store = tx.store
    if store.dialect == "postgresql":
        ensure_partitions(store, {r[4] for r in rows}, tx.cur)
        if len(rows) >= 16:
            with tx.cur.copy(f"COPY ngsi_attr_instance ({COLUMNS}) FROM STDIN") as cp:
                for r in rows:
                    cp.write_row(r)
            return
    p = store.placeholder
    tx.cur.executemany(
        f"INSERT INTO ngsi_attr_instance ({COLUMNS}) VALUES ({','.join([p] * 12)})", rows
    )


def delete_entities(tx: Any, ids: list[str]) -> None:
    p = tx.store.placeholder
    for n in range(0, len(ids), 500):
        chunk = ids[n : n + 500]
        for table in ("ngsi_attr_instance", "ngsi_attr_rollup"):
            tx.cur.execute(
                f"DELETE FROM {table} WHERE tenant={p} AND entity_id IN"
                f" ({','.join([p] * len(chunk))})",
                (tx.tenant, *chunk),
            )


def replace_same_time(tx: Any, rows: list[tuple[Any, ...]]) -> set[tuple[str, str, int]]:
    """Delete the stored instances that new instance rows replace: same entity, attribute,
    datasetId and observedAt. Returns the (entity, attribute, day) roll-ups to rebuild."""
    p = tx.store.placeholder
    groups: dict[tuple[str, str, str], list[float]] = {}
    for r in rows:
        if r[5] is not None:  # only instances with an observedAt
            groups.setdefault((r[1], r[2], r[3]), []).append(r[4])
    rebuild: set[tuple[str, str, int]] = set()
    for (eid, attr, ds), times in groups.items():
        uniq = sorted(set(times))
        for n in range(0, len(uniq), 500):
            chunk = uniq[n : n + 500]
            where = (
                f"tenant={p} AND entity_id={p} AND attr={p} AND dataset_id={p}"
                f" AND observed_at IS NOT NULL AND t IN ({','.join([p] * len(chunk))})"
            )
            args = (tx.tenant, eid, attr, ds, *chunk)
            tx.cur.execute(f"SELECT DISTINCT t FROM ngsi_attr_instance WHERE {where}", args)
            found = [float(x[0]) for x in tx.cur.fetchall()]
            if found:
                tx.cur.execute(f"DELETE FROM ngsi_attr_instance WHERE {where}", args)
                rebuild.update((eid, attr, int(t // DAY) * DAY) for t in found)
    return rebuild


# ------------------------------------------------------------------------------ roll-ups
#: the span of a roll-up row (seconds): one row per attribute instance series and UTC day
DAY = 86400


def add_rollups(tx: Any, rows: list[tuple[Any, ...]]) -> None:
    """Add instance rows to ``ngsi_attr_rollup`` (count, numeric count, sum, sum of squares,
    min, max per series and day), grouped in Python first: one upsert per series and day."""
    acc: dict[tuple[str, str, str, str, int], list[Any]] = {}
    for r in rows:
        if r[8]:  # a deleted-attribute marker is no value
            continue
        key = (r[0], r[1], r[2], r[3], int(r[4] // DAY) * DAY)
        a = acc.get(key)
        if a is None:
            a = acc[key] = [0, 0, None, None, None, None]
        a[0] += 1
        v = r[9]
        if v is not None:
            a[1] += 1
            a[2] = v if a[2] is None else a[2] + v
            a[3] = v * v if a[3] is None else a[3] + v * v
            a[4] = v if a[4] is None else min(a[4], v)
            a[5] = v if a[5] is None else max(a[5], v)
    if not acc:
        return
    p = tx.store.placeholder
    if tx.store.dialect == "postgresql":
        lo, hi = "least", "greatest"
    else:
        lo, hi = "min", "max"
    t = "ngsi_attr_rollup"
    tx.cur.executemany(
        f"INSERT INTO {t} (tenant, entity_id, attr, dataset_id, d, n_all, n, s, sq, mn, mx)"
        f" VALUES ({','.join([p] * 11)}) ON CONFLICT (tenant, entity_id, attr, dataset_id, d)"
        f" DO UPDATE SET n_all = {t}.n_all + excluded.n_all, n = {t}.n + excluded.n,"
        f" s = coalesce({t}.s + excluded.s, {t}.s, excluded.s),"
        f" sq = coalesce({t}.sq + excluded.sq, {t}.sq, excluded.sq),"
        f" mn = coalesce({lo}({t}.mn, excluded.mn), {t}.mn, excluded.mn),"
        f" mx = coalesce({hi}({t}.mx, excluded.mx), {t}.mx, excluded.mx)",
        [(*k, *a) for k, a in acc.items()],
    )


def rebuild_rollups(tx: Any, eid: str, attr: str | None, days: Iterable[int] | None) -> None:
    """Compute the roll-ups of an entity (an attribute, some days) again from the instances,
    after instances were changed or deleted."""
    p = tx.store.placeholder
    conds = [f"tenant={p}", f"entity_id={p}"]
    args: list[Any] = [tx.tenant, eid]
    if attr is not None:
        conds.append(f"attr={p}")
        args.append(attr)
    dl = sorted(set(days)) if days is not None else None
    where_r = " AND ".join(conds)
    if dl is not None:
        where_r += f" AND d IN ({','.join([p] * len(dl))})"
    tx.cur.execute(f"DELETE FROM ngsi_attr_rollup WHERE {where_r}", [*args, *(dl or [])])
    day = f"CAST(floor(t / {DAY}) AS BIGINT) * {DAY}"
    where_i = " AND ".join(conds) + " AND deleted = 0"
    if dl is not None:
        where_i += f" AND {day} IN ({','.join([p] * len(dl))})"
    tx.cur.execute(
        "INSERT INTO ngsi_attr_rollup (tenant, entity_id, attr, dataset_id, d, n_all, n, s, sq,"
        f" mn, mx) SELECT tenant, entity_id, attr, dataset_id, {day} AS dd, count(*), count(num),"
        " sum(num), sum(num * num), min(num), max(num) FROM ngsi_attr_instance"
        f" WHERE {where_i} GROUP BY tenant, entity_id, attr, dataset_id, dd",
        [*args, *(dl or [])],
    )


def record_events(tx: Any, rows: list[tuple[Any, ...]]) -> None:
    """Keep the attribute instances of these change events (unless the transaction writes its
    instances itself: ``tx.temporal_manual``)."""
    if getattr(tx, "temporal_manual", False):
        return
    inst, gone = rows_of_events(rows)
    if any(r[8] for r in inst):
        inst = [_typed_marker(tx, r) if r[8] else r for r in inst]
    if gone:
        delete_entities(tx, gone)
    write_rows(tx, inst)


def _typed_marker(tx: Any, row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A deleted-attribute marker with the type of the attribute's latest instance."""
    p = tx.store.placeholder
    tx.cur.execute(
        f"SELECT instance FROM ngsi_attr_instance WHERE tenant={p} AND entity_id={p} AND"
        f" attr={p} AND dataset_id={p} AND deleted = 0 ORDER BY t DESC, seq DESC LIMIT 1",
        (row[0], row[1], row[2], row[3]),
    )
    r = tx.cur.fetchone()
    t = orjson.loads(r[0]).get("type", "Property") if r else "Property"
    member, value = _DELETED.get(t, ("value", NULL))
    inst: dict[str, Any] = {"type": t, member: value}
    if row[3]:
        inst["datasetId"] = row[3]
    return (*row[:11], orjson.dumps(inst).decode())


def record_docs(tx: Any, docs: Iterable[dict[str, Any]], now: str) -> None:
    """Keep the attribute instances of newly created entities."""
    if getattr(tx, "temporal_manual", False):
        return
    write_rows(tx, [r for d in docs for r in doc_rows(tx.tenant, d, now)])


# ------------------------------------------------------------------- PostgreSQL partitions
_MONTHS_LOCK = threading.Lock()


def _known(store: Any) -> set[tuple[int, int]]:
    known: set[tuple[int, int]] = store.__dict__.setdefault("_temporal_months", set())
    return known


def _month(t: float) -> tuple[int, int]:
    d = datetime.fromtimestamp(t, UTC)
    return d.year, d.month


def month_bounds(y: int, m: int) -> tuple[float, float]:
    start = datetime(y, m, 1, tzinfo=UTC).timestamp()
    end = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=UTC).timestamp()
    return start, end


def partition_name(y: int, m: int) -> str:
    return f"ngsi_attr_instance_p{y:04d}{m:02d}"


def _partition_ddl(y: int, m: int) -> str:
    start, end = month_bounds(y, m)
    return (
        f"CREATE TABLE IF NOT EXISTS {partition_name(y, m)} PARTITION OF"
        f" ngsi_attr_instance FOR VALUES FROM ({start!r}) TO ({end!r})"
    )


def ensure_partitions(store: Any, times: Iterable[float], cur: Any = None) -> None:
    """Create the monthly partitions these times fall in. Without ``cur``: each in a short
    transaction of its own on a connection of its own; the caller holds no transaction (the
    temporal API calls it before its write; the store at start for this month and the next).
    With ``cur`` (a write that meets a month nobody prepared): inside that transaction; its
    lock on the parent is taken by the database, so a conflict is a detected deadlock
    (``TransientConflict``, the write is retried), never a wait on ourselves."""
    known = _known(store)
    want = {_month(t) for t in times} - known
    if not want:
        return
    with _MONTHS_LOCK:
        for y, m in sorted(want - known):
            if cur is None:
                store.run_ddl(["SELECT pg_advisory_xact_lock(427314)", _partition_ddl(y, m)])
            else:
                cur.execute("SELECT pg_advisory_xact_lock(427314)")
                cur.execute(_partition_ddl(y, m))
            known.add((y, m))


def forget_partitions(store: Any) -> None:
    """Forget the partitions this store knows (after its schema was dropped: tests)."""
    with _MONTHS_LOCK:
        _known(store).clear()


# ------------------------------------------------------------------------------- retention
def set_retention(store: Any, tenant: str, days: float | None) -> None:
    """The tenant's retention in days (None: the configured default)."""
    p = store.placeholder
    with store.write(tenant) as tx:
        tx.cur.execute(f"DELETE FROM ngsi_temporal_setting WHERE tenant={p}", (tenant,))
        if days is not None:
            tx.cur.execute(
                f"INSERT INTO ngsi_temporal_setting(tenant, retention_days) VALUES ({p},{p})",
                (tenant, float(days)),
            )


def get_retention(store: Any, tenant: str, default: float) -> float:
    p = store.placeholder
    with store.reading() as cur:
        cur.execute(f"SELECT retention_days FROM ngsi_temporal_setting WHERE tenant={p}", (tenant,))
        r = cur.fetchone()
    return float(r[0]) if r and r[0] is not None else default


def purge(store: Any, default_days: float, now: float | None = None) -> int:
    """Delete the instances older than each tenant's retention (0 or less: keep forever);
    on PostgreSQL drop monthly partitions that are left empty. Returns the rows deleted."""
    import time

    now = time.time() if now is None else now
    deleted = 0
    for tenant in sorted({"", *store.tenants()}):  # the default tenant is never recorded
        days = get_retention(store, tenant, default_days)
        if days <= 0:
            continue
        cutoff = (now - days * 86400) // DAY * DAY  # whole days: the roll-ups stay exact
        p = store.placeholder
        with store.write(tenant) as tx:
            tx.cur.execute(
                f"DELETE FROM ngsi_attr_rollup WHERE tenant={p} AND d < {p}", (tenant, cutoff)
            )
        while True:  # in chunks: no transaction holds the write lock for long
            with store.write(tenant) as tx:
                tx.cur.execute(
                    f"DELETE FROM ngsi_attr_instance WHERE seq IN (SELECT seq FROM"
                    f" ngsi_attr_instance WHERE tenant={p} AND t < {p} LIMIT 10000)",
                    (tenant, cutoff),
                )
                n = tx.cur.rowcount
            deleted += max(n, 0)
            if n < 10000:
                break
    if store.dialect == "postgresql":
        _drop_empty_partitions(store, now)
    return deleted


def _drop_empty_partitions(store: Any, now: float) -> None:
    with store.reading() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'ngsi_attr_instance'"
            " AND p.relnamespace = c.relnamespace AND p.relnamespace = ("
            " SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
        )
        names = [r[0] for r in cur.fetchall()]
    current = partition_name(*_month(now))
    for name in sorted(names):
        if not name.startswith("ngsi_attr_instance_p") or name >= current:
            continue
        with store.reading() as cur:
            cur.execute(f"SELECT 1 FROM {name} LIMIT 1")
            empty = cur.fetchone() is None
        if empty:
            store.run_ddl(["SELECT pg_advisory_xact_lock(427314)", f"DROP TABLE IF EXISTS {name}"])
            with _MONTHS_LOCK:
                _known(store).discard((int(name[-6:-2]), int(name[-2:])))
