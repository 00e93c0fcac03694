"""Query use cases: GET /entities and POST /entityOperations/query (with orderBy)."""

from __future__ import annotations

from typing import Any

from . import model, queries
from .broker import Broker, Kind, Req, Result, body_object, render_options
from .errors import BadRequestData
from .federation import reads
from .federation.forward import Source
from .jsonld import Context
from .model import RenderOptions
from .params import EntityQuery, GeoQuery, QueryParams, QueryPostParams, RetrieveOptions
from .render import fragment_cacheable, render_many, render_texts
from .storage import QuerySpec

OrderBy = tuple[tuple[tuple[str, ...], bool], ...]


def query_entities(broker: Broker, req: Req, params: QueryParams) -> Result:
    assert req.ctx is not None
    ro = render_options(params.render, req.ctx)
    spec = queries.build_spec(broker.store, req, params.query)
    pg = params.paging
    spec.limit, spec.offset, spec.count = pg.limit, pg.offset, pg.count
    fed = _federated(broker, req, params.query, "queryEntity", pg.limit, pg.offset, count=pg.count)
    return _run_query(broker, req, spec, ro, params.render, params.order_by, fed)


def _sort_value(doc: dict[str, Any], path: tuple[str, ...], ctx: Context) -> Any:
    head = path[0]
    if head == "id" and len(path) == 1:
        return doc["id"]
    if head == "type" and len(path) == 1:
        return ctx.compact((doc.get("type") or [""])[0])
    if head in ("createdAt", "modifiedAt") and len(path) == 1:
        return doc.get(head)
    node: Any = doc
    for name in path:
        if (
            name in ("createdAt", "modifiedAt", "observedAt", "unitCode", "datasetId")
            and node is not doc
            and isinstance(node, dict)
        ):
            return node.get(name)
        insts = (node.get("attrs") or {}).get(ctx.expand(name)) if isinstance(node, dict) else None
        if not insts:
            return None
        node = insts[0]
    t = node.get("type", "Property")
    v = node.get(model.VALUE_MEMBER.get(t, "value"))
    return v


def _sort_docs(docs: list[dict[str, Any]], keys: OrderBy, ctx: Context) -> list[dict[str, Any]]:
    def rank(v: Any) -> tuple[Any, ...]:
        if v is None:
            return (3, 0)
        if isinstance(v, bool):
            return (0, int(v))
        if isinstance(v, (int, float)):
            return (0, v)
        if isinstance(v, str):
            return (1, v)
        return (2, str(v))

    out = list(docs)
    for path, desc in reversed(keys):
        present = [d for d in out if _sort_value(d, path, ctx) is not None]
        missing = [d for d in out if _sort_value(d, path, ctx) is None]
        present.sort(key=lambda d, p=path: rank(_sort_value(d, p, ctx)), reverse=desc)  # type: ignore[misc]
        out = present + missing
    return out


def _run_query(
    broker: Broker,
    req: Req,
    spec: QuerySpec,
    ro: RenderOptions,
    opts: RetrieveOptions,
    keys: OrderBy | None,
    fed: Federated | None = None,
) -> Result:
    broker.store.check_tenant(req.tenant) if req.tenant else None
    if fed is not None:
        return _run_federated(broker, req, spec, ro, opts, keys, fed)
    if keys:
        limit, offset, count = spec.limit, spec.offset, spec.count
        spec.limit, spec.offset, spec.count = 10**12, 0, False
        docs, _ = broker.store.query(req.tenant, spec)
        assert req.ctx is not None
        docs = _sort_docs(docs, keys, req.ctx)
        total = len(docs) if count else None
        docs = docs[offset : offset + limit]
    elif spec.predicate is None and fragment_cacheable(req, ro, opts):
        texts, total = broker.store.query_text(req.tenant, spec)
        res = Result(200, render_texts(broker, req, texts, ro), Kind.FRAGMENTS)
        if total is not None:
            res.headers.append((b"ngsild-results-count", str(total).encode()))
        return res
    else:
        docs, total = broker.store.query(req.tenant, spec)
    res = render_many(broker, req, docs, ro, opts)
    if total is not None:
        res.headers.append((b"ngsild-results-count", str(total).encode()))
    return res


#: the sources asked, their entities, and how many matches they reported beyond those returned
Federated = tuple[list[Source], list[dict[str, Any]], int]


def _federated(
    broker: Broker,
    req: Req,
    q: EntityQuery,
    op: str,
    limit: int,
    offset: int,
    post_body: dict[str, Any] | None = None,
    *,
    count: bool = False,
) -> Federated | None:
    assert req.ctx is not None
    attrs = sorted({req.ctx.expand(a) for a in q.attrs}) if q.attrs else None
    ids = list(q.ids) if q.ids else None
    type_expr = q.type
    if q.entities:  # a Query's EntitySelectors: one selector tells type and id
        sel = q.entities[0] if len(q.entities) == 1 else {}
        type_expr = sel.get("type") if isinstance(sel.get("type"), str) else None
        ids = [sel["id"]] if isinstance(sel.get("id"), str) else None
    window = None if offset == 0 and limit <= broker.config.default_limit else offset + limit
    if count:  # a count covers everything the sources match, not only the page asked
        window = broker.config.max_limit
    return reads.query(broker, req, type_expr, attrs, ids, op, window, post_body, count=count)


def _run_federated(
    broker: Broker,
    req: Req,
    spec: QuerySpec,
    ro: RenderOptions,
    opts: RetrieveOptions,
    keys: OrderBy | None,
    fed: Federated,
) -> Result:
    """Local matches and the sources' answers merged, then ordered and paged here."""
    limit, offset, count = spec.limit, spec.offset, spec.count
    srcs, remote, beyond = fed
    # The merged list holds this broker's entities first (in the store's order), then the sources'
    # new ones, so a page without a count or an order needs only the first offset + limit local
    # entities — unless some of them drop out below (exclusive sources, the client's types or
    # attributes): then all of them are read, as for a count or an order.
    window = offset + limit
    cheap = not count and not keys and window < broker.config.max_limit
    while True:
        spec.limit = window if cheap else broker.config.max_limit
        spec.offset, spec.count = 0, count
        local, local_total = broker.store.query(req.tenant, spec)
        docs = reads.merge_query(local, srcs, [dict(d) for d in remote])
        docs = [d for d in docs if req.principal.may_touch(d.get("type"))]
        if ro.attrs is not None:
            docs = [d for d in docs if any(a in (d.get("attrs") or {}) for a in ro.attrs)]
        if not cheap or len(local) < window:
            break
        local_ids = {d.get("id") for d in local}
        if sum(1 for d in docs[:window] if d.get("id") in local_ids) == window:
            break
        cheap = False
    if keys:
        assert req.ctx is not None
        docs = _sort_docs(docs, keys, req.ctx)
    total = len(docs)
    if count:
        # matches beyond the max_limit read here and at each source are counted as reported
        # (they cannot be merged with the others, so an entity held both here and at a source
        # beyond those bounds counts twice)
        total += max(0, (local_total or 0) - len(local)) + beyond
    docs = docs[offset : offset + limit]
    res = render_many(broker, req, docs, ro, opts)
    if count:
        res.headers.append((b"ngsild-results-count", str(total).encode()))
    return res


def query_entities_post(broker: Broker, req: Req, params: QueryPostParams) -> Result:
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
    attrs = None
    if "attrs" in body:
        a = body["attrs"]
        if not isinstance(a, list) or not all(isinstance(x, str) for x in a):
            raise BadRequestData("attrs must be an array of strings")
        attrs = tuple(x.strip() for x in ",".join(a).split(",") if x.strip())
        if not attrs:
            raise BadRequestData("empty attrs parameter")
        fields["attrs"] = attrs
    if "geoQ" in body:
        g = body["geoQ"]
        if not isinstance(g, dict):
            raise BadRequestData("geoQ must be an object")
        fields["geo"] = GeoQuery.from_body(g)
    if not any(k in fields for k in ("entities", "attrs", "q", "geo", "scope_q")):
        raise BadRequestData("a Query needs entities, attrs, q, geoQ or scopeQ")
    opts = params.render.with_body(body, attrs)
    assert req.ctx is not None
    ro = render_options(opts, req.ctx)
    spec = queries.build_spec(broker.store, req, EntityQuery(**fields))
    pg = params.paging
    spec.limit, spec.offset, spec.count = pg.limit, pg.offset, pg.count
    eq = EntityQuery(**fields)
    fed = _federated(broker, req, eq, "queryBatch", pg.limit, pg.offset, body, count=pg.count)
    return _run_query(broker, req, spec, ro, opts, params.order_by, fed)
