"""Subscriptions (ETSI GS CIM 009 5.8): create, retrieve, query, update, delete.

Entity types, watched attributes and notification attributes are stored expanded (with the
request's @context) and compacted with the @context of each request that reads them; q, geoQ,
scopeQ, pick and omit are kept as written and expanded with the subscription's ``jsonldContext``
(the request's @context unless the subscription names one). Notifications are sent by the
notifier (``herzstadt.ngsi.notify``); its counters (``ngsi_sub_state``) appear in the
``notification`` member.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from . import model
from .broker import NO_CONTENT, Broker, Kind, Req, Result
from .errors import AlreadyExists, BadRequestData, NotImplementedYet, ResourceNotFound
from .jsonld import Context
from .notify import schema as notify_schema
from .notify.compile import DEFAULT_TRIGGERS, FORMATS, TRIGGERS, compile_sub, parse_time
from .notify.endpoints import EndpointPolicy, EndpointRefused
from .params import Paging, SubscriptionOptions

_READ_ONLY = ("status", "createdAt", "modifiedAt")
_NAME = re.compile(r"[^\s,;|()!]+")
_RAW_CTX = "_requestContext"  # stored, never shown: the raw @context of an implicit one
_CTX = "_notifyContext"  # stored, never shown: the URL of the request's @context
_TYPES = "_principalTypes"  # stored, never shown: the entity types the creator may read
_COUNTERS = ("timesSent", "timesFailed", "lastNotification", "lastSuccess", "lastFailure")


def _policy(broker: Broker) -> EndpointPolicy:
    c = broker.config
    return EndpointPolicy(c.notify_hosts, allow_private=c.notify_allow_private)


def _names(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise BadRequestData(f"{what} must be a non-empty array of names")
    return value


def _validate(broker: Broker, body: dict[str, Any], *, partial: bool = False) -> None:
    if not partial:
        if body.get("type") != "Subscription":
            raise BadRequestData("type must be Subscription")
        if not body.get("entities") and not body.get("watchedAttributes"):
            raise BadRequestData("a Subscription needs entities or watchedAttributes")
    elif "type" in body and body["type"] != "Subscription":
        raise BadRequestData("type must be Subscription")
    sid = body.get("id")
    if sid is not None and not model.is_uri(sid):
        raise BadRequestData(f"subscription id is not a URI: {sid!r}")
    ents = body.get("entities")
    if ents is not None:
        if not isinstance(ents, list) or not ents or not all(isinstance(e, dict) for e in ents):
            raise BadRequestData("entities must be a non-empty array of EntitySelectors")
        for e in ents:
            if not isinstance(e.get("type"), str) or not e["type"]:
                raise BadRequestData("every EntitySelector needs a type")
            if "id" in e and not model.is_uri(e["id"]):
                raise BadRequestData(f"EntitySelector id is not a URI: {e['id']!r}")
    if "watchedAttributes" in body:
        _names(body["watchedAttributes"], "watchedAttributes")
    trig = body.get("notificationTrigger")
    if trig is not None and (
        not isinstance(trig, list) or not trig or not all(t in TRIGGERS for t in trig)
    ):
        raise BadRequestData(
            "notificationTrigger must be a non-empty array of " + ", ".join(sorted(TRIGGERS))
        )
    notif = body.get("notification")
    if notif is not None or not partial:
        if not isinstance(notif, dict):
            raise BadRequestData("notification is required and must be an object")
        ep = notif.get("endpoint")
        if not isinstance(ep, dict) or not model.is_uri(ep.get("uri")):
            raise BadRequestData("notification.endpoint.uri must be a URI")
        if ep.get("accept", "application/json") not in ("application/json", "application/ld+json"):
            raise BadRequestData("notification.endpoint.accept must be application/json or ld+json")
        for k in ("receiverInfo", "notifierInfo"):
            info = ep.get(k)
            if info is not None and (
                not isinstance(info, list)
                or not all(isinstance(i, dict) and isinstance(i.get("key"), str) for i in info)
            ):
                raise BadRequestData(f"notification.endpoint.{k} must be an array of key/value")
        try:
            _policy(broker).check(ep["uri"])
        except EndpointRefused as e:
            raise BadRequestData(str(e)) from None
        if notif.get("format", "normalized") not in FORMATS:
            raise BadRequestData(
                "notification.format must be normalized, keyValues (simplified) or concise"
            )
        attrs, pick, omit = notif.get("attributes"), notif.get("pick"), notif.get("omit")
        if attrs is not None:
            _names(attrs, "notification.attributes")
        if pick is not None:
            _names(pick, "notification.pick")
        if omit is not None:
            _names(omit, "notification.omit")
        if notif.get("join") is not None and notif["join"] not in ("flat", "inline", "@none"):
            raise BadRequestData("notification.join must be flat, inline or @none")
        jl = notif.get("joinLevel")
        if jl is not None and (isinstance(jl, bool) or not isinstance(jl, int) or jl < 1):
            raise BadRequestData("notification.joinLevel must be a positive integer")
        if attrs and (pick or omit):
            raise BadRequestData("notification.attributes cannot be combined with pick or omit")
        if pick and omit and set(pick) & set(omit):
            raise BadRequestData("a member cannot be in both notification.pick and omit")
    for k in ("timeInterval", "throttling", "expiresAt", "isActive"):
        v = body.get(k)
        if v is None:
            continue
        if k in ("timeInterval", "throttling") and (
            isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0
        ):
            raise BadRequestData(f"{k} must be a positive number")
        if k == "isActive" and not isinstance(v, bool):
            raise BadRequestData("isActive must be a boolean")
        if k == "expiresAt":
            model.check_datetime(v, "expiresAt")
            if parse_time(v) <= dt.datetime.now(dt.UTC):
                raise BadRequestData("expiresAt must be in the future")
    if body.get("timeInterval") and body.get("throttling"):
        raise BadRequestData("timeInterval and throttling cannot be combined")
    if body.get("timeInterval") and "watchedAttributes" in body:
        raise BadRequestData("timeInterval and watchedAttributes cannot be combined")
    jc = body.get("jsonldContext")
    if jc is not None and (not isinstance(jc, str) or not model.is_uri(jc) or ":" not in jc):
        raise BadRequestData("jsonldContext must be the URL of an @context")


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


def _ctx_of(broker: Broker, url: str, tenant: str) -> Context:
    """The @context named by a jsonldContext URL (503 LdContextNotAvailable when it cannot be
    retrieved)."""
    raw = None if url == broker.config.core_context_url else url
    return broker.resolver.get(raw, tenant)


def _map_type(t: str, f: Any) -> str:
    """Apply ``f`` to every name of an entity type (expression)."""
    return _NAME.sub(lambda m: f(m.group(0)), t)


def _expand(doc: dict[str, Any], ctx: Context) -> None:
    """Expand the terms stored expanded (in place)."""
    if "entities" in doc:
        doc["entities"] = [{**e, "type": _map_type(e["type"], ctx.expand)} for e in doc["entities"]]
    if "watchedAttributes" in doc:
        doc["watchedAttributes"] = [ctx.expand(a) for a in doc["watchedAttributes"]]
    notif = doc.get("notification")
    if isinstance(notif, dict) and notif.get("attributes"):
        notif["attributes"] = [ctx.expand(a) for a in notif["attributes"]]


def _compact(doc: dict[str, Any], ctx: Context) -> None:
    if "entities" in doc:
        doc["entities"] = [
            {**e, "type": _map_type(e["type"], ctx.compact)} for e in doc["entities"]
        ]
    if "watchedAttributes" in doc:
        doc["watchedAttributes"] = [ctx.compact(a) for a in doc["watchedAttributes"]]
    notif = doc.get("notification")
    if isinstance(notif, dict) and notif.get("attributes"):
        notif["attributes"] = [ctx.compact(a) for a in notif["attributes"]]


def _check_compiles(broker: Broker, req: Req, doc: dict[str, Any]) -> None:
    """q, geoQ, scopeQ, idPattern, … must work with the subscription's @context."""
    url = doc.get("jsonldContext") or doc.get(_CTX) or broker.config.core_context_url
    compile_sub(req.tenant, doc, _ctx_of(broker, url, req.tenant))


def create_subscription(broker: Broker, req: Req, params: None = None) -> Result:
    body = req.body
    if not isinstance(body, dict):
        raise BadRequestData("the payload must be a Subscription object")
    _validate(broker, body)
    sid = body.get("id") or f"urn:ngsi-ld:Subscription:{uuid.uuid4().hex}"
    now = model.now_iso()
    doc = model_copy({k: v for k, v in body.items() if k not in _READ_ONLY and k != "@context"})
    doc["id"] = sid
    if not body.get("jsonldContext"):
        # the request's @context compacts the notifications; shown only when the client named
        # one (jsonldContext), as the ETSI suite expects
        raw = req.raw_context
        if isinstance(raw, list) and len(raw) == 1 and isinstance(raw[0], str):
            raw = raw[0]  # one URL: the Link header of the notifications names it
        if raw is None or isinstance(raw, str):
            doc[_CTX] = raw or broker.config.core_context_url
        else:
            # an implicitly created @context: shown as jsonldContext (the ETSI suite finds it
            # there); it lives in this worker's memory only, so the notifier (another process,
            # another resolver) builds it from the request's @context
            doc["jsonldContext"] = _context_url(broker, req)
            doc[_RAW_CTX] = req.raw_context
    doc.setdefault("notificationTrigger", list(DEFAULT_TRIGGERS))
    doc["createdAt"] = doc["modifiedAt"] = now
    if req.types is not None:
        # the creator may read only these entity types: notifications carry no others
        doc[_TYPES] = sorted(req.types)
    if req.ctx is not None:
        _expand(doc, req.ctx)
    _check_compiles(broker, req, doc)
    notify_schema.ensure(broker.store)
    with broker.write(req, "createSubscription") as tx:
        if not tx.sub_insert(sid, doc):
            raise AlreadyExists(f"subscription {sid} already exists")
    return Result(
        201,
        None,
        Kind.NONE,
        [(b"location", (broker.config.base_path + "/subscriptions/" + sid).encode())],
    )


def model_copy(doc: dict[str, Any]) -> dict[str, Any]:
    from .broker import clone_json

    out: dict[str, Any] = clone_json(doc)
    return out


def _status(doc: dict[str, Any]) -> str:
    exp = doc.get("expiresAt")
    if isinstance(exp, str):
        try:
            if parse_time(exp) <= dt.datetime.now(dt.UTC):
                return "expired"
        except ValueError:
            pass
    return "active" if doc.get("isActive", True) else "paused"


def _render(broker: Broker, req: Req, doc: dict[str, Any], sys_attrs: bool) -> dict[str, Any]:
    out = model_copy(doc)
    out.pop(_RAW_CTX, None)
    out.pop(_CTX, None)
    out.pop(_TYPES, None)
    if req.ctx is not None:
        _compact(out, req.ctx)
    out["status"] = _status(doc)
    state = notify_schema.sub_state(broker.store, req.tenant, doc["id"])
    notif = out.get("notification")
    if isinstance(notif, dict) and state is not None:
        for k in _COUNTERS:
            if state.get(k) is not None:
                notif[k] = state[k]
        if state.get("lastNotification"):
            notif["status"] = (
                "failed" if state.get("lastFailure") == state.get("lastNotification") else "ok"
            )
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
    notify_schema.ensure(broker.store)
    return Result(200, _render(broker, req, doc, params.sys_attrs), Kind.ENTITY)


def _page_link(broker: Broker, limit: int, offset: int, rel: str) -> str:
    path = broker.config.base_path + "/subscriptions"
    return f'<{path}?limit={limit}&offset={offset}>;rel="{rel}";type="application/ld+json"'


def query_subscriptions(broker: Broker, req: Req, params: Paging) -> Result:
    limit, offset = params.limit, params.offset
    if req.tenant:
        broker.store.check_tenant(req.tenant)
    notify_schema.ensure(broker.store)
    docs = sorted(
        broker.store.sub_list(req.tenant), key=lambda d: (d.get("createdAt", ""), d["id"])
    )
    page = docs[offset : offset + limit]
    res = Result(200, [_render(broker, req, d, False) for d in page], Kind.ENTITIES)
    if params.count:
        res.headers.append((b"ngsild-results-count", str(len(docs)).encode()))
    links = []
    if offset > 0 and limit > 0:
        links.append(_page_link(broker, limit, max(0, offset - limit), "prev"))
    if limit > 0 and offset + limit < len(docs):
        links.append(_page_link(broker, limit, offset + limit, "next"))
    if links:
        res.headers.append((b"link", ",".join(links).encode()))
    return res


def update_subscription(broker: Broker, req: Req, params: None, sid: str) -> Result:
    if not model.is_uri(sid):
        raise BadRequestData(f"subscription id is not a URI: {sid!r}")
    body = req.body
    if not isinstance(body, dict) or not body:
        raise BadRequestData("the payload must be a non-empty object")
    if "id" in body and body["id"] != sid:
        raise BadRequestData("the subscription id cannot be changed")
    _validate(broker, body, partial=True)
    if req.tenant:
        broker.store.check_tenant(req.tenant)
    now = model.now_iso()
    change = model_copy({k: v for k, v in body.items() if k not in ("@context", "id", "type")})
    if req.ctx is not None:
        _expand(change, req.ctx)
    with broker.write(req, "updateSubscription") as tx:
        doc = broker.store.sub_get(req.tenant, sid)
        if doc is None:
            raise ResourceNotFound(f"subscription {sid} not found")
        for k, v in change.items():
            if k in _READ_ONLY or k in (_RAW_CTX, _CTX, _TYPES):
                continue
            if k == "jsonldContext":
                doc.pop(_RAW_CTX, None)  # the client names the @context now
            if v is None or v == model.NULL:
                doc.pop(k, None)
            elif k == "notification" and isinstance(doc.get(k), dict):
                doc[k] = {**doc[k], **v}
            else:
                doc[k] = v
        n = doc.get("notification") or {}
        if n.get("attributes") and (n.get("pick") or n.get("omit")):
            raise BadRequestData("notification.attributes cannot be combined with pick or omit")
        if doc.get("timeInterval") and doc.get("throttling"):
            raise BadRequestData("timeInterval and throttling cannot be combined")
        doc.setdefault("notificationTrigger", list(DEFAULT_TRIGGERS))
        doc["modifiedAt"] = now
        _check_compiles(broker, req, doc)
        tx.sub_update(sid, doc)
    return NO_CONTENT


def delete_subscription(broker: Broker, req: Req, params: None, sid: str) -> Result:
    if not model.is_uri(sid):
        raise BadRequestData(f"subscription id is not a URI: {sid!r}")
    if req.tenant:
        broker.store.check_tenant(req.tenant)
    notify_schema.ensure(broker.store)
    with broker.write(req, "deleteSubscription") as tx:
        if not tx.sub_delete(sid):
            raise ResourceNotFound(f"subscription {sid} not found")
        notify_schema.forget_subscription(tx.cur, broker.store.placeholder, req.tenant, sid)
    return NO_CONTENT


def not_implemented(broker: Broker, req: Req, *args: Any) -> Result:
    """Endpoints that are routed (so media types, parameters and @context are checked)
    but not implemented yet: the temporal API and context sources."""
    raise NotImplementedYet("this endpoint is not implemented by herzstadt yet")
