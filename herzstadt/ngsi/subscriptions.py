"""Subscriptions (ETSI GS CIM 009 5.8) — the resource only: create, retrieve, query, update,
delete. Notifications are not sent yet (the event table ``ngsi_event`` is their future source).
"""

from __future__ import annotations

import uuid
from typing import Any

from . import model
from .broker import NO_CONTENT, Broker, Kind, Req, Result
from .errors import AlreadyExists, BadRequestData, NotImplementedYet, ResourceNotFound
from .params import Paging, SubscriptionOptions

_READ_ONLY = ("status", "jsonldContext", "createdAt", "modifiedAt", "notification.status")


def _validate(body: dict[str, Any], *, partial: bool = False) -> None:
    if not partial:
        if body.get("type") != "Subscription":
            raise BadRequestData("type must be Subscription")
        if not body.get("entities") and not body.get("watchedAttributes"):
            raise BadRequestData("a Subscription needs entities or watchedAttributes")
    sid = body.get("id")
    if sid is not None and not model.is_uri(sid):
        raise BadRequestData(f"subscription id is not a URI: {sid!r}")
    ents = body.get("entities")
    if ents is not None:
        if not isinstance(ents, list) or not ents or not all(isinstance(e, dict) for e in ents):
            raise BadRequestData("entities must be a non-empty array of EntitySelectors")
        for e in ents:
            if not isinstance(e.get("type"), str):
                raise BadRequestData("every EntitySelector needs a type")
    notif = body.get("notification")
    if notif is not None or not partial:
        if not isinstance(notif, dict):
            raise BadRequestData("notification is required and must be an object")
        ep = notif.get("endpoint")
        if not isinstance(ep, dict) or not model.is_uri(ep.get("uri")):
            raise BadRequestData("notification.endpoint.uri must be a URI")
    for k in ("timeInterval", "throttling", "expiresAt", "isActive"):
        v = body.get(k)
        if v is None:
            continue
        if k in ("timeInterval", "throttling") and (not isinstance(v, int) or v < 0):
            raise BadRequestData(f"{k} must be a non-negative integer")
        if k == "isActive" and not isinstance(v, bool):
            raise BadRequestData("isActive must be a boolean")
        if k == "expiresAt":
            model.check_datetime(v, "expiresAt")


def _context_url(broker: Broker, req: Req) -> str:
    raw = req.raw_context
    if raw is None:
        return broker.config.core_context_url
    if isinstance(raw, str):
        return raw
    sc = broker.resolver.implicit(
        raw, req.base_url + broker.config.base_path + "/jsonldContexts", req.tenant
    )
    return sc.url


def create_subscription(broker: Broker, req: Req, params: None = None) -> Result:
    body = req.body
    if not isinstance(body, dict):
        raise BadRequestData("the payload must be a Subscription object")
    _validate(body)
    sid = body.get("id") or f"urn:ngsi-ld:Subscription:{uuid.uuid4().hex}"
    now = model.now_iso()
    doc = {k: v for k, v in body.items() if k not in _READ_ONLY and k != "@context"}
    doc["id"] = sid
    doc["jsonldContext"] = _context_url(broker, req)
    doc["isActive"] = body.get("isActive", True)
    doc["status"] = "active" if doc["isActive"] else "paused"
    doc["createdAt"] = doc["modifiedAt"] = now
    with broker.write(req, "createSubscription") as tx:
        if not tx.sub_insert(sid, doc):
            raise AlreadyExists(f"subscription {sid} already exists")
    return Result(
        201,
        None,
        Kind.NONE,
        [(b"location", (broker.config.base_path + "/subscriptions/" + sid).encode())],
    )


def _render(doc: dict[str, Any], sys_attrs: bool) -> dict[str, Any]:
    out = dict(doc)
    if not sys_attrs:
        out.pop("createdAt", None)
        out.pop("modifiedAt", None)
    return out


def retrieve_subscription(
    broker: Broker, req: Req, params: SubscriptionOptions, sid: str
) -> Result:
    if not model.is_uri(sid):
        raise BadRequestData(f"subscription id is not a URI: {sid!r}")
    if req.tenant:
        broker.store.check_tenant(req.tenant)
    doc = broker.store.sub_get(req.tenant, sid)
    if doc is None:
        raise ResourceNotFound(f"subscription {sid} not found")
    return Result(200, _render(doc, params.sys_attrs), Kind.ENTITY)


def query_subscriptions(broker: Broker, req: Req, params: Paging) -> Result:
    limit, offset = params.limit, params.offset
    if req.tenant:
        broker.store.check_tenant(req.tenant)
    docs = broker.store.sub_list(req.tenant)
    res = Result(200, [_render(d, False) for d in docs[offset : offset + limit]], Kind.ENTITIES)
    if params.count:
        res.headers.append((b"ngsild-results-count", str(len(docs)).encode()))
    return res


def update_subscription(broker: Broker, req: Req, params: None, sid: str) -> Result:
    if not model.is_uri(sid):
        raise BadRequestData(f"subscription id is not a URI: {sid!r}")
    body = req.body
    if not isinstance(body, dict) or not body:
        raise BadRequestData("the payload must be a non-empty object")
    if "id" in body and body["id"] != sid:
        raise BadRequestData("the subscription id cannot be changed")
    _validate(body, partial=True)
    if req.tenant:
        broker.store.check_tenant(req.tenant)
    now = model.now_iso()
    with broker.write(req, "updateSubscription") as tx:
        doc = broker.store.sub_get(req.tenant, sid)
        if doc is None:
            raise ResourceNotFound(f"subscription {sid} not found")
        for k, v in body.items():
            if k in _READ_ONLY or k in ("@context", "id", "type"):
                continue
            if v is None or v == model.NULL:
                doc.pop(k, None)
            else:
                doc[k] = v
        if "isActive" in body:
            doc["status"] = "active" if doc.get("isActive", True) else "paused"
        doc["modifiedAt"] = now
        tx.sub_update(sid, doc)
    return NO_CONTENT


def delete_subscription(broker: Broker, req: Req, params: None, sid: str) -> Result:
    if not model.is_uri(sid):
        raise BadRequestData(f"subscription id is not a URI: {sid!r}")
    if req.tenant:
        broker.store.check_tenant(req.tenant)
    with broker.write(req, "deleteSubscription") as tx:
        if not tx.sub_delete(sid):
            raise ResourceNotFound(f"subscription {sid} not found")
    return NO_CONTENT


def not_implemented(broker: Broker, req: Req, *args: Any) -> Result:
    """Endpoints that are routed (so media types, parameters and @context are checked)
    but not implemented yet: the temporal API and context sources."""
    raise NotImplementedYet("this endpoint is not implemented by herzstadt yet")
