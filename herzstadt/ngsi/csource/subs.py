"""``/csourceSubscriptions`` (ETSI GS CIM 009 5.11): subscriptions to context source
registrations, and their notifications.

A csource subscription is a Subscription (5.2.12) kept in ``ngsi_csource_sub``; it is validated,
expanded and rendered like an entity subscription (``herzstadt.ngsi.subscriptions``). Its
``entities``, ``watchedAttributes`` and ``q``/``geoQ`` select registrations: an EntitySelector
matches an EntityInfo of the same type whose id (or idPattern) is compatible, watched attributes
match a RegistrationInfo offering one of them (or any attribute), q and geoQ apply to the
registration's own members. A notification (``ContextSourceNotification``) carries the
registrations with the RegistrationInfos (and EntityInfos) that matched:

- when the subscription is created: every matching registration (``newlyMatching``);
- when a registration is created, updated or deleted (in the same transaction as the change):
  ``newlyMatching``, ``updated`` or ``noLongerMatching``;
- when a registration expires (``expiresAt`` passes; the notifier's periodic check, ``expired``):
  ``noLongerMatching``.

The notifications are rows of the notifier's outbox (``ngsi_notification``): the notifier
delivers them (allow-list, retries, leases) like any other notification.
"""

# ruff: noqa: S608 - SQL text from fixed table names and placeholders; all data is bound
from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from typing import Any

import orjson

from .. import model
from .. import subscriptions as sb
from ..broker import NO_CONTENT, Broker, Kind, Req, Result
from ..errors import AlreadyExists, BadRequestData, ResourceNotFound
from ..notify import schema as notify_schema
from ..notify.compile import CompiledSub, compile_sub
from ..params import Paging, SubscriptionOptions
from ..query import type_matches
from . import registry, schema

NOTIFICATION_TYPE = "ContextSourceNotification"
log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------- storage
def _get_in(cur: Any, p: str, tenant: str, sid: str) -> dict[str, Any] | None:
    cur.execute(f"SELECT doc FROM ngsi_csource_sub WHERE tenant={p} AND id={p}", (tenant, sid))
    r = cur.fetchone()
    if r is None:
        return None
    d: dict[str, Any] = orjson.loads(r[0])
    return d


def _list_in(cur: Any, p: str, tenant: str) -> list[dict[str, Any]]:
    cur.execute(
        f"SELECT doc FROM ngsi_csource_sub WHERE tenant={p} ORDER BY created_at, id", (tenant,)
    )
    return [orjson.loads(r[0]) for r in cur.fetchall()]


# -------------------------------------------------------------------------------- matching
def _compiled(broker: Broker, tenant: str, doc: dict[str, Any]) -> CompiledSub:
    url = doc.get("jsonldContext") or doc.get(sb._CTX) or broker.config.core_context_url
    return compile_sub(tenant, doc, sb._ctx_of(broker, url, tenant))


def _entity_selected(cs: CompiledSub, e: dict[str, Any]) -> bool:
    for s in cs.selectors:
        if s.type is not None and not type_matches(s.type, {str(e.get("type"))}, cs.ctx.expand):
            continue
        if s.id is not None:
            if "id" in e and e["id"] != s.id:
                continue
            if "idPattern" in e and not registry._id_matches(e, s.id):
                continue
        if s.pattern is not None and "id" in e and not s.pattern.search(e["id"]):
            continue
        return True
    return False


def relevant(
    cs: CompiledSub, doc: dict[str, Any] | None, *, at: dt.datetime | None = None
) -> dict[str, Any] | None:
    """The registration (expanded) reduced to what the subscription selects, or None (also when
    it has expired by ``at``, default now)."""
    if doc is None:
        return None
    if registry.Registration.from_doc(cs.tenant, doc).expired(at):
        return None
    if cs.matcher is not None and not cs.matcher(registry.pseudo_entity(doc, cs.ctx.expand)):
        return None
    infos = []
    for ri in doc.get("information") or []:
        ents = ri.get("entities") or []
        kept = ents
        if cs.selectors and ents:
            kept = [e for e in ents if _entity_selected(cs, e)]
            if not kept:
                continue
        if cs.watched:
            names = set(ri.get("propertyNames") or ()) | set(ri.get("relationshipNames") or ())
            if names and not names & cs.watched:
                continue
        out = dict(ri)
        if kept:
            out["entities"] = kept
        infos.append(out)
    if not infos:
        return None
    return {**doc, "information": infos}


def _render_reg(cs: CompiledSub, doc: dict[str, Any]) -> dict[str, Any]:
    out = registry.compact(sb.model_copy(doc), cs.ctx.compact)
    if not cs.ro.sys_attrs:
        out.pop("createdAt", None)
        out.pop("modifiedAt", None)
    return out


def _queue(cur: Any, p: str, cs: CompiledSub, reason: str, docs: list[dict[str, Any]]) -> None:
    payload = {
        "id": f"urn:ngsi-ld:Notification:{uuid.uuid4().hex}",
        "type": NOTIFICATION_TYPE,
        "subscriptionId": cs.sid,
        "triggerReason": reason,
        "data": [_render_reg(cs, d) for d in docs],
    }
    now = time.time()
    cur.execute(
        "INSERT INTO ngsi_notification(tenant, sub_id, ep_key, target, payload, created_at,"
        f" next_at) VALUES ({p},{p},{p},{p},{p},{p},{p})",
        (
            cs.tenant,
            cs.sid,
            str(cs.target["uri"]),
            orjson.dumps(cs.target).decode(),
            orjson.dumps(payload).decode(),
            now,
            now,
        ),
    )


def on_change(
    broker: Broker, cur: Any, tenant: str, old: dict[str, Any] | None, new: dict[str, Any] | None
) -> int:
    """Inside the write of a registration change: queue the notifications of the tenant's
    csource subscriptions (returns how many)."""
    p = broker.store.placeholder
    now = dt.datetime.now(dt.UTC)
    n = 0
    for doc in _list_in(cur, p, tenant):
        try:
            cs = _compiled(broker, tenant, doc)
        except Exception as e:  # a subscription that no longer compiles is skipped
            log.warning("csource subscription %s skipped: %s", doc.get("id"), e)
            continue
        if not cs.active(now) or cs.time_interval:
            continue  # periodic subscriptions are notified every timeInterval (``periodic``)
        before, after = relevant(cs, old), relevant(cs, new)
        if after is not None:
            _queue(cur, p, cs, "updated" if before is not None else "newlyMatching", [after])
            n += 1
        elif before is not None:
            _queue(cur, p, cs, "noLongerMatching", [before])
            n += 1
    return n


def _notify_newly_matching(cur: Any, p: str, cs: CompiledSub, before: CompiledSub | None) -> None:
    """One ``newlyMatching`` notification with the registrations the subscription (created, or
    changed from ``before``) matches and did not match before."""
    if not cs.active(dt.datetime.now(dt.UTC)):
        return
    was_active = before is not None and before.active(dt.datetime.now(dt.UTC))
    found = []
    for d in registry.candidates_in(cur, p, cs.tenant, None):
        r = relevant(cs, d)
        if r is None:
            continue
        if was_active and before is not None and relevant(before, d) is not None:
            continue
        found.append(r)
    if found:
        _queue(cur, p, cs, "newlyMatching", found)


def _schedule(cur: Any, p: str, tenant: str, sid: str, at: float) -> None:
    """The time of the next periodic notification of a ``timeInterval`` subscription."""
    cur.execute(
        "INSERT INTO ngsi_sub_state(tenant, sub_id, next_periodic) VALUES"
        f" ({p},{p},{p}) ON CONFLICT (tenant, sub_id) DO UPDATE SET"
        " next_periodic = excluded.next_periodic",
        (tenant, sid, at),
    )


def periodic(broker: Broker, cur: Any, p: str, now: float) -> int:
    """Inside the notifier's write (``notify.dispatch``): the due periodic notifications of the
    csource subscriptions with a ``timeInterval``: every registration they match (``updated``;
    none: no notification), then the next one ``timeInterval`` seconds later. Returns how many."""
    # a cheap pre-filter (the check runs every half second); the member is checked below
    cur.execute("SELECT tenant, doc FROM ngsi_csource_sub WHERE doc LIKE '%timeInterval%'")
    rows = cur.fetchall()
    nowdt = dt.datetime.fromtimestamp(now, dt.UTC)
    n = 0
    for tenant, raw in rows:
        doc = orjson.loads(raw)
        if not doc.get("timeInterval"):
            continue
        try:
            cs = _compiled(broker, tenant, doc)
        except Exception as e:  # a subscription that no longer compiles is skipped
            log.warning("csource subscription %s skipped: %s", doc.get("id"), e)
            continue
        if not cs.active(nowdt):
            continue
        cur.execute(
            f"SELECT next_periodic FROM ngsi_sub_state WHERE tenant={p} AND sub_id={p}",
            (tenant, cs.sid),
        )
        r = cur.fetchone()
        if r is not None and float(r[0]) > now:
            continue
        found = []
        for d in registry.candidates_in(cur, p, tenant, None):
            hit = relevant(cs, d)
            if hit is not None:
                found.append(hit)
        if found:
            _queue(cur, p, cs, "updated", found)
            n += 1
        _schedule(cur, p, tenant, cs.sid, now + cs.time_interval)
    return n


#: ``ngsi_meta`` key: the time up to which expired registrations have been notified
EXPIRY_MARK = "csource_expiry_checked"


def expired(broker: Broker, cur: Any, p: str, now: float) -> int:
    """Inside the notifier's write (``notify.dispatch``, one dispatcher at a time): a
    ``noLongerMatching`` notification for every registration that expired since the last check
    (``expiresAt`` in (mark, now]) to every active csource subscription it matched just before
    (not the periodic ones, which are not notified on change). The mark in ``ngsi_meta`` moves
    in the same transaction, so each expiry is notified once; the first check only sets it.
    Returns how many notifications were queued."""
    cur.execute(f"SELECT value FROM ngsi_meta WHERE key={p}", (EXPIRY_MARK,))
    r = cur.fetchone()
    if r is None:
        cur.execute(
            f"INSERT INTO ngsi_meta(key, value) VALUES ({p},{p}) ON CONFLICT (key) DO NOTHING",
            (EXPIRY_MARK, repr(now)),
        )
        return 0
    mark = float(r[0])
    if now <= mark:
        return 0
    cur.execute(
        "SELECT tenant, doc FROM ngsi_csource WHERE expires_at > "
        f"{p} AND expires_at <= {p} ORDER BY tenant, expires_at, id",
        (mark, now),
    )
    rows = cur.fetchall()
    if not rows:
        return 0  # the mark stays: nothing in (mark, now] is lost, and nothing is written
    nowdt = dt.datetime.fromtimestamp(now, dt.UTC)
    n = 0
    subs_of: dict[str, list[CompiledSub]] = {}
    for tenant, raw in rows:
        doc = orjson.loads(raw)
        exp = registry._epoch(doc.get("expiresAt"))
        just_before = dt.datetime.fromtimestamp((exp or now) - 0.001, dt.UTC)
        if tenant not in subs_of:
            subs_of[tenant] = []
            for sdoc in _list_in(cur, p, tenant):
                try:
                    subs_of[tenant].append(_compiled(broker, tenant, sdoc))
                except Exception as e:  # a subscription that no longer compiles is skipped
                    log.warning("csource subscription %s skipped: %s", sdoc.get("id"), e)
        for cs in subs_of[tenant]:
            if not cs.active(nowdt) or cs.time_interval:
                continue
            before = relevant(cs, doc, at=just_before)
            if before is not None:
                _queue(cur, p, cs, "noLongerMatching", [before])
                n += 1
    cur.execute(f"UPDATE ngsi_meta SET value={p} WHERE key={p}", (repr(now), EXPIRY_MARK))
    return n


# ------------------------------------------------------------------------------ use cases
def create_subscription(broker: Broker, req: Req, params: None = None) -> Result:
    body = req.body
    if not isinstance(body, dict):
        raise BadRequestData("the payload must be a Subscription object")
    sb._validate(broker, body)
    sid = body.get("id") or f"urn:ngsi-ld:Subscription:{uuid.uuid4().hex}"
    doc = sb.model_copy(
        {k: v for k, v in body.items() if k not in sb._READ_ONLY and k != "@context"}
    )
    doc["id"] = sid
    if not body.get("jsonldContext"):
        raw = req.raw_context
        if isinstance(raw, list) and len(raw) == 1 and isinstance(raw[0], str):
            raw = raw[0]
        if raw is None or isinstance(raw, str):
            doc[sb._CTX] = raw or broker.config.core_context_url
        else:
            doc["jsonldContext"] = sb._context_url(broker, req)
            doc[sb._RAW_CTX] = req.raw_context
    now = model.now_iso()
    doc["createdAt"] = doc["modifiedAt"] = now
    if req.ctx is not None:
        sb._expand(doc, req.ctx)
    cs = _compiled(broker, req.tenant, doc)
    schema.ensure(broker.store)
    p = broker.store.placeholder
    with broker.write(req, "createCsourceSubscription") as tx:
        tx.cur.execute(
            "INSERT INTO ngsi_csource_sub(tenant, id, doc, created_at) VALUES"
            f" ({p},{p},{p},{p}) ON CONFLICT (tenant, id) DO NOTHING RETURNING 1",
            (req.tenant, sid, orjson.dumps(doc).decode(), time.time()),
        )
        if tx.cur.fetchone() is None:
            raise AlreadyExists(f"subscription {sid} already exists")
        _notify_newly_matching(tx.cur, p, cs, None)
        if cs.time_interval:
            _schedule(tx.cur, p, req.tenant, sid, time.time() + cs.time_interval)
    return Result(
        201,
        None,
        Kind.NONE,
        [(b"location", (broker.config.base_path + "/csourceSubscriptions/" + sid).encode())],
    )


def _own_context(broker: Broker, req: Req, doc: dict[str, Any]) -> Any:
    """The @context the subscription was created with (its terms were expanded with it): the
    creation request's @context URL, or the implicit @context made of its inline @context; the
    request's own (core) @context when the client named a different ``jsonldContext``."""
    url = doc.get(sb._CTX) or (doc.get("jsonldContext") if sb._RAW_CTX in doc else None)
    if not url:
        return req.ctx
    return sb._ctx_of(broker, url, req.tenant)


def _check_id(sid: str) -> None:
    if not model.is_uri(sid):
        raise BadRequestData(f"subscription id is not a URI: {sid!r}")


def retrieve_subscription(
    broker: Broker, req: Req, params: SubscriptionOptions, sid: str
) -> Result:
    _check_id(sid)
    if req.tenant:
        broker.store.check_tenant(req.tenant)
    schema.ensure(broker.store)
    store: Any = broker.store
    with store.reading() as cur:
        doc = _get_in(cur, broker.store.placeholder, req.tenant, sid)
    if doc is None:
        raise ResourceNotFound(f"subscription {sid} not found")
    return Result(200, sb._render(broker, req, doc, params.sys_attrs), Kind.ENTITY)


def _page_link(broker: Broker, limit: int, offset: int, rel: str) -> str:
    path = broker.config.base_path + "/csourceSubscriptions"
    return f'<{path}?limit={limit}&offset={offset}>;rel="{rel}";type="application/ld+json"'


def query_subscriptions(broker: Broker, req: Req, params: Paging) -> Result:
    limit, offset = params.limit, params.offset
    if req.tenant:
        broker.store.check_tenant(req.tenant)
    schema.ensure(broker.store)
    store: Any = broker.store
    with store.reading() as cur:
        docs = _list_in(cur, broker.store.placeholder, req.tenant)
    page = docs[offset : offset + limit]
    res = Result(200, [sb._render(broker, req, d, False) for d in page], Kind.ENTITIES)
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
    _check_id(sid)
    body = req.body
    if not isinstance(body, dict) or not body:
        raise BadRequestData("the payload must be a non-empty object")
    if "id" in body and body["id"] != sid:
        raise BadRequestData("the subscription id cannot be changed")
    sb._validate(broker, body, partial=True)
    if req.tenant:
        broker.store.check_tenant(req.tenant)
    change = sb.model_copy({k: v for k, v in body.items() if k not in ("@context", "id", "type")})
    # a fragment that names no @context (no Link header, plain JSON) is read with the
    # subscription's own @context, so its terms keep meaning what they meant at creation
    own_ctx = req.raw_context is None
    if req.ctx is not None and not own_ctx:
        sb._expand(change, req.ctx)
    schema.ensure(broker.store)
    p = broker.store.placeholder
    with broker.write(req, "updateCsourceSubscription") as tx:
        old = _get_in(tx.cur, p, req.tenant, sid)
        if old is None:
            raise ResourceNotFound(f"subscription {sid} not found")
        ctx = _own_context(broker, req, old) if own_ctx else None
        if ctx is not None:
            sb._expand(change, ctx)
        doc = sb.model_copy(old)
        for k, v in change.items():
            if k in sb._READ_ONLY or k in (sb._RAW_CTX, sb._CTX, sb._TYPES):
                continue
            if k == "jsonldContext":
                doc.pop(sb._RAW_CTX, None)
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
        doc["modifiedAt"] = model.now_iso()
        try:
            before: CompiledSub | None = _compiled(broker, req.tenant, old)
        except BadRequestData:
            before = None
        after = _compiled(broker, req.tenant, doc)
        _notify_newly_matching(tx.cur, p, after, before)
        if after.time_interval and (before is None or before.time_interval != after.time_interval):
            _schedule(tx.cur, p, req.tenant, sid, time.time() + after.time_interval)
        tx.cur.execute(
            f"UPDATE ngsi_csource_sub SET doc={p} WHERE tenant={p} AND id={p}",
            (orjson.dumps(doc).decode(), req.tenant, sid),
        )
    return NO_CONTENT


def delete_subscription(broker: Broker, req: Req, params: None, sid: str) -> Result:
    _check_id(sid)
    if req.tenant:
        broker.store.check_tenant(req.tenant)
    schema.ensure(broker.store)
    p = broker.store.placeholder
    with broker.write(req, "deleteCsourceSubscription") as tx:
        tx.cur.execute(
            f"DELETE FROM ngsi_csource_sub WHERE tenant={p} AND id={p}", (req.tenant, sid)
        )
        if tx.cur.rowcount <= 0:
            raise ResourceNotFound(f"subscription {sid} not found")
        notify_schema.forget_subscription(tx.cur, p, req.tenant, sid)
    return NO_CONTENT
