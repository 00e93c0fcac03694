"""Distributed retrieval and query: local data merged with the answers of matching sources."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from .. import model
from ..errors import NgsiError
from ..jsonld import Context
from .client import Answer
from .forward import (
    AUXILIARY,
    EXCLUSIVE,
    REDIRECT,
    Forwarder,
    Source,
    answer_json,
    entity_path,
)
from .merge import merge_entities, merge_results

log = logging.getLogger(__name__)

#: the query parameters passed on to a source (the representation is this broker's business)
_PASS_ON = (
    "type",
    "id",
    "idPattern",
    "q",
    "georel",
    "geometry",
    "coordinates",
    "geoproperty",
    "scopeQ",
    "csf",
)


def is_local(req: Any) -> bool:
    return (getattr(req, "query", None) or {}).get("local") == "true"


def simple_names(expr: str | None, ctx: Context) -> list[str] | None:
    """Expanded names of a plain comma list (None for an empty one or a type expression)."""
    if not expr or any(c in expr for c in ";|()!"):
        return None
    return [ctx.expand(x.strip()) for x in expr.split(",") if x.strip()] or None


def to_doc(broker: Any, req: Any, data: Any, src: Source) -> dict[str, Any] | None:
    """A source's entity (compacted with the @context we sent, or its own) in stored form,
    restricted to what the registration covers; None if it is not a valid entity."""
    if not isinstance(data, dict):
        return None
    try:
        ctx = req.ctx
        if "@context" in data:
            ctx = broker.resolver.get(data["@context"], req.tenant)
        doc = model.parse_entity(data, ctx, model.now_iso(), require_type=False)
    except NgsiError as e:
        log.info("entity from %s dropped: %s", src.endpoint, e)
        return None
    names = src.attr_names()
    if names is not None:
        doc["attrs"] = {k: v for k, v in (doc.get("attrs") or {}).items() if k in names}
    doc.setdefault("type", [])
    return doc


def _strip_local(doc: dict[str, Any] | None, srcs: list[Source]) -> dict[str, Any] | None:
    """The local entity without what exclusive/redirect registrations hold elsewhere."""
    if doc is None:
        return None
    drop: set[str] = set()
    for s in srcs:
        if s.mode not in (EXCLUSIVE, REDIRECT):
            continue
        ids = s.entity_ids()
        if ids is not None and doc["id"] not in ids:
            continue
        names = s.attr_names()
        if names is None:
            return None  # the whole entity is somewhere else
        drop |= names
    if not drop:
        return doc
    out = dict(doc)
    out["attrs"] = {k: v for k, v in (doc.get("attrs") or {}).items() if k not in drop}
    return out


def _fill(doc: dict[str, Any] | None, aux: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Auxiliary data: only attributes nobody else has."""
    for a in aux:
        if doc is None:
            doc = a
            continue
        attrs = dict(doc.get("attrs") or {})
        for k, v in (a.get("attrs") or {}).items():
            if k not in attrs:
                attrs[k] = v
        doc = dict(doc)
        doc["attrs"] = attrs
    return doc


def _attrs_param(src: Source, wanted: list[str] | None, ctx: Context) -> tuple[bool, str | None]:
    """(ask the source at all, the attrs parameter to send)."""
    names = src.attr_names()
    if wanted is not None:
        keep = [a for a in wanted if names is None or a in names]
        if not keep:
            return False, None
        return True, ",".join(ctx.compact(a) for a in keep)
    if names is not None and src.mode in (EXCLUSIVE, REDIRECT):
        return True, ",".join(sorted(ctx.compact(a) for a in names))
    return True, None


def _one(ans: Answer | None, eid: str) -> Any:
    """The entity ``eid`` of a source's answer: a retrieval's object, or the member of a
    query's array with that id (a single object is taken as a one-member array)."""
    if ans is None or ans.status != 200:
        return None
    data = answer_json(ans)
    for e in data if isinstance(data, list) else [data]:
        if isinstance(e, dict) and e.get("id") == eid:
            return e
    return None


def retrieve(
    broker: Any, req: Any, eid: str, type_expr: str | None, attrs: list[str] | None
) -> tuple[bool, dict[str, Any] | None]:
    """(forwarded, the merged entity) for GET /entities/{id}; (False, None): no source, the
    caller does the local retrieval."""
    fw: Forwarder = broker.forwarder
    if is_local(req):
        return False, None
    ctx: Context = req.ctx
    types = simple_names(type_expr, ctx)
    # a registration offering only queryEntity / queryBatch (4.3.3: the operation the source
    # supports) is asked by a query for that id; each registration is asked once, by the
    # first of these operations it offers
    srcs: list[Source] = []
    how: dict[int, str] = {}
    for op in ("retrieveEntity", "queryEntity", "queryBatch"):
        for s in fw.sources(broker, req, op, entity_id=eid, types=types, attrs=attrs):
            if all(x.id != s.id for x in srcs):
                how[len(srcs)] = op
                srcs.append(s)
    if not srcs:
        return False, None
    raw = getattr(req, "query", None) or {}
    calls: list[tuple[Source, Callable[[], Answer]]] = []
    for n, s in enumerate(srcs):
        ask, _ = _attrs_param(s, attrs, ctx)
        if not ask:
            continue
        # the client's own selection only (the answer is filtered to the registered
        # attributes here); the representation parameters stay here
        q = {k: v for k, v in raw.items() if k in ("attrs", "type")}
        if how[n] == "retrieveEntity":
            calls.append((s, partial(fw.send, s, req, "GET", entity_path(eid), q)))
            continue
        if "type" not in q and s.types():
            q["type"] = ",".join(ctx.compact(t) for t in s.types())
        if how[n] == "queryEntity":
            q["id"] = eid
            calls.append((s, partial(fw.send, s, req, "GET", "/entities", q)))
            continue
        sel: dict[str, Any] = {"id": eid}
        if "type" in q:
            sel["type"] = q["type"]
        body: dict[str, Any] = {"type": "Query", "entities": [sel]}
        if "attrs" in q:
            body["attrs"] = q["attrs"].split(",")
        calls.append((s, partial(fw.send, s, req, "POST", "/entityOperations/query", None, body)))
    answers = [(s, _one(ans, eid)) for s, ans in fw.fan_out(calls)]
    local = broker.store.get(req.tenant, eid)
    if local is not None and not req.principal.may_touch(local.get("type")):
        local = None
    docs: list[dict[str, Any]] = []
    own = _strip_local(local, srcs)
    if own is not None:
        docs.append(own)
    aux: list[dict[str, Any]] = []
    for s, data in answers:
        if data is None:
            continue
        d = to_doc(broker, req, data, s)
        if d is None or d.get("id") != eid:
            continue
        (aux if s.mode == AUXILIARY else docs).append(d)
    merged = merge_entities(docs) if docs else None
    return True, _fill(merged, aux)


def query(
    broker: Any,
    req: Any,
    type_expr: str | None,
    attrs: list[str] | None,
    ids: list[str] | None,
    operation: str = "queryEntity",
    window: int | None = None,
    post_body: dict[str, Any] | None = None,
    *,
    count: bool = False,
) -> tuple[list[Source], list[dict[str, Any]], int] | None:
    """The sources asked, their entities (stored form, auxiliary ones last, marked) for
    GET /entities and, with ``count``, how many matches the sources reported
    (``NGSILD-Results-Count``) beyond the entities they returned; None: no source matches, the
    query is local. ``window``: the number of entities each source must return at most for the
    page asked (offset + limit; None: the sources' default page suffices)."""
    fw: Forwarder = broker.forwarder
    if is_local(req):
        return None
    ctx: Context = req.ctx
    srcs = fw.sources(
        broker,
        req,
        operation,
        entity_id=ids[0] if ids and len(ids) == 1 else None,
        types=simple_names(type_expr, ctx),
        attrs=attrs,
    )
    if not srcs:
        return None
    raw = getattr(req, "query", None) or {}
    calls: list[tuple[Source, Callable[[], Answer]]] = []
    for s in srcs:
        ask, a = _attrs_param(s, attrs, ctx)
        if not ask:
            continue
        # the client's selection in its order, then what the registration narrows it to
        q = {k: v for k, v in raw.items() if k in _PASS_ON or k == "attrs"}
        if "type" not in q and s.types():
            q["type"] = ",".join(ctx.compact(t) for t in s.types())
        sids = s.entity_ids()
        if sids and "id" not in q and "idPattern" not in q:
            q["id"] = ",".join(sids)
        if a:
            q["attrs"] = a
        if window is not None:
            q["limit"] = str(window)
        if count:
            q["count"] = "true"
        if post_body is not None:  # queryBatch: the Query goes on, attrs narrowed likewise
            body = dict(post_body)
            if a:
                body["attrs"] = a.split(",")
            pq = {k: q[k] for k in ("limit", "count") if k in q} or None
            call = partial(fw.send, s, req, "POST", "/entityOperations/query", pq, body)
            calls.append((s, call))
            continue
        calls.append((s, partial(fw.send, s, req, "GET", "/entities", q)))
    out: list[dict[str, Any]] = []
    beyond = 0
    for s, ans in fw.fan_out(calls):
        data = answer_json(ans) if ans is not None and ans.status == 200 else None
        if not isinstance(data, list):
            continue
        if count and ans is not None:
            reported = _results_count(ans)
            if reported is not None and s.mode != AUXILIARY:
                beyond += max(0, reported - len(data))
        for e in data:
            d = to_doc(broker, req, e, s)
            if d is not None:
                if s.mode == AUXILIARY:
                    d["_aux"] = True
                out.append(d)
    return srcs, out, beyond


def _results_count(ans: Answer) -> int | None:
    """A source's ``NGSILD-Results-Count`` (None when absent or not a count)."""
    raw = (ans.headers or {}).get("ngsild-results-count", "").strip()
    if not raw.isdigit() or len(raw) > 12:
        return None
    return int(raw)


def merge_query(
    local: list[dict[str, Any]], srcs: list[Source], remote: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Local entities (minus what exclusive/redirect sources hold) merged with the sources'."""
    own = [d for d in (_strip_local(x, srcs) for x in local) if d is not None]
    main = [d for d in remote if not d.get("_aux")]
    aux = [d for d in remote if d.get("_aux")]
    for d in aux:
        d.pop("_aux", None)
    merged = merge_results([own, main])
    by_id = {d["id"]: n for n, d in enumerate(merged)}
    for a in aux:
        n = by_id.get(a["id"])
        if n is None:
            by_id[a["id"]] = len(merged)
            merged.append(a)
        else:
            filled = _fill(merged[n], [a])
            assert filled is not None
            merged[n] = filled
    return merged
