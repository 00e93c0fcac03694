"""Type and attribute discovery: /types, /types/{type}, /attributes, /attributes/{attr}."""

from __future__ import annotations

import uuid

from .broker import Broker, Req, Result
from .errors import (
    ResourceNotFound,
)
from .storage import Store


def _store(broker: Broker, req: Req) -> Store:
    """The store, after checking that the request's tenant exists."""
    if req.tenant:
        broker.store.check_tenant(req.tenant)
    return broker.store


def _scan(broker: Broker, req: Req, types: list[str] | None = None):
    return _store(broker, req).all_docs(req.tenant, types)


def _attr_types(insts: list) -> set[str]:
    return {i.get("type", "Property") for i in insts}


def list_types(broker: Broker, req: Req) -> Result:
    ctx = req.ctx
    assert ctx is not None
    details = req.params.get("details") == "true"
    if not details:
        return Result(
            200,
            _list_body(
                "EntityTypeList", "typeList", ctx, _store(broker, req).entity_types(req.tenant)
            ),
            "entity",
        )
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
    return Result(200, out, "entities")


def _list_body(kind: str, member: str, ctx, iris: list[str]) -> dict:
    """An EntityTypeList / AttributeList of the compacted names of ``iris``."""
    return {
        "id": f"urn:ngsi-ld:{kind}:" + uuid.uuid4().hex,
        "type": kind,
        member: sorted(ctx.compact(i) for i in iris),
    }


def retrieve_type(broker: Broker, req: Req, type_name: str) -> Result:
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
    return Result(200, body, "entity")


def list_attributes(broker: Broker, req: Req) -> Result:
    ctx = req.ctx
    assert ctx is not None
    details = req.params.get("details") == "true"
    if not details:
        names = _store(broker, req).attribute_names(req.tenant)
        return Result(200, _list_body("AttributeList", "attributeList", ctx, names), "entity")
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
    return Result(200, out, "entities")


def retrieve_attribute(broker: Broker, req: Req, attr: str) -> Result:
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
    return Result(200, body, "entity")
