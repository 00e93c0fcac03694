"""Temporal API use cases (ETSI GS CIM 009 5.6.11-5.6.16, 5.7.3, 5.7.4): the temporal
representation of entities, kept as attribute instances (``storage/temporal.py``).

A temporal entity is an entity of the current state with its attribute instances: creating one
through the temporal API creates (or updates) the entity in the current state with the latest
instance of each attribute; deleting it deletes both. In-process callers (the district pages)
call ``retrieve_temporal`` / ``query_temporal`` / ``append_temporal_attrs`` like the other use
cases, with a ``TemporalParams`` built directly.
"""
# ruff: noqa: S608 - SQL text from fixed keywords and placeholders; all data is bound

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, cast

import orjson

from . import model, queries
from .broker import (
    NO_CONTENT,
    Broker,
    Kind,
    Req,
    Result,
    body_object,
    check_entity_id,
    check_types,
    location_header,
    render_options,
    visible,
)
from .config import NgsiConfig
from .edits import finish_new
from .errors import AlreadyExists, BadRequestData, InvalidRequest, ResourceNotFound
from .jsonld import Context
from .model import RenderOptions
from .model.render import _render_instance, _simplified_value
from .ops_query import _sort_docs
from .params import (
    EntityQuery,
    GeoQuery,
    Paging,
    Params,
    RetrieveOptions,
    parse_names,
    parse_order_by,
)
from .storage import event_rows
from .storage.temporal import (
    DAY,
    INSTANCE_PREFIX,
    canonical,
    ensure_partitions,
    epoch,
    instance_row,
    iso,
    rebuild_rollups,
    replace_same_time,
    write_rows,
)

AGGR_METHODS = ("totalCount", "distinctCount", "sum", "avg", "min", "max", "stddev", "sumsq")
TIME_PROPERTIES = ("observedAt", "createdAt", "modifiedAt", "deletedAt")
_TEMPORAL_OPTIONS = frozenset(
    (
        "temporalValues",
        "aggregatedValues",
        "sysAttrs",
        "keyValues",
        "simplified",
        "normalized",
        "concise",
    )
)
_DURATION = re.compile(
    r"^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)
#: seconds of the units of an ISO 8601 duration (a month is 30 days, a year 365 days)
_UNITS = (365 * 86400, 30 * 86400, 7 * 86400, 86400, 3600, 60, 1)


def parse_duration(raw: str) -> float:
    """Seconds of an ISO 8601 duration (``PT1H``, ``P1D``, ``P1M`` = 30 days; ``PT0S``: 0)."""
    m = _DURATION.match(raw)
    if m is None or raw in ("P", "PT") or raw.endswith("T"):
        raise BadRequestData(f"aggrPeriodDuration is not an ISO 8601 duration: {raw!r}")
    return sum(float(g) * u for g, u in zip(m.groups(), _UNITS, strict=True) if g)


@dataclass(frozen=True, slots=True)
class TimeQuery:
    """timerel/timeAt/endTimeAt/timeproperty/lastN."""

    timerel: str | None = None  # before | after | between
    time_at: str | None = None
    end_time_at: str | None = None
    timeproperty: str = "observedAt"
    last_n: int | None = None

    @classmethod
    def parse(cls, p: Params) -> TimeQuery:
        rel = p.get("timerel")
        at, end = p.get("timeAt"), p.get("endTimeAt")
        if rel is not None and rel not in ("before", "after", "between"):
            raise BadRequestData(f"timerel must be before, after or between, not {rel!r}")
        if rel is not None and at is None:
            raise BadRequestData("timerel needs timeAt")
        if rel is None and (at is not None or end is not None):
            raise BadRequestData("timeAt and endTimeAt need timerel")
        if rel == "between" and end is None:
            raise BadRequestData("timerel=between needs endTimeAt")
        if rel != "between" and end is not None:
            raise BadRequestData("endTimeAt is only allowed with timerel=between")
        if at is not None:
            model.check_datetime(at, "timeAt")
        if end is not None:
            model.check_datetime(end, "endTimeAt")
            assert at is not None
            if epoch(end) <= epoch(at):
                raise BadRequestData("endTimeAt must be after timeAt")
        tp = p.get("timeproperty", p.get("timeProperty", "observedAt"))
        if tp not in TIME_PROPERTIES:
            raise BadRequestData(f"timeproperty must be one of {', '.join(TIME_PROPERTIES)}")
        last_n = None
        if "lastN" in p:
            try:
                last_n = int(p["lastN"])
            except ValueError:
                raise BadRequestData("lastN must be a positive integer") from None
            if last_n < 1:
                raise BadRequestData("lastN must be a positive integer")
        return cls(rel, at, end, tp, last_n)


@dataclass(frozen=True, slots=True)
class TemporalParams:
    """The parameters of a temporal retrieve or query."""

    time: TimeQuery = field(default_factory=TimeQuery)
    render: RetrieveOptions = field(default_factory=RetrieveOptions)
    temporal_values: bool = False
    aggregated: bool = False
    aggr_methods: tuple[str, ...] = ()
    aggr_period: float = 0.0  # seconds; 0: one period over the whole time range
    query: EntityQuery | None = None  # the entities of a query (None: retrieve)
    order_by: tuple[tuple[tuple[str, ...], bool], ...] | None = None
    paging: Paging = field(default_factory=lambda: Paging(20))
    max_instances: int = 10_000

    @classmethod
    def parse_retrieve(cls, p: Params, config: NgsiConfig) -> TemporalParams:
        return cls._parse(p, config, None)

    @classmethod
    def parse_query(cls, p: Params, config: NgsiConfig) -> TemporalParams:
        has_filter = any(k in p for k in ("type", "idPattern", "attrs", "q", "georel", "scopeQ"))
        # an id list alone is not a query (ETSI 021_24); local=true lists everything
        if not has_filter and p.get("local") != "true":
            raise BadRequestData(
                "a temporal query needs at least one of type, idPattern, attrs, q, geoQ,"
                " scopeQ (or local=true)"
            )
        return cls._parse(p, config, EntityQuery.parse(p))

    @classmethod
    def _parse(cls, p: Params, config: NgsiConfig, query: EntityQuery | None) -> TemporalParams:
        raw = p.get("options")
        options: set[str] = set()
        if raw is not None:
            for o in raw.split(","):
                o = o.strip()
                if o not in _TEMPORAL_OPTIONS:
                    raise InvalidRequest(f"invalid option {o!r}")
                options.add(o)
        fmt = p.get("format")
        if fmt is not None:
            if fmt not in ("temporalValues", "aggregatedValues", "normalized", "simplified"):
                raise InvalidRequest(f"invalid format {fmt!r}")
            options -= {"temporalValues", "aggregatedValues", "normalized", "simplified"}
            options.add(fmt)
        if "simplified" in options or "keyValues" in options:
            options -= {"simplified", "keyValues"}
            options.add("temporalValues")
        tv, ag = "temporalValues" in options, "aggregatedValues" in options
        if tv and ag:
            raise BadRequestData("temporalValues and aggregatedValues cannot be combined")
        methods: tuple[str, ...] = ()
        period = 0.0
        if ag:
            mraw = p.get("aggrMethods")
            if not mraw:
                raise BadRequestData("aggregatedValues needs aggrMethods")
            methods = tuple(m.strip() for m in mraw.split(",") if m.strip())
            for m in methods:
                if m not in AGGR_METHODS:
                    raise BadRequestData(f"unknown aggregation method {m!r}")
            if "aggrPeriodDuration" in p:
                period = parse_duration(p["aggrPeriodDuration"])
        elif "aggrPeriodDuration" in p:
            parse_duration(p["aggrPeriodDuration"])  # checked, though it has no effect
        q = dict(p)
        q.pop("options", None)
        q.pop("format", None)
        render = RetrieveOptions.parse(q)
        if render.attrs is None and p.get("attrs") is not None:
            parse_names(p, "attrs")
        paging = Paging.parse(p, config) if query is not None else Paging(1)
        order_by = parse_order_by(p.get("orderBy")) if query is not None else None
        return cls(
            time=TimeQuery.parse(p),
            render=replace(render, options=frozenset(options & {"sysAttrs"})),
            temporal_values=tv,
            aggregated=ag,
            aggr_methods=methods,
            aggr_period=period,
            query=query,
            paging=paging,
            order_by=order_by,
            max_instances=max(1, config.temporal_max_instances),
        )

    @classmethod
    def parse_post(cls, p: Params, config: NgsiConfig) -> TemporalParams:
        """URL parameters of POST /temporal/entityOperations/query (the Query is the body)."""
        return cls._parse(p, config, EntityQuery())


# ----------------------------------------------------------------------------- reading
@dataclass(slots=True)
class _Row:
    entity_id: str
    attr: str
    seq: int
    t: float
    observed_at: str | None
    created_at: str
    modified_at: str
    deleted: int
    instance: str
    time: Any = None  # the value of the requested time property (float or text)


def _time_sql(tp: str) -> str:
    return "t" if tp == "observedAt" else ("created_at" if tp == "createdAt" else "modified_at")


def _bound(tp: str, ts: str) -> Any:
    return epoch(ts) if tp == "observedAt" else canonical(ts)


def _series_conds(
    store: Any,
    tenant: str,
    ids: list[str],
    attrs: frozenset[str] | None,
    datasets: frozenset[str] | None,
) -> tuple[list[str], list[Any]]:
    """The conditions (and their arguments) that pick the series: tenant, entities, attributes and
    datasetIds — shared by the instance and the roll-up queries."""
    p = store.placeholder
    conds = [f"tenant = {p}", f"entity_id IN ({','.join([p] * len(ids))})"]
    args: list[Any] = [tenant, *ids]
    if attrs is not None:
        conds.append(f"attr IN ({','.join([p] * len(attrs))})")
        args += sorted(attrs)
    if datasets is not None:
        ds = sorted("" if d == "@none" else d for d in datasets)
        conds.append(f"dataset_id IN ({','.join([p] * len(ds))})")
        args += ds
    return conds, args


def _where(
    store: Any,
    tenant: str,
    ids: list[str],
    attrs: frozenset[str] | None,
    tq: TimeQuery,
    datasets: frozenset[str] | None,
) -> tuple[str, list[Any]]:
    p = store.placeholder
    conds, args = _series_conds(store, tenant, ids, attrs, datasets)
    col = _time_sql(tq.timeproperty)
    if tq.timeproperty == "deletedAt":
        conds.append("deleted = 1")
    if tq.timerel is not None and tq.time_at is not None:
        at = _bound(tq.timeproperty, tq.time_at)
        if tq.timerel == "before":
            conds.append(f"{col} < {p}")
            args.append(at)
        elif tq.timerel == "after":
            conds.append(f"{col} >= {p}")
            args.append(at)
        else:
            assert tq.end_time_at is not None
            conds.append(f"{col} >= {p} AND {col} < {p}")
            args += [at, _bound(tq.timeproperty, tq.end_time_at)]
    return " AND ".join(conds), args


def fetch_instances(
    store: Any,
    tenant: str,
    ids: list[str],
    attrs: frozenset[str] | None,
    tq: TimeQuery,
    datasets: frozenset[str] | None,
    cap: int,
) -> list[_Row]:
    """The instances of these entities (each attribute's first ``cap + 1`` in time order, or
    its last ones with lastN), ascending in time."""
    if not ids:
        return []
    where, args = _where(store, tenant, ids, attrs, tq, datasets)
    col = _time_sql(tq.timeproperty)
    desc = " DESC" if tq.last_n is not None else ""
    sql = (
        "SELECT entity_id, attr, seq, t, observed_at, created_at, modified_at, deleted, instance,"
        f" {col} FROM (SELECT *, row_number() OVER (PARTITION BY entity_id, attr ORDER BY {col}"
        f"{desc}, seq{desc}) AS rn FROM ngsi_attr_instance WHERE {where}) AS x"
        f" WHERE rn <= {store.placeholder} ORDER BY entity_id, attr, {col}, seq"
    )
    with store.reading() as cur:
        cur.execute(sql, [*args, cap + 1])
        rows = cur.fetchall()
    return [_Row(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9]) for r in rows]


def _cut(
    rows: list[_Row], cap: int, last_n: bool
) -> tuple[list[_Row], Any | None, set[tuple[str, str]]]:
    """Apply the per-attribute limit: the response's time range ends where the first
    attribute with more instances than ``cap`` is cut, and every attribute of every entity is
    cut there, so nothing inside the one range of the response is missing. Returns the kept
    rows, the cut (None: nothing to cut) and the attributes left without instances."""
    by: dict[tuple[str, str], list[_Row]] = {}
    for r in rows:
        by.setdefault((r.entity_id, r.attr), []).append(r)
    cut: Any = None
    for lst in by.values():
        if len(lst) > cap:
            if last_n:
                edge = lst[len(lst) - cap].time  # the oldest kept (rows are ascending)
                cut = edge if cut is None else max(cut, edge)
            else:
                edge = lst[cap - 1].time
                cut = edge if cut is None else min(cut, edge)
    if cut is None:
        return rows, None, set()
    kept = [r for r in rows if (r.time >= cut if last_n else r.time <= cut)]
    left = {(r.entity_id, r.attr) for r in kept}
    return kept, cut, set(by) - left


def _time_text(v: Any) -> str:
    return iso(v) if isinstance(v, float) else str(v)


# ----------------------------------------------------------------------------- rendering
_TV_MEMBER = {
    "Property": "values",
    "GeoProperty": "values",
    "Relationship": "objects",
    "LanguageProperty": "languageMaps",
    "ListProperty": "valueLists",
    "ListRelationship": "objectLists",
    "JsonProperty": "jsons",
    "VocabProperty": "vocabs",
}


def _instance_out(r: _Row, ctx: Context, ro: RenderOptions) -> dict[str, Any]:
    inst = orjson.loads(r.instance)
    out = cast("dict[str, Any]", _render_instance(inst, ctx, ro))
    out.pop("createdAt", None)
    out.pop("modifiedAt", None)
    out["instanceId"] = INSTANCE_PREFIX + str(r.seq)
    if ro.sys_attrs:
        out["createdAt"] = r.created_at
        out["modifiedAt"] = r.modified_at
    if r.deleted:
        out["deletedAt"] = r.modified_at
    return out


_KV = RenderOptions(key_values=True)


def _tv_value(inst: dict[str, Any], ctx: Context) -> Any:
    t = inst.get("type", "Property")
    if t == "Property":
        return inst.get("value")
    if t == "LanguageProperty":
        return {"languageMap": inst.get("languageMap")}
    if t == "JsonProperty":
        return {"json": inst.get("json")}
    if t == "VocabProperty":
        v = inst.get("vocab", "")
        return {"vocab": [ctx.compact(x) for x in v] if isinstance(v, list) else ctx.compact(v)}
    return _simplified_value(inst, ctx, _KV)


def _render_attr(rows: list[_Row], ctx: Context, ro: RenderOptions, tv: bool, tp: str) -> Any:
    if not rows:  # all its instances lie beyond the response's time range
        return {"type": "Property", "values": []} if tv else []
    if not tv:
        return [_instance_out(r, ctx, ro) for r in rows]
    groups: dict[str, list[tuple[_Row, dict[str, Any]]]] = {}
    loads = orjson.loads
    for r in rows:
        inst = loads(r.instance)  # decoded once
        groups.setdefault(inst.get("datasetId", ""), []).append((r, inst))
    out = []
    for ds, lst in groups.items():
        t = lst[0][1].get("type", "Property")
        member = _TV_MEMBER.get(t, "values")
        o: dict[str, Any] = {
            "type": t,
            member: [[_tv_value(inst, ctx), _tv_time(r, tp)] for r, inst in lst],
        }
        if ds:
            o["datasetId"] = ds
        out.append(o)
    return out[0] if len(out) == 1 else out


def _tv_time(r: _Row, tp: str) -> str:
    if tp == "observedAt":
        return r.observed_at or r.modified_at
    if tp == "createdAt":
        return r.created_at
    return r.modified_at


def _entity_head(doc: dict[str, Any], ctx: Context, ro: RenderOptions) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if ro.pick_id:
        out["id"] = doc["id"]
    if ro.pick_type:
        types = doc.get("type") or []
        out["type"] = ctx.compact(types[0]) if len(types) == 1 else [ctx.compact(t) for t in types]
    if ro.pick_scope and "scope" in doc and (ro.attrs is None or "scope" in ro.attrs):
        sc = doc["scope"]
        out["scope"] = sc[0] if len(sc) == 1 else sc
    if ro.sys_attrs:
        for k in ("createdAt", "modifiedAt"):
            if k in doc:
                out[k] = doc[k]
    return out


def _selected_attrs(ro: RenderOptions) -> frozenset[str] | None:
    if ro.attrs is not None:
        return frozenset(a for a in ro.attrs if a != "scope")
    return None


def _keep_attr(attr: str, ro: RenderOptions) -> bool:
    return ro.omit is None or attr not in ro.omit


def _build(
    broker: Broker,
    req: Req,
    docs: list[dict[str, Any]],
    params: TemporalParams,
) -> tuple[list[dict[str, Any]], list[tuple[bytes, bytes]], set[str]]:
    """The temporal representation of these entities, the extra headers, and the ids of the
    entities with matching instances."""
    assert req.ctx is not None
    ctx = req.ctx
    ro = render_options(params.render, ctx)
    attrs = _selected_attrs(ro)
    ids = [d["id"] for d in docs]
    tq = params.time
    headers: list[tuple[bytes, bytes]] = []
    if params.aggregated and not (attrs is not None and not attrs):
        per = aggregate(broker.store, req.tenant, ids, attrs, tq, ro.dataset_id, params)
        found = set(per)
        out = []
        for d in docs:
            e = _entity_head(d, ctx, ro)
            for attr, value in per.get(d["id"], {}).items():
                if _keep_attr(attr, ro):
                    e[ctx.compact(attr)] = value
            out.append(e)
        return out, headers, found
    cap = params.max_instances
    if tq.last_n is not None and tq.last_n <= cap:
        cap, limited = tq.last_n, False
    else:
        limited = True
    if attrs is not None and not attrs:  # pick/attrs of core members only: no instances
        return [_entity_head(d, ctx, ro) for d in docs], headers, {d["id"] for d in docs}
    rows = fetch_instances(broker.store, req.tenant, ids, attrs, tq, ro.dataset_id, cap)
    emptied: set[tuple[str, str]] = set()
    cut: Any = None
    if limited:
        rows, cut, emptied = _cut(rows, cap, tq.last_n is not None)
    else:
        rows = _trim_last_n(rows, cap)
    found = {r.entity_id for r in rows} | {eid for eid, _ in emptied}
    by: dict[str, dict[str, list[_Row]]] = {}
    for eid, attr in sorted(emptied):
        by.setdefault(eid, {})[attr] = []
    for r in rows:
        by.setdefault(r.entity_id, {}).setdefault(r.attr, []).append(r)
    out = []
    for d in docs:
        e = _entity_head(d, ctx, ro)
        for attr, lst in by.get(d["id"], {}).items():
            if _keep_attr(attr, ro):
                e[ctx.compact(attr)] = _render_attr(
                    lst, ctx, ro, params.temporal_values, tq.timeproperty
                )
        out.append(e)
    if cut is not None:
        headers.append((b"content-range", _content_range(rows, cut, tq).encode()))
    return out, headers, found


def _trim_last_n(rows: list[_Row], n: int) -> list[_Row]:
    by: dict[tuple[str, str], list[_Row]] = {}
    for r in rows:
        by.setdefault((r.entity_id, r.attr), []).append(r)
    return [r for lst in by.values() for r in lst[-n:]]


def _content_range(rows: list[_Row], cut: Any, tq: TimeQuery) -> str:
    """``date-time <start>-<end>/<size>`` (ETSI GS CIM 009 6.3.10): without lastN from timeAt
    (or the oldest instance sent) to the cut; with lastN from endTimeAt/timeAt (or the newest
    instance sent) back to the cut, size lastN."""
    times = [r.time for r in rows]
    if tq.last_n is None:
        if tq.timerel in ("after", "between") and tq.time_at is not None:
            start = tq.time_at
        else:
            start = _time_text(min(times)) if times else _time_text(cut)
        return f"date-time {start}-{_time_text(cut)}/*"
    if tq.timerel == "between" and tq.end_time_at is not None:
        start = tq.end_time_at
    elif tq.timerel == "before" and tq.time_at is not None:
        start = tq.time_at
    else:
        start = _time_text(max(times)) if times else _time_text(cut)
    return f"date-time {start}-{_time_text(cut)}/{tq.last_n}"


# ---------------------------------------------------------------------------- aggregation
def aggregate(
    store: Any,
    tenant: str,
    ids: list[str],
    attrs: frozenset[str] | None,
    tq: TimeQuery,
    datasets: frozenset[str] | None,
    params: TemporalParams,
) -> dict[str, dict[str, Any]]:
    """The aggregated representation, computed in SQL: one GROUP BY over (entity, attribute,
    datasetId, period), the periods counted from timeAt (or the oldest instance selected)."""
    if not ids:
        return {}
    tq = replace(tq, timeproperty="observedAt") if tq.timeproperty != "observedAt" else tq
    where, args = _where(store, tenant, ids, attrs, tq, datasets)
    with store.reading() as cur:
        if tq.timerel in ("after", "between") and tq.time_at is not None:
            origin = epoch(tq.time_at)
        else:
            cur.execute(f"SELECT min(t) FROM ngsi_attr_instance WHERE {where}", args)
            r = cur.fetchone()
            if r is None or r[0] is None:
                return {}
            origin = float(r[0])
        period = params.aggr_period
        p = store.placeholder
        if period > 0:
            bucket = f"CAST(floor((t - {p}) / {p}) AS BIGINT)"
            bargs: list[Any] = [origin, period]
        else:
            bucket, bargs = "0", []
        need = set(params.aggr_methods)
        if "stddev" in need:
            need |= {"sum", "sumsq", "numCount"}
        names = [m for m, _ in _AGGR_SQL if m in need]
        if _rollups_apply(tq, origin, period, need):
            # whole UTC days: the daily roll-ups hold the sums (one row per series and day)
            cols = [c for m, c in _ROLLUP_SQL if m in need]
            rwhere, rargs = _rollup_where(store, tenant, ids, attrs, tq, datasets)
            cur.execute(
                f"SELECT entity_id, attr, dataset_id, {bucket.replace('t -', 'd -')} AS b,"
                f" max(d), {', '.join(cols)} FROM ngsi_attr_rollup WHERE {rwhere}"
                " GROUP BY entity_id, attr, dataset_id, b ORDER BY entity_id, attr, dataset_id, b",
                [*bargs, *rargs],
            )
        else:
            cols = [c for m, c in _AGGR_SQL if m in need]
            cur.execute(
                f"SELECT entity_id, attr, dataset_id, {bucket} AS b, max(t), {', '.join(cols)}"
                f" FROM ngsi_attr_instance WHERE {where} AND deleted = 0"
                " GROUP BY entity_id, attr, dataset_id, b ORDER BY entity_id, attr, dataset_id, b",
                [*bargs, *args],
            )
        rows = cur.fetchall()
    if period <= 0:
        end_all = (
            epoch(tq.end_time_at)
            if tq.end_time_at is not None
            else max((float(r[4]) for r in rows), default=origin)
        )
    out: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    stamps: dict[float, str] = {}  # the periods repeat across entities: format each once

    def stamp(x: float) -> str:
        v = stamps.get(x)
        if v is None:
            v = stamps[x] = iso(x)
        return v

    col = {n: 5 + k for k, n in enumerate(names)}
    counted = ("totalCount", "distinctCount", "numCount")
    plain = [(m, col[m], m in counted) for m in params.aggr_methods if m != "stddev"]
    with_sd = "stddev" in need
    series: dict[tuple[str, str, str], dict[str, list[Any]]] = {}
    for row in rows:
        key = (row[0], row[1], row[2])
        lists = series.get(key)
        if lists is None:
            o = (
                out.setdefault(key[0], {})
                .setdefault(key[1], {})
                .setdefault(key[2], {"type": "Property"})
            )
            if key[2]:
                o["datasetId"] = key[2]
            lists = series[key] = {m: o.setdefault(m, []) for m in params.aggr_methods}
        if period > 0:
            start = origin + int(row[3]) * period
            end = start + period
        else:
            start, end = origin, end_all
        t0, t1 = stamp(start), stamp(end)
        for m, i, is_count in plain:
            v = row[i]
            lists[m].append([(int(v) if v is not None else 0) if is_count else _f(v), t0, t1])
        if with_sd:
            n = row[col["numCount"]]
            sd = _stddev(int(n or 0), row[col["sum"]], row[col["sumsq"]])
            lists["stddev"].append([sd, t0, t1])
    result: dict[str, dict[str, Any]] = {}
    for eid, by_attr in out.items():
        for attr, by_ds in by_attr.items():
            lst = list(by_ds.values())
            result.setdefault(eid, {})[attr] = lst[0] if len(lst) == 1 else lst
    return result


#: the SQL of each aggregation method (stddev is computed from count, sum and sumsq)
_AGGR_SQL = (
    ("totalCount", "count(*)"),
    ("distinctCount", "count(DISTINCT num) + count(DISTINCT vtext)"),
    ("sum", "sum(num)"),
    ("avg", "avg(num)"),
    ("min", "min(num)"),
    ("max", "max(num)"),
    ("sumsq", "sum(num * num)"),
    ("numCount", "count(num)"),
)


#: the same over the daily roll-ups (``storage.temporal.add_rollups``)
_ROLLUP_SQL = (
    ("totalCount", "sum(n_all)"),
    ("sum", "sum(s)"),
    ("avg", "CASE WHEN sum(n) > 0 THEN sum(s) / CAST(sum(n) AS DOUBLE PRECISION) END"),
    ("min", "min(mn)"),
    ("max", "max(mx)"),
    ("sumsq", "sum(sq)"),
    ("numCount", "sum(n)"),
)


def _rollups_apply(tq: TimeQuery, origin: float, period: float, need: set[str]) -> bool:
    """Whether the daily roll-ups answer the aggregation: periods of whole days from a UTC
    midnight, time bounds at midnights, no distinctCount."""
    if period <= 0 or period % DAY or origin % DAY or "distinctCount" in need:
        return False
    return all(x is None or epoch(x) % DAY == 0 for x in (tq.time_at, tq.end_time_at))


def _rollup_where(
    store: Any,
    tenant: str,
    ids: list[str],
    attrs: frozenset[str] | None,
    tq: TimeQuery,
    datasets: frozenset[str] | None,
) -> tuple[str, list[Any]]:
    p = store.placeholder
    conds, args = _series_conds(store, tenant, ids, attrs, datasets)
    if tq.timerel is not None and tq.time_at is not None:
        at = epoch(tq.time_at)
        if tq.timerel == "before":
            conds.append(f"d < {p}")
            args.append(at)
        elif tq.timerel == "after":
            conds.append(f"d >= {p}")
            args.append(at)
        else:
            assert tq.end_time_at is not None
            conds.append(f"d >= {p} AND d < {p}")
            args += [at, epoch(tq.end_time_at)]
    return " AND ".join(conds), args


def _f(v: Any) -> float | None:
    return None if v is None else float(v)


def _stddev(n: int, s: Any, sq: Any) -> float | None:
    """Sample standard deviation from the SQL sums (0 for one value)."""
    if not n or s is None or sq is None:
        return None
    if n == 1:
        return 0.0
    var = (float(sq) - float(s) * float(s) / n) / (n - 1)
    return math.sqrt(max(var, 0.0))


# ----------------------------------------------------------------------------- use cases
def retrieve_temporal(broker: Broker, req: Req, params: TemporalParams, eid: str) -> Result:
    """GET /temporal/entities/{entityId}."""
    check_entity_id(eid)
    broker.store.check_tenant(req.tenant)
    doc = broker.store.get(req.tenant, eid)
    if doc is None or not visible(req, doc):
        raise ResourceNotFound(f"entity {eid} not found")
    body, headers, found = _build(broker, req, [doc], params)
    e = body[0]
    if params.render.attrs is not None and not found:
        raise ResourceNotFound(f"entity {eid} has no instances of the requested attributes")
    if not e:
        raise ResourceNotFound(f"nothing of entity {eid} is left after pick/omit")
    return Result(206 if headers else 200, e, Kind.ENTITY, headers)


def query_temporal(broker: Broker, req: Req, params: TemporalParams) -> Result:
    """GET /temporal/entities: the entities are selected like GET /entities (type, id,
    idPattern, attrs, q, geoQ, scopeQ; limit/offset/count), then their instances."""
    assert params.query is not None
    if req.tenant:
        broker.store.check_tenant(req.tenant)
    spec = queries.build_spec(broker.store, req, params.query)
    pg = params.paging
    if params.order_by:
        spec.limit, spec.offset, spec.count = 10**12, 0, False
        docs, _ = broker.store.query(req.tenant, spec)
        assert req.ctx is not None
        docs = _sort_docs(docs, params.order_by, req.ctx)
        total = len(docs) if pg.count else None
        docs = docs[pg.offset : pg.offset + pg.limit]
    else:
        spec.limit, spec.offset, spec.count = pg.limit, pg.offset, pg.count
        docs, total = broker.store.query(req.tenant, spec)
    body, headers, hits = _build(broker, req, docs, params)
    # an entity without instances that match (attrs, datasetId, the time range) is no match
    body = [e for e, d in zip(body, docs, strict=True) if d["id"] in hits]
    if total is not None:
        headers.append((b"ngsild-results-count", str(total).encode()))
    partial = any(h[0] == b"content-range" for h in headers)
    return Result(206 if partial else 200, body, Kind.ENTITIES, headers)


def query_temporal_post(broker: Broker, req: Req, params: TemporalParams) -> Result:
    """POST /temporal/entityOperations/query: a Query (entities, attrs, q, geoQ, scopeQ and
    temporalQ) in the body; representation and paging from the URL."""
    body = body_object(req)
    if body.get("type") != "Query":
        raise BadRequestData("the payload must be a Query (type: Query)")
    fields: dict[str, Any] = {}
    ents = body.get("entities")
    if ents is not None:
        if not isinstance(ents, list) or not all(isinstance(e, dict) for e in ents):
            raise BadRequestData("entities must be an array of EntitySelector objects")
        fields["entities"] = tuple(ents)
    for k, name in (("q", "q"), ("scopeQ", "scope_q")):
        if k in body:
            if not isinstance(body[k], str):
                raise BadRequestData(f"{k} must be a string")
            fields[name] = body[k]
    render = params.render
    if "attrs" in body:
        a = body["attrs"]
        if not isinstance(a, list) or not all(isinstance(x, str) for x in a) or not a:
            raise BadRequestData("attrs must be a non-empty array of strings")
        fields["attrs"] = tuple(a)
        render = replace(render, attrs=tuple(a), pick=None, omit=None)
    if "geoQ" in body:
        g = body["geoQ"]
        if not isinstance(g, dict):
            raise BadRequestData("geoQ must be an object")
        fields["geo"] = GeoQuery.from_body(g)
    if not any(k in fields for k in ("entities", "attrs", "q", "geo", "scope_q")):
        raise BadRequestData("a Query needs entities, attrs, q, geoQ or scopeQ")
    tq = params.time
    temporal_q = body.get("temporalQ")
    if temporal_q is not None:
        if not isinstance(temporal_q, dict):
            raise BadRequestData("temporalQ must be an object")
        tq = TimeQuery.parse({k: str(v) for k, v in temporal_q.items()})
    return query_temporal(
        broker, req, replace(params, query=EntityQuery(**fields), render=render, time=tq)
    )


def _parse_temporal_attrs(
    body: dict[str, Any], ctx: Context, now: str
) -> dict[str, list[dict[str, Any]]]:
    """The attributes of a temporal payload: each an instance or an array of instances."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name, value in body.items():
        if name in ("id", "@id", "type", "@type", "@context", "scope", "createdAt", "modifiedAt"):
            continue
        model.check_name(name)
        iri = ctx.expand(name)
        items = value if isinstance(value, list) else [value]
        if not items:
            raise BadRequestData(f"attribute {name!r}: no instances")
        insts = []
        for v in items:
            if not isinstance(v, dict):
                raise BadRequestData(f"attribute {name!r}: an instance must be a JSON object")
            insts.append(model.parse_instance(iri, v, ctx, now, name=name))
        out[iri] = insts
    return out


def _latest(insts: list[dict[str, Any]]) -> dict[str | None, dict[str, Any]]:
    """The latest instance per datasetId (by observedAt; the last given when equal)."""
    best: dict[str | None, dict[str, Any]] = {}
    for i in insts:
        ds = i.get("datasetId")
        b = best.get(ds)
        if b is None or _when(i) >= _when(b):
            best[ds] = i
    return best


def _when(i: dict[str, Any]) -> float:
    o = i.get("observedAt")
    return epoch(o) if o else math.inf


def _apply_latest(
    doc: dict[str, Any], attrs: dict[str, list[dict[str, Any]]], now: str
) -> dict[str, Any]:
    """The current state after appending instances: an attribute instance (per datasetId) is
    replaced when it is missing or the appended one is not older."""
    new: dict[str, Any] = orjson.loads(orjson.dumps(doc))
    cur_attrs = new.setdefault("attrs", {})
    changed = False
    for iri, insts in attrs.items():
        have = cur_attrs.setdefault(iri, [])
        for ds, inst in _latest(insts).items():
            n = model.instance_index(have, ds)
            if n >= 0 and _when(inst) < _when(have[n]) and math.isfinite(_when(have[n])):
                continue
            created = have[n].get("createdAt") if n >= 0 else None
            model.put_instance(have, model.stamp(dict(inst), now, created))
            changed = True
        if not have:
            del cur_attrs[iri]
    if changed:
        new["modifiedAt"] = now
    return new


def _write_temporal(
    broker: Broker,
    req: Req,
    eid: str,
    attrs: dict[str, list[dict[str, Any]]],
    *,
    create: tuple[list[str], list[str] | None] | None,
    operation: str,
) -> bool:
    """Write the instances and the current state in one transaction; True when the entity
    was created. ``create``: (types, scope) of a temporal entity payload (None: append, the
    entity must exist)."""
    now = model.now_iso()
    tenant = req.tenant
    rows = [
        instance_row(tenant, eid, iri, i, None, now) for iri, insts in attrs.items() for i in insts
    ]
    if broker.store.dialect == "postgresql":  # the months' partitions, before the write
        ensure_partitions(broker.store, {r[4] for r in rows})
    with broker.write(req, operation) as tx:
        tx.tx.temporal_manual = True  # the instances are written below, all of them
        cur = tx.get(eid)
        created = False
        if cur is None:
            if create is None:
                raise ResourceNotFound(f"entity {eid} not found")
            types, scope = create
            doc: dict[str, Any] = {"id": eid, "type": types}
            if scope:
                doc["scope"] = scope
            doc["attrs"] = {
                iri: [dict(i) for i in _latest(insts).values()] for iri, insts in attrs.items()
            }
            finish_new(doc, now)
            check_types(req, doc.get("type"), eid)
            if tx.insert(doc) is None:
                raise AlreadyExists(f"entity {eid} was created concurrently; retry")
            tx.events(event_rows(tenant, None, doc, now))
            created = True
        else:
            pk, old = cur
            check_types(req, old.get("type"), eid)
            new = _apply_latest(old, attrs, now)
            if create is not None:
                types = list(dict.fromkeys([*(old.get("type") or []), *create[0]]))
                if types != old.get("type"):
                    new["type"] = types
                    new["modifiedAt"] = now
            if new != old:
                check_types(req, new.get("type"), eid)
                tx.update(pk, old, new)
                tx.events(event_rows(tenant, old, new, now))
        stale = replace_same_time(tx.tx, rows) if not created else set()
        write_rows(tx.tx, rows)
        for eid_, attr_, day in sorted(stale):  # replaced instances: their days again
            rebuild_rollups(tx.tx, eid_, attr_, {day})
        if not created and not rows and create is None:
            raise BadRequestData("no attribute instances in the payload")
    return created


def create_temporal(broker: Broker, req: Req, params: None = None) -> Result:
    """POST /temporal/entities: create the temporal representation of an entity (201), or
    add instances to an existing one (204)."""
    body = body_object(req)
    assert req.ctx is not None
    eid = model.parse_entity_id(body.get("id", body.get("@id")))
    t = body.get("type", body.get("@type"))
    if t is None:
        raise BadRequestData("entity type is missing")
    types = model.parse_types(t, req.ctx)
    scope = model.parse_scope(body["scope"]) if "scope" in body else None
    now = model.now_iso()
    attrs = _parse_temporal_attrs(body, req.ctx, now)
    created = _write_temporal(
        broker, req, eid, attrs, create=(types, scope), operation="createTemporalEntity"
    )
    if created:
        return Result(
            201, None, Kind.NONE, location_header(req, broker, "/temporal/entities/" + eid)
        )
    return NO_CONTENT


def append_temporal_attrs(broker: Broker, req: Req, params: None, eid: str) -> Result:
    """POST /temporal/entities/{entityId}/attrs: append attribute instances (many per
    attribute: a backfill is one request); the current state takes the latest ones."""
    check_entity_id(eid)
    body = body_object(req)
    bid = body.get("id", body.get("@id"))
    if bid is not None and bid != eid:
        raise BadRequestData(f"the payload id {bid!r} differs from the entity id {eid!r}")
    broker.store.check_tenant(req.tenant)
    assert req.ctx is not None
    attrs = _parse_temporal_attrs(body, req.ctx, model.now_iso())
    if not attrs:
        raise BadRequestData("no attributes in the payload")
    _write_temporal(broker, req, eid, attrs, create=None, operation="appendTemporalAttrs")
    return NO_CONTENT


def delete_temporal(broker: Broker, req: Req, params: Any, eid: str) -> Result:
    """DELETE /temporal/entities/{entityId}: the entity and all its instances."""
    check_entity_id(eid)
    broker.store.check_tenant(req.tenant)
    now = model.now_iso()
    with broker.write(req, "deleteTemporalEntity") as tx:
        cur = tx.get(eid)
        if cur is None:
            raise ResourceNotFound(f"entity {eid} not found")
        check_types(req, cur[1].get("type"), eid)
        tx.delete(cur[0])
        tx.events(event_rows(req.tenant, cur[1], None, now))  # deletes the instances too
    return NO_CONTENT


@dataclass(frozen=True, slots=True)
class TemporalAttrDelete:
    dataset_id: str | None = None
    delete_all: bool = False

    @classmethod
    def parse(cls, p: Params, config: NgsiConfig) -> TemporalAttrDelete:
        ds = p.get("datasetId")
        if ds is not None and not model.is_uri(ds):
            raise BadRequestData(f"datasetId must be a URI: {ds!r}")
        da = p.get("deleteAll")
        if da is not None and da not in ("true", "false"):
            raise BadRequestData("deleteAll must be true or false")
        if da == "true" and ds is not None:
            raise BadRequestData("deleteAll cannot be combined with datasetId")
        return cls(ds, da == "true")


def _entity_for_write(tx: Any, req: Req, eid: str) -> None:
    cur = tx.get(eid)
    if cur is None:
        raise ResourceNotFound(f"entity {eid} not found")
    check_types(req, cur[1].get("type"), eid)


def delete_temporal_attr(
    broker: Broker, req: Req, params: TemporalAttrDelete, eid: str, attr: str
) -> Result:
    """DELETE /temporal/entities/{entityId}/attrs/{attrId}: all instances of the attribute
    (of the default instance, of ``datasetId``, or of every datasetId with ``deleteAll``)."""
    check_entity_id(eid)
    broker.store.check_tenant(req.tenant)
    assert req.ctx is not None
    iri = req.ctx.expand(model.check_name(attr))
    p = broker.store.placeholder
    with broker.write(req, "deleteTemporalAttr") as tx:
        _entity_for_write(tx, req, eid)
        sql = f"DELETE FROM ngsi_attr_instance WHERE tenant={p} AND entity_id={p} AND attr={p}"
        args: list[Any] = [req.tenant, eid, iri]
        if not params.delete_all:
            sql += f" AND dataset_id={p}"
            args.append(params.dataset_id or "")
        tx.cur.execute(sql, args)
        if tx.cur.rowcount <= 0:
            raise ResourceNotFound(f"entity {eid} has no instances of attribute {attr!r}")
        rebuild_rollups(tx.tx, eid, iri, None)
        tx.ids.append(eid)
    return NO_CONTENT


_VALUE_KEYS = frozenset(
    ("value", "object", "languageMap", "valueList", "objectList", "json", "vocab")
)


def _instance_seq(instance_id: str) -> int:
    if not instance_id.startswith(INSTANCE_PREFIX):
        raise ResourceNotFound(f"attribute instance {instance_id} not found")
    try:
        return int(instance_id[len(INSTANCE_PREFIX) :])
    except ValueError:
        raise ResourceNotFound(f"attribute instance {instance_id} not found") from None


def modify_instance(
    broker: Broker, req: Req, params: None, eid: str, attr: str, instance_id: str
) -> Result:
    """PATCH /temporal/entities/{entityId}/attrs/{attrId}/{instanceId}: merge the payload's
    instance of the attribute into the stored instance."""
    check_entity_id(eid)
    if not model.is_uri(instance_id):
        raise BadRequestData(f"instance id is not a URI: {instance_id!r}")
    body = body_object(req)
    broker.store.check_tenant(req.tenant)
    assert req.ctx is not None
    iri = req.ctx.expand(model.check_name(attr))
    value: Any = None
    if "type" in body or not _VALUE_KEYS.isdisjoint(body):
        value = {k: v for k, v in body.items() if k != "@context"}  # the instance itself
    else:
        for name, v in body.items():
            if name in ("@context", "id"):
                continue
            if req.ctx.expand(name) != iri:
                raise BadRequestData(f"the payload names attribute {name!r}, not {attr!r}")
            value = v
    if not isinstance(value, dict):
        raise BadRequestData(f"the payload must hold one instance of attribute {attr!r}")
    now = model.now_iso()
    frag = model.parse_instance(iri, value, req.ctx, now, name=attr)
    seq = _instance_seq(instance_id)
    p = broker.store.placeholder
    with broker.write(req, "modifyTemporalInstance") as tx:
        _entity_for_write(tx, req, eid)
        tx.cur.execute(
            f"SELECT instance, created_at, t FROM ngsi_attr_instance WHERE tenant={p} AND"
            f" entity_id={p} AND attr={p} AND seq={p}",
            (req.tenant, eid, iri, seq),
        )
        r = tx.cur.fetchone()
        if r is None:
            raise ResourceNotFound(f"attribute instance {instance_id} not found")
        inst = orjson.loads(r[0])
        if "type" in frag and frag["type"] != inst.get("type"):
            for m in model.VALUE_MEMBERS:
                inst.pop(m, None)
        inst.update(frag)
        row = instance_row(req.tenant, eid, iri, inst, None, now)
        tx.cur.execute(
            f"UPDATE ngsi_attr_instance SET dataset_id={p}, t={p}, observed_at={p},"
            f" modified_at={p}, num={p}, vtext={p}, instance={p} WHERE seq={p} AND tenant={p}",
            (row[3], row[4], row[5], now, row[9], row[10], row[11], seq, req.tenant),
        )
        rebuild_rollups(tx.tx, eid, iri, {int(r[2] // DAY) * DAY, int(row[4] // DAY) * DAY})
        tx.ids.append(eid)
    return NO_CONTENT


def delete_instance(
    broker: Broker, req: Req, params: Any, eid: str, attr: str, instance_id: str
) -> Result:
    """DELETE /temporal/entities/{entityId}/attrs/{attrId}/{instanceId}."""
    check_entity_id(eid)
    if not model.is_uri(instance_id):
        raise BadRequestData(f"instance id is not a URI: {instance_id!r}")
    broker.store.check_tenant(req.tenant)
    assert req.ctx is not None
    iri = req.ctx.expand(model.check_name(attr))
    seq = _instance_seq(instance_id)
    p = broker.store.placeholder
    with broker.write(req, "deleteTemporalInstance") as tx:
        _entity_for_write(tx, req, eid)
        tx.cur.execute(
            f"SELECT t FROM ngsi_attr_instance WHERE tenant={p} AND entity_id={p} AND attr={p}"
            f" AND seq={p}",
            (req.tenant, eid, iri, seq),
        )
        found = tx.cur.fetchone()
        if found is None:
            raise ResourceNotFound(f"attribute instance {instance_id} not found")
        tx.cur.execute(
            f"DELETE FROM ngsi_attr_instance WHERE tenant={p} AND seq={p}", (req.tenant, seq)
        )
        rebuild_rollups(tx.tx, eid, iri, {int(found[0] // DAY) * DAY})
        tx.ids.append(eid)
    return NO_CONTENT


#: use cases by name, for in-process callers
USE_CASES: dict[str, Callable[..., Result]] = {
    "retrieve": retrieve_temporal,
    "query": query_temporal,
    "create": create_temporal,
    "append": append_temporal_attrs,
}
