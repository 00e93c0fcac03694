"""The /jsonldContexts API (ETSI GS CIM 009 clause 5.13): list, serve, add, delete @contexts."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime
from typing import Any

from .broker import NO_CONTENT, Broker, Kind, Req, Result
from .errors import BadRequestData, InvalidRequest, NgsiError, ResourceNotFound
from .jsonld import StoredContext, is_core_url, local_id
from .params import ContextListParams, Details, ReloadParams


def _iso(ts: float) -> str:
    d = datetime.fromtimestamp(ts, UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def _details(sc: StoredContext) -> dict[str, Any]:
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


def _hosted(broker: Broker, tenant: str) -> list[StoredContext]:
    """The tenant's hosted @contexts, from the store (with this worker's usage figures)."""
    r = broker.resolver
    out = []
    for cid, url, kind, doc, created_at in broker.store.context_list(tenant):
        sc = StoredContext(
            id=cid,
            url=url,
            kind=kind,
            doc=doc,
            created_at=created_at,
            origin="UserCreated",
            tenant=tenant,
        )
        hit = r.docs.peek(("hosted", tenant, cid))
        if hit is not None:
            sc.uses, sc.last_used = hit[1].uses, hit[1].last_used
        out.append(sc)
    return out


def list_contexts(broker: Broker, req: Req, params: ContextListParams) -> Result:
    want = params.kind  # the spec's values are Hosted, Cached, ImplicitlyCreated
    r = broker.resolver
    items: list[StoredContext] = []
    if want in (None, "Cached"):
        items += r.cached()
    if want in (None, "Hosted"):
        items += _hosted(broker, req.tenant)
    if want in (None, "ImplicitlyCreated"):
        items += r.implicit_of(req.tenant)
    if params.details:
        return Result(200, [_details(sc) for sc in items], Kind.RAW)
    return Result(200, [sc.url for sc in items], Kind.RAW)


def _find(broker: Broker, req: Req, cid: str) -> StoredContext | None:
    """A @context by local id or URL: the core one, a cached one, or one of the tenant's."""
    r = broker.resolver
    if is_core_url(cid):
        return r.core_entry
    sc = r.find_cached(cid)
    if sc is not None:
        return sc
    lid = local_id(cid) or cid
    return r.find_local(req.tenant, lid, fresh=True)


def serve_context(broker: Broker, req: Req, params: Details, cid: str) -> Result:
    sc = _find(broker, req, cid)
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
                r.load_document(u, req.tenant)
    doc = {"@context": raw}
    sc = StoredContext(id=cid, url=base + "/" + cid, kind="Hosted", doc=doc, tenant=req.tenant)
    with broker.store.write(req.tenant) as tx:
        tx.context_insert(cid, sc.url, "Hosted", doc, sc.created_at)
    r.host(doc, base, cid, req.tenant)
    return Result(
        201,
        None,
        Kind.NONE,
        [(b"location", (broker.config.base_path + "/jsonldContexts/" + cid).encode())],
    )


def delete_context(broker: Broker, req: Req, params: ReloadParams, cid: str) -> Result:
    sc = _find(broker, req, cid)
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
    if sc.kind == "Hosted":
        with broker.store.write(req.tenant) as tx:
            gone = tx.context_delete(sc.id)
        broker.resolver.forget(sc)
        if not gone:
            raise ResourceNotFound(f"@context {cid} not found")
        return NO_CONTENT
    broker.resolver.forget(sc)
    return NO_CONTENT
