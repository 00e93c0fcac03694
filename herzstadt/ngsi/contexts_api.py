"""The /jsonldContexts API (ETSI GS CIM 009 clause 5.13): list, serve, add, delete @contexts."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime

from .broker import NO_CONTENT, Broker, Kind, Req, Result
from .errors import BadRequestData, InvalidRequest, NgsiError, ResourceNotFound
from .jsonld import StoredContext, is_core_url
from .params import ContextListParams, Details, ReloadParams


def _iso(ts: float) -> str:
    d = datetime.fromtimestamp(ts, UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def _details(sc: StoredContext) -> dict:
    out = {
        "URL": sc.url,
        "localId": sc.id,
        "kind": sc.kind,
        "createdAt": _iso(sc.created_at),
    }
    if sc.uses:
        out["lastUsage"] = _iso(sc.last_used)
    # numberOfHits is optional; the ETSI suite's expectations for it are inconsistent: omitted
    if sc.origin:
        out["extraInfo"] = sc.origin
    return out


def _core_entry(broker: Broker) -> StoredContext:
    r = broker.resolver
    sc = r.by_url.get(r.core_url)
    if sc is None:
        sc = r._remember(r.core_url, r.core_doc, "Cached", "Shipped")
    return sc


def list_contexts(broker: Broker, req: Req, params: ContextListParams) -> Result:
    want = params.kind  # the spec's values are Hosted, Cached, ImplicitlyCreated
    _core_entry(broker)
    items = [sc for sc in broker.resolver.stored.values() if want is None or sc.kind == want]
    if params.details:
        return Result(200, [_details(sc) for sc in items], Kind.RAW)
    return Result(200, [sc.url for sc in items], Kind.RAW)


def _find(broker: Broker, cid: str) -> StoredContext | None:
    r = broker.resolver
    if is_core_url(cid):
        return _core_entry(broker)
    return r.stored.get(cid) or r.by_url.get(cid)


def serve_context(broker: Broker, req: Req, params: Details, cid: str) -> Result:
    sc = _find(broker, cid)
    if sc is None:
        raise ResourceNotFound(f"@context {cid} not found")
    if params.details:
        return Result(200, _details(sc), Kind.RAW)
    return Result(200, sc.doc, Kind.DOCUMENT)


def add_context(broker: Broker, req: Req, params: None = None) -> Result:
    body = req.body
    if not isinstance(body, dict) or "@context" not in body:
        raise InvalidRequest("the payload must be a JSON object with an @context member")
    raw = body["@context"]
    if not isinstance(raw, (dict, list, str)):
        raise BadRequestData("@context must be an object, an array or a URL")
    if isinstance(raw, list):
        for it in raw:
            if not isinstance(it, (dict, str)):
                raise BadRequestData("@context array members must be objects or URLs")
    cid = "urn:ngsi-ld:Context:" + uuid.uuid4().hex
    base = req.base_url + broker.config.base_path + "/jsonldContexts"
    r = broker.resolver
    # the URLs it references become cached contexts when they can be had; hosting never fails
    for u in raw if isinstance(raw, list) else [raw]:
        if isinstance(u, str):
            with contextlib.suppress(NgsiError):
                r.load_document(u)
    r.host({"@context": raw}, base, cid)
    return Result(
        201,
        None,
        Kind.NONE,
        [(b"location", (broker.config.base_path + "/jsonldContexts/" + cid).encode())],
    )


def delete_context(broker: Broker, req: Req, params: ReloadParams, cid: str) -> Result:
    sc = _find(broker, cid)
    if params.reload:
        if sc is None:
            raise BadRequestData(f"@context {cid} is not a cached @context")
        if sc.kind != "Cached":
            raise BadRequestData("only cached @contexts can be reloaded")
        if is_core_url(sc.url):
            return NO_CONTENT
        broker.resolver.reload(sc)
        return NO_CONTENT
    if sc is None:
        raise ResourceNotFound(f"@context {cid} not found")
    if is_core_url(sc.url):
        raise BadRequestData("the core @context cannot be deleted")
    broker.resolver.forget(sc)
    return NO_CONTENT
