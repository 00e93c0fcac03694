"""Attribute use cases: append, update, partial update, replace, delete."""

from __future__ import annotations

from . import model
from .broker import (
    NO_CONTENT,
    Broker,
    Req,
    Result,
    body_object,
    check_entity_id,
    check_fragment_id,
    clone_json,
    options,
)
from .edits import apply_fragment, is_null
from .errors import (
    BadRequestData,
    ResourceNotFound,
)
from .model import ParseOptions
from .storage import event_rows


def _update_result(updated: list[str], not_updated: list[dict]) -> Result:
    if not not_updated:
        return NO_CONTENT
    return Result(207, {"updated": updated, "notUpdated": not_updated}, "raw")


def _attrs_use_case(broker: Broker, req: Req, eid: str, mode: str) -> Result:
    check_entity_id(eid)
    body = body_object(req)
    check_fragment_id(body, eid)
    now = model.now_iso()
    frag = model.parse_entity(body, req.ctx, now, require_id=False, require_type=False,
                              opts=ParseOptions(merge=True))
    broker.store.check_tenant(req.tenant)
    with broker.store.write(req.tenant) as tx:
        cur = tx.get(eid)
        if cur is None:
            raise ResourceNotFound(f"entity {eid} not found")
        pk, old = cur
        doc = clone_json(old)
        updated, not_updated = apply_fragment(doc, frag, now, mode)
        if doc != old:
            doc["modifiedAt"] = now
            tx.update(pk, old, doc)
            tx.events(event_rows(req.tenant, old, doc, now))
    return _update_result(updated, not_updated)


def append_attrs(broker: Broker, req: Req, eid: str) -> Result:
    mode = "noOverwrite" if "noOverwrite" in options(req) else "append"
    return _attrs_use_case(broker, req, eid, mode)


def update_attrs(broker: Broker, req: Req, eid: str) -> Result:
    return _attrs_use_case(broker, req, eid, "update")


def _attr_iri(req: Req, attr: str) -> str:
    model.check_name(attr)
    if attr in model.FORBIDDEN_ATTR_NAMES:
        raise BadRequestData(f"{attr!r} is not an attribute name")
    assert req.ctx is not None
    return req.ctx.expand(attr)


def partial_attr_update(broker: Broker, req: Req, eid: str, attr: str) -> Result:
    check_entity_id(eid)
    iri = _attr_iri(req, attr)
    body = body_object(req)
    now = model.now_iso()
    insts = model.parse_attribute(iri, body, req.ctx, now,
                                  opts=ParseOptions(partial=True, merge=True), name=attr)
    broker.store.check_tenant(req.tenant)
    with broker.store.write(req.tenant) as tx:
        cur = tx.get(eid)
        if cur is None:
            raise ResourceNotFound(f"entity {eid} not found")
        pk, old = cur
        doc = clone_json(old)
        existing = (doc.get("attrs") or {}).get(iri)
        if not existing:
            raise ResourceNotFound(f"attribute {attr} not found in entity {eid}")
        for inst in insts or []:
            n = model.instance_index(existing, inst.get("datasetId"))
            if n < 0:
                raise ResourceNotFound(
                    f"attribute {attr} has no instance with datasetId {inst.get('datasetId')}"
                )
            if is_null(inst):
                del existing[n]
                continue
            if "type" in inst and inst["type"] != existing[n].get("type"):
                raise BadRequestData(
                    f"attribute {attr} is a {existing[n].get('type')}, not a {inst['type']}"
                )
            merged = model.merge_instance(existing[n], inst, now)
            t = merged.get("type", "Property")
            if model.VALUE_MEMBER.get(t) not in merged:
                raise BadRequestData(f"attribute {attr}: {t} without its value member")
            existing[n] = merged
        if not existing:
            del doc["attrs"][iri]
        doc["modifiedAt"] = now
        tx.update(pk, old, doc)
        tx.events(event_rows(req.tenant, old, doc, now))
    return NO_CONTENT


def replace_attr(broker: Broker, req: Req, eid: str, attr: str) -> Result:
    check_entity_id(eid)
    iri = _attr_iri(req, attr)
    body = req.body
    if body is None:
        raise BadRequestData("missing attribute payload")
    now = model.now_iso()
    insts = model.parse_attribute(iri, body, req.ctx, now, name=attr)
    broker.store.check_tenant(req.tenant)
    with broker.store.write(req.tenant) as tx:
        cur = tx.get(eid)
        if cur is None:
            raise ResourceNotFound(f"entity {eid} not found")
        pk, old = cur
        doc = clone_json(old)
        existing = (doc.get("attrs") or {}).get(iri)
        if not existing:
            raise ResourceNotFound(f"attribute {attr} not found in entity {eid}")
        for inst in insts or []:
            n = model.instance_index(existing, inst.get("datasetId"))
            if n < 0:
                raise ResourceNotFound(
                    f"attribute {attr} has no instance with datasetId {inst.get('datasetId')}"
                )
            model.stamp(inst, now, existing[n].get("createdAt"))
            existing[n] = inst
        doc["modifiedAt"] = now
        tx.update(pk, old, doc)
        tx.events(event_rows(req.tenant, old, doc, now))
    return NO_CONTENT


def delete_attr(broker: Broker, req: Req, eid: str, attr: str) -> Result:
    check_entity_id(eid)
    if attr == "scope":
        return _delete_scope(broker, req, eid)
    iri = _attr_iri(req, attr)
    ds = req.params.get("datasetId")
    if ds is not None and not model.is_uri(ds):
        raise BadRequestData(f"datasetId must be a URI: {ds!r}")
    delete_all = req.params.get("deleteAll", "false")
    if delete_all not in ("true", "false"):
        raise BadRequestData("deleteAll must be true or false")
    broker.store.check_tenant(req.tenant)
    now = model.now_iso()
    with broker.store.write(req.tenant) as tx:
        cur = tx.get(eid)
        if cur is None:
            raise ResourceNotFound(f"entity {eid} not found")
        pk, old = cur
        doc = clone_json(old)
        attrs = doc.get("attrs") or {}
        existing = attrs.get(iri)
        if not existing:
            raise ResourceNotFound(f"attribute {attr} not found in entity {eid}")
        if delete_all == "true":
            del attrs[iri]
        else:
            n = model.instance_index(existing, ds)
            if n < 0:
                raise ResourceNotFound(
                    f"attribute {attr} has no instance with datasetId {ds}" if ds
                    else f"attribute {attr} has no default instance"
                )
            del existing[n]
            if not existing:
                del attrs[iri]
        doc["modifiedAt"] = now
        tx.update(pk, old, doc)
        tx.events(event_rows(req.tenant, old, doc, now))
    return NO_CONTENT


def _delete_scope(broker: Broker, req: Req, eid: str) -> Result:
    broker.store.check_tenant(req.tenant)
    now = model.now_iso()
    with broker.store.write(req.tenant) as tx:
        cur = tx.get(eid)
        if cur is None:
            raise ResourceNotFound(f"entity {eid} not found")
        pk, old = cur
        if "scope" not in old:
            raise ResourceNotFound(f"entity {eid} has no scope")
        doc = clone_json(old)
        del doc["scope"]
        doc["modifiedAt"] = now
        tx.update(pk, old, doc)
        tx.events(event_rows(req.tenant, old, doc, now))
    return NO_CONTENT
