"""Attribute use cases: append, update, partial update, replace, delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from . import model
from .broker import (
    NO_CONTENT,
    Broker,
    Kind,
    Req,
    Result,
    body_object,
    check_entity_id,
    check_fragment_id,
    clone_json,
    edit_entity,
)
from .edits import apply_fragment, is_null
from .errors import (
    BadRequestData,
    ResourceNotFound,
)
from .jsonld import Context
from .model import ParseOptions
from .params import DeleteAttrParams, WriteOptions


def _update_result(updated: list[str], not_updated: list[dict[str, Any]]) -> Result:
    if not not_updated:
        return NO_CONTENT
    return Result(207, {"updated": updated, "notUpdated": not_updated}, Kind.RAW)


def _attrs_use_case(broker: Broker, req: Req, eid: str, mode: str) -> Result:
    check_entity_id(eid)
    body = body_object(req)
    check_fragment_id(body, eid)
    now = model.now_iso()
    frag = model.parse_entity(
        body,
        cast(Context, req.ctx),
        now,
        require_id=False,
        require_type=False,
        opts=ParseOptions(merge=True),
    )
    outcome: tuple[list[str], list[dict[str, Any]]] = ([], [])

    def change(old: dict[str, Any]) -> dict[str, Any] | None:
        nonlocal outcome
        doc: dict[str, Any] = clone_json(old)
        outcome = apply_fragment(doc, frag, now, mode)
        if doc == old:
            return None
        doc["modifiedAt"] = now
        return doc

    edit_entity(broker, req, eid, now, change, mode + "Attrs")
    return _update_result(*outcome)


def append_attrs(broker: Broker, req: Req, params: WriteOptions, eid: str) -> Result:
    mode = "noOverwrite" if params.no_overwrite else "append"
    return _attrs_use_case(broker, req, eid, mode)


def update_attrs(broker: Broker, req: Req, params: None, eid: str) -> Result:
    return _attrs_use_case(broker, req, eid, "update")


def _attr_iri(req: Req, attr: str) -> str:
    model.check_name(attr)
    if attr in model.FORBIDDEN_ATTR_NAMES:
        raise BadRequestData(f"{attr!r} is not an attribute name")
    assert req.ctx is not None
    return req.ctx.expand(attr)


def _instances(doc: dict[str, Any], iri: str, attr: str, eid: str) -> list[dict[str, Any]]:
    """The instances of attribute ``iri`` in ``doc`` (404 when it has none)."""
    existing = (doc.get("attrs") or {}).get(iri)
    if not existing:
        raise ResourceNotFound(f"attribute {attr} not found in entity {eid}")
    instances: list[dict[str, Any]] = existing
    return instances


def _instance_index(existing: list[dict[str, Any]], ds: str | None, attr: str) -> int:
    n = model.instance_index(existing, ds)
    if n < 0:
        raise ResourceNotFound(
            f"attribute {attr} has no instance with datasetId {ds}"
            if ds
            else f"attribute {attr} has no default instance"
        )
    return n


def _edit_attribute(
    broker: Broker,
    req: Req,
    eid: str,
    attr: str,
    iri: str,
    now: str,
    edit: Callable[[dict[str, Any], list[Any]], object],
    operation: str,
) -> Result:
    """Change the instances of one existing attribute: ``edit(doc, instances)`` in place."""

    def change(old: dict[str, Any]) -> dict[str, Any]:
        doc: dict[str, Any] = clone_json(old)
        existing = _instances(doc, iri, attr, eid)
        edit(doc, existing)
        if not existing:
            del doc["attrs"][iri]
        doc["modifiedAt"] = now
        return doc

    edit_entity(broker, req, eid, now, change, operation)
    return NO_CONTENT


def partial_attr_update(broker: Broker, req: Req, params: None, eid: str, attr: str) -> Result:
    check_entity_id(eid)
    iri = _attr_iri(req, attr)
    body = body_object(req)
    now = model.now_iso()
    insts = model.parse_attribute(
        iri,
        body,
        cast(Context, req.ctx),
        now,
        opts=ParseOptions(partial=True, merge=True),
        name=attr,
    )

    def edit(doc: dict[str, Any], existing: list[dict[str, Any]]) -> None:
        for inst in insts or []:
            n = _instance_index(existing, inst.get("datasetId"), attr)
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

    return _edit_attribute(broker, req, eid, attr, iri, now, edit, "partialAttrUpdate")


def replace_attr(broker: Broker, req: Req, params: None, eid: str, attr: str) -> Result:
    check_entity_id(eid)
    iri = _attr_iri(req, attr)
    body = req.body
    if body is None:
        raise BadRequestData("missing attribute payload")
    now = model.now_iso()
    insts = model.parse_attribute(iri, body, cast(Context, req.ctx), now, name=attr)

    def edit(doc: dict[str, Any], existing: list[dict[str, Any]]) -> None:
        for inst in insts or []:
            n = _instance_index(existing, inst.get("datasetId"), attr)
            model.stamp(inst, now, existing[n].get("createdAt"))
            existing[n] = inst

    return _edit_attribute(broker, req, eid, attr, iri, now, edit, "replaceAttr")


def delete_attr(broker: Broker, req: Req, params: DeleteAttrParams, eid: str, attr: str) -> Result:
    check_entity_id(eid)
    if attr == "scope":
        return _delete_scope(broker, req, eid)
    iri = _attr_iri(req, attr)
    ds = params.dataset_id

    def edit(doc: dict[str, Any], existing: list[dict[str, Any]]) -> None:
        if params.delete_all:
            existing.clear()
        else:
            del existing[_instance_index(existing, ds, attr)]

    return _edit_attribute(broker, req, eid, attr, iri, model.now_iso(), edit, "deleteAttr")


def _delete_scope(broker: Broker, req: Req, eid: str) -> Result:
    now = model.now_iso()

    def change(old: dict[str, Any]) -> dict[str, Any]:
        if "scope" not in old:
            raise ResourceNotFound(f"entity {eid} has no scope")
        doc: dict[str, Any] = clone_json(old)
        del doc["scope"]
        doc["modifiedAt"] = now
        return doc

    edit_entity(broker, req, eid, now, change, "deleteAttr")
    return NO_CONTENT
