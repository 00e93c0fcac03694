"""Query use cases: GET /entities and POST /entityOperations/query (with orderBy)."""

from __future__ import annotations

from typing import Any

from . import model, queries
from .broker import Broker, Req, Result, body_object, paging, render_options
from .errors import (
    BadRequestData,
)
from .jsonld import Context
from .model import RenderOptions
from .render import fragment_cacheable, render_many, render_texts
from .storage import QuerySpec


def query_entities(broker: Broker, req: Req) -> Result:
    p = req.params
    ro = render_options(req)
    limit, offset, count = paging(broker, req)
    has_filter = any(k in p for k in ("type", "idPattern", "attrs", "q", "georel", "scopeQ"))
    # local=true lists everything; an id list alone is not a query (ETSI 019_03_05)
    if not has_filter and p.get("local") != "true":
        raise BadRequestData(
            "a query needs at least one of type, attrs, q, geoQ, scopeQ, idPattern (or local=true)"
        )
    spec = queries.build_spec(broker.store, req, query_params_from_url(req))
    spec.limit, spec.offset, spec.count = limit, offset, count
    return _run_query(broker, req, spec, ro)


def query_params_from_url(req: Req) -> dict[str, Any]:
    p = req.params
    out: dict[str, Any] = {}
    for k in ("type", "idPattern", "q", "scopeQ", "attrs", "datasetId"):
        if k in p:
            out[k] = p[k]
    if "id" in p:
        out["id"] = [i for i in p["id"].split(",") if i]
    if "georel" in p or "geometry" in p or "coordinates" in p:
        out["geoQ"] = {
            "georel": p.get("georel"),
            "geometry": p.get("geometry"),
            "coordinates": p.get("coordinates"),
            "geoproperty": p.get("geoproperty"),
        }
    return out


def _order_keys(req: Req) -> list[tuple[list[str], bool]] | None:
    raw = req.params.get("orderBy")
    if raw is None:
        return None
    keys = []
    assert req.ctx is not None
    for part in raw.split(","):
        path, _, direction = part.strip().partition(";")
        direction = direction.strip() or "asc"
        if not path or direction not in ("asc", "desc"):
            raise BadRequestData(f"invalid orderBy {raw!r}")
        keys.append((path.split("."), direction == "desc"))
    return keys


def _sort_value(doc: dict, path: list[str], ctx: Context) -> Any:
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


def _sort_docs(docs: list[dict], keys: list[tuple[list[str], bool]], ctx: Context) -> list[dict]:
    def rank(v: Any) -> tuple:
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
        present.sort(key=lambda d, p=path: rank(_sort_value(d, p, ctx)), reverse=desc)
        out = present + missing
    return out


def _run_query(broker: Broker, req: Req, spec: QuerySpec, ro: RenderOptions) -> Result:
    broker.store.check_tenant(req.tenant) if req.tenant else None
    keys = _order_keys(req)
    if keys:
        limit, offset, count = spec.limit, spec.offset, spec.count
        spec.limit, spec.offset, spec.count = 10**12, 0, False
        docs, _ = broker.store.query(req.tenant, spec)
        assert req.ctx is not None
        docs = _sort_docs(docs, keys, req.ctx)
        total = len(docs) if count else None
        docs = docs[offset : offset + limit]
    elif spec.predicate is None and fragment_cacheable(req, ro):
        texts, total = broker.store.query_text(req.tenant, spec)
        res = Result(200, render_texts(broker, req, texts, ro), "fragments")
        if total is not None:
            res.headers.append((b"ngsild-results-count", str(total).encode()))
        return res
    else:
        docs, total = broker.store.query(req.tenant, spec)
    res = render_many(broker, req, docs, ro)
    if total is not None:
        res.headers.append((b"ngsild-results-count", str(total).encode()))
    return res


def query_entities_post(broker: Broker, req: Req) -> Result:
    body = body_object(req)
    if body.get("type") != "Query":
        raise BadRequestData("the payload must be a Query (type: Query)")
    limit, offset, count = paging(broker, req)
    qp: dict[str, Any] = {}
    ents = body.get("entities")
    if ents is not None:
        if not isinstance(ents, list) or not all(isinstance(e, dict) for e in ents):
            raise BadRequestData("entities must be an array of EntitySelector objects")
        qp["entities"] = ents
    for k in ("q", "scopeQ"):
        if k in body:
            if not isinstance(body[k], str):
                raise BadRequestData(f"{k} must be a string")
            qp[k] = body[k]
    if "attrs" in body:
        a = body["attrs"]
        if not isinstance(a, list) or not all(isinstance(x, str) for x in a):
            raise BadRequestData("attrs must be an array of strings")
        req.params["attrs"] = ",".join(a)
        qp["attrs"] = ",".join(a)
    if "geoQ" in body:
        g = body["geoQ"]
        if not isinstance(g, dict):
            raise BadRequestData("geoQ must be an object")
        qp["geoQ"] = g
    if "lang" in body and isinstance(body["lang"], str):
        req.params.setdefault("lang", body["lang"])
    for k in ("join", "joinLevel"):
        if k in body:
            req.params.setdefault(k, str(body[k]))
    if "datasetId" in body:
        d = body["datasetId"]
        qp["datasetId"] = ",".join(d) if isinstance(d, list) else d
    if not any(k in qp for k in ("entities", "attrs", "q", "geoQ", "scopeQ")):
        raise BadRequestData("a Query needs entities, attrs, q, geoQ or scopeQ")
    ro = render_options(req)
    spec = queries.build_spec(broker.store, req, qp)
    spec.limit, spec.offset, spec.count = limit, offset, count
    return _run_query(broker, req, spec, ro)
