"""Type and attribute discovery: /types, /types/{type}, /attributes, /attributes/{attr}."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from .broker import Broker, Kind, Req, Result, visible
from .errors import ResourceNotFound
from .jsonld import Context
from .params import Details
from .storage import Store


def _store(broker: Broker, req: Req) -> Store:
    """The store, after checking that the request's tenant exists."""
    if req.tenant:
        broker.store.check_tenant(req.tenant)
    return broker.store


def _scan(broker: Broker, req: Req, types: list[str] | None = None) -> Iterable[dict[str, Any]]:
    """The entities of the tenant (of these types) that the principal may read."""
    docs = _store(broker, req).all_docs(req.tenant, types)
    if req.principal.entity_types is None:
        return docs
    return (d for d in docs if visible(req, d))


def _restricted(req: Req) -> bool:
    return req.principal.entity_types is not None


def _attr_types(insts: list[Any]) -> set[str]:
    return {i.get("type", "Property") for i in insts}


def list_types(broker: Broker, req: Req, params: Details) -> Result:
    ctx = req.ctx
    assert ctx is not None
    if not params.details:
        if _restricted(req):
            types = sorted({t for d in _scan(broker, req) for t in d.get("type") or []})
        else:
            types = _store(broker, req).entity_types(req.tenant)
        return Result(200, _list_body("EntityTypeList", "typeList", ctx, types), Kind.ENTITY)
    info: dict[str, set[str]] = {}
    for d in _scan(broker, req):
        for t in d.get("type") or []:
            s = info.setdefault(t, set())
            s.update((d.get("attrs") or {}).keys())
    out = [
        {
            "id": t,
            "type": "EntityType",
            "typeName": ctx.compact(t),
            "attributeNames": sorted(ctx.compact(a) for a in attrs),
        }
        for t, attrs in sorted(info.items())
    ]
    return Result(200, out, Kind.ENTITIES)


def _list_body(kind: str, member: str, ctx: Context, iris: list[str]) -> dict[str, Any]:
    """An EntityTypeList / AttributeList of the compacted names of ``iris``."""
    return {
        "id": f"urn:ngsi-ld:{kind}:" + uuid.uuid4().hex,
        "type": kind,
        member: sorted(ctx.compact(i) for i in iris),
    }


def retrieve_type(broker: Broker, req: Req, params: None, type_name: str) -> Result:
    ctx = req.ctx
    assert ctx is not None
    iri = ctx.expand(type_name)
    count = 0
    attrs: dict[str, set[str]] = {}
    for d in _scan(broker, req, [iri]):
        count += 1
        for a, insts in (d.get("attrs") or {}).items():
            attrs.setdefault(a, set()).update(_attr_types(insts))
    if not count:
        raise ResourceNotFound(f"no entity of type {type_name}")
    body = {
        "id": iri,
        "type": "EntityTypeInfo",
        "typeName": ctx.compact(iri),
        "entityCount": count,
        "attributeDetails": [
            {
                "id": a,
                "type": "Attribute",
                "attributeName": ctx.compact(a),
                "attributeTypes": sorted(ts),
            }
            for a, ts in sorted(attrs.items())
        ],
    }
    return Result(200, body, Kind.ENTITY)


def list_attributes(broker: Broker, req: Req, params: Details) -> Result:
    ctx = req.ctx
    assert ctx is not None
    if not params.details:
        if _restricted(req):
            names = sorted({a for d in _scan(broker, req) for a in d.get("attrs") or {}})
        else:
            names = _store(broker, req).attribute_names(req.tenant)
        return Result(200, _list_body("AttributeList", "attributeList", ctx, names), Kind.ENTITY)
    info: dict[str, tuple[set[str], set[str], list[int]]] = {}
    for d in _scan(broker, req):
        for a, insts in (d.get("attrs") or {}).items():
            ts, types, n = info.setdefault(a, (set(), set(), [0]))
            ts.update(_attr_types(insts))
            types.update(d.get("type") or [])
            n[0] += 1
    out = [
        {
            "id": a,
            "type": "Attribute",
            "attributeName": ctx.compact(a),
            "typeNames": sorted(ctx.compact(t) for t in types),
        }
        for a, (ts, types, n) in sorted(info.items())
    ]
    return Result(200, out, Kind.ENTITIES)


def retrieve_attribute(broker: Broker, req: Req, params: None, attr: str) -> Result:
    ctx = req.ctx
    assert ctx is not None
    iri = ctx.expand(attr)
    ts: set[str] = set()
    types: set[str] = set()
    count = 0
    for d in _scan(broker, req):
        insts = (d.get("attrs") or {}).get(iri)
        if insts:
            count += 1
            ts.update(_attr_types(insts))
            types.update(d.get("type") or [])
    if not count:
        raise ResourceNotFound(f"attribute {attr} not found")
    body = {
        "id": iri,
        "type": "Attribute",
        "attributeName": ctx.compact(iri),
        "attributeCount": count,
        "attributeTypes": sorted(ts),
        "typeNames": sorted(ctx.compact(t) for t in types),
    }
    return Result(200, body, Kind.ENTITY)
