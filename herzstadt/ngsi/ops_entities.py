"""Entity use cases: create, retrieve, replace, merge, delete (ETSI GS CIM 009 5.6/5.7)."""

from __future__ import annotations

from typing import Any, cast

from . import model, queries
from .broker import (
    NO_CONTENT,
    Broker,
    Kind,
    Req,
    Result,
    body_object,
    check_entity_id,
    check_fragment_id,
    check_types,
    edit_entity,
    location_header,
    render_options,
    visible,
)
from .edits import finish_new, merge_doc
from .errors import (
    AlreadyExists,
    ResourceNotFound,
)
from .federation import reads
from .jsonld import Context
from .model import ParseOptions
from .params import RetrieveOptions, TypeFilter
from .render import render_one
from .storage import event_rows


def create_entity(broker: Broker, req: Req, params: None = None) -> Result:
    body = body_object(req)
    now = model.now_iso()
    doc = model.parse_entity(body, cast(Context, req.ctx), now)
    finish_new(doc, now)
    check_types(req, doc.get("type"), doc["id"])
    with broker.write(req, "createEntity") as tx:
        if tx.insert(doc) is None:  # INSERT … ON CONFLICT DO NOTHING: race-free
            raise AlreadyExists(f"entity {doc['id']} already exists")
        tx.events(event_rows(req.tenant, None, doc, now))
    return Result(201, None, Kind.NONE, location_header(req, broker, "/entities/" + doc["id"]))


def _types_match(doc: dict[str, Any], req: Req, type_expr: str | None) -> bool:
    if not type_expr:
        return True
    assert req.ctx is not None
    return queries.type_matches(type_expr, req.ctx, doc.get("type") or [])


def retrieve_entity(broker: Broker, req: Req, opts: RetrieveOptions, eid: str) -> Result:
    check_entity_id(eid)
    assert req.ctx is not None
    ro = render_options(opts, req.ctx)
    broker.store.check_tenant(req.tenant)
    wanted = sorted(ro.attrs) if opts.attrs is not None and ro.attrs is not None else None
    forwarded, doc = reads.retrieve(broker, req, eid, opts.type, wanted)
    if not forwarded:
        doc = broker.store.get(req.tenant, eid)
    if doc is None or not visible(req, doc) or not _types_match(doc, req, opts.type):
        raise ResourceNotFound(f"entity {eid} not found")
    if opts.attrs is not None and ro.attrs is not None:
        have = doc.get("attrs") or {}
        if not any(a in have or (a == "scope" and "scope" in doc) for a in ro.attrs):
            raise ResourceNotFound(f"entity {eid} has none of the requested attributes")
    res = render_one(broker, req, doc, ro, opts)
    if res.kind is Kind.ENTITY and not res.body:
        raise ResourceNotFound(f"nothing of entity {eid} is left after pick/omit")
    return res


def delete_entity(broker: Broker, req: Req, params: TypeFilter, eid: str) -> Result:
    check_entity_id(eid)
    broker.store.check_tenant(req.tenant)
    now = model.now_iso()
    with broker.write(req, "deleteEntity") as tx:
        cur = tx.get(eid)
        if cur is None or not _types_match(cur[1], req, params.type):
            raise ResourceNotFound(f"entity {eid} not found")
        check_types(req, cur[1].get("type"), eid)
        tx.delete(cur[0])
        tx.events(event_rows(req.tenant, cur[1], None, now))
    return NO_CONTENT


def replace_entity(broker: Broker, req: Req, params: None, eid: str) -> Result:
    check_entity_id(eid)
    body = body_object(req)
    check_fragment_id(body, eid)
    now = model.now_iso()
    new = model.parse_entity(body, cast(Context, req.ctx), now, require_id=False, require_type=True)
    new["id"] = eid
    finish_new(new, now)

    def change(old: dict[str, Any]) -> dict[str, Any]:
        new["createdAt"] = old.get("createdAt", now)
        return new

    edit_entity(broker, req, eid, now, change, "replaceEntity")
    return NO_CONTENT


def merge_entity(broker: Broker, req: Req, params: None, eid: str) -> Result:
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
    edit_entity(broker, req, eid, now, lambda old: merge_doc(old, frag, now), "mergeEntity")
    return NO_CONTENT
