"""Batch entity operations and purge; ``load_entities`` for fixtures and the demo."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import model, queries
from .auth import Principal
from .broker import NO_CONTENT, Broker, Kind, Req, Result, clone_json
from .edits import finish_new, merge_attrs, merge_doc, upsert_doc
from .errors import (
    AlreadyExists,
    BadRequestData,
    Forbidden,
    NgsiError,
    ResourceNotFound,
)
from .jsonld import Context
from .model import ParseOptions
from .params import PurgeParams, WriteOptions
from .storage import event_rows, retrying


def _batch_list(req: Req) -> list[Any]:
    b = req.body
    if not isinstance(b, list):
        raise BadRequestData("the payload must be a JSON array")
    if not b:
        raise BadRequestData("the payload must not be an empty array")
    return b


def _err(eid: Any, e: NgsiError) -> dict[str, Any]:
    return {"entityId": eid if isinstance(eid, str) else str(eid), "error": e.problem()}


def _batch_entity_ctx(broker: Broker, req: Req, item: Any) -> Context:
    """The @context of one entity in a batch (ld+json bodies carry it per entity)."""
    if not isinstance(item, dict):
        raise BadRequestData("each entity must be a JSON object")
    if req.ld:
        if "@context" not in item:
            raise BadRequestData("application/ld+json entity without @context")
        return broker.resolver.get(item["@context"], req.tenant)
    if "@context" in item:
        raise BadRequestData("@context in an application/json entity; use application/ld+json")
    assert req.ctx is not None
    return req.ctx


def _batch_result(success: list[Any], errors: list[Any], created: list[Any] | None) -> Result:
    """207 with errors, else 201 with the ids in ``created`` (when any), else 204."""
    if errors:
        return Result(207, {"success": success, "errors": errors}, Kind.RAW)
    if created:
        return Result(201, created, Kind.RAW)
    return NO_CONTENT


def _check_batch_size(broker: Broker, items: list[Any]) -> None:
    if len(items) > broker.config.max_batch_entities:
        raise BadRequestData(f"at most {broker.config.max_batch_entities} entities per batch")


def _parse_batch(
    broker: Broker, req: Req, items: list[Any], parse: Callable[[Any, Context], dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Parse every entity of a batch (before the transaction): (parsed, errors)."""
    parsed: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for item in items:
        try:
            doc = parse(item, _batch_entity_ctx(broker, req, item))
            if doc.get("type") and not req.principal.may_touch(doc["type"]):
                raise _forbidden(doc["id"])
            parsed.append(doc)
        except NgsiError as e:
            errors.append(_err(item.get("id") if isinstance(item, dict) else None, e))
    return parsed, errors


def _forbidden(eid: str) -> Forbidden:
    return Forbidden(f"entity {eid}: its type is not one this client may write")


def _change_existing(
    broker: Broker,
    req: Req,
    parsed: list[dict[str, Any]],
    errors: list[dict[str, Any]],
    now: str,
    change: Callable[[str, dict[str, Any], dict[str, Any]], tuple[dict[str, Any], bool]],
    operation: str,
) -> list[str]:
    """Apply ``change(eid, current doc, fragment) -> (new doc, success)`` to existing entities in
    one transaction (an entity named twice gets both fragments in order); unknown ids are
    errors. Returns the ids of the successes, in order."""
    success: list[str] = []
    broker.store.check_tenant(req.tenant)
    may_touch = req.principal.may_touch
    with broker.write(req, operation) as tx:
        existing = tx.get_many([d["id"] for d in parsed])
        state: dict[str, tuple[int, dict[str, Any], dict[str, Any]]] = {}
        for frag in parsed:
            eid = frag["id"]
            if eid in state:
                pk, old, cur = state[eid]
            elif eid in existing:
                pk, old = existing[eid]
                cur = old
            else:
                errors.append(_err(eid, ResourceNotFound(f"entity {eid} not found")))
                continue
            if not may_touch(cur.get("type")):
                errors.append(_err(eid, _forbidden(eid)))
                continue
            doc, ok = change(eid, cur, frag)
            if not may_touch(doc.get("type")):
                errors.append(_err(eid, _forbidden(eid)))
                continue
            state[eid] = (pk, old, doc)
            if ok and eid not in success:
                success.append(eid)
        tx.update_many(list(state.values()))
        tx.events(
            [r for _pk, old, d in state.values() for r in event_rows(req.tenant, old, d, now)]
        )
    return success


def batch_create(broker: Broker, req: Req, params: None = None) -> Result:
    items = _batch_list(req)
    _check_batch_size(broker, items)
    now = model.now_iso()
    seen: set[str] = set()

    def parse(item: Any, ctx: Context) -> dict[str, Any]:
        doc = finish_new(model.parse_entity(item, ctx, now), now)
        if doc["id"] in seen:
            raise AlreadyExists(f"entity {doc['id']} appears twice in the batch")
        seen.add(doc["id"])
        return doc

    parsed, errors = _parse_batch(broker, req, items, parse)

    def create() -> set[str]:
        with broker.write(req, "batchCreate") as tx:
            # INSERT … ON CONFLICT DO NOTHING: ids that exist (also just created by a concurrent
            # request) come back and are reported, the others are created
            return {d["id"] for d in tx.insert_many(parsed, events_at=now)}

    taken = retrying(create)
    success = [d["id"] for d in parsed if d["id"] not in taken]
    for d in parsed:
        if d["id"] in taken:
            errors.append(_err(d["id"], AlreadyExists(f"entity {d['id']} already exists")))
    return _batch_result(success, errors, success)


def batch_upsert(broker: Broker, req: Req, params: WriteOptions) -> Result:
    items = _batch_list(req)
    _check_batch_size(broker, items)
    update_mode = params.update
    if update_mode and params.replace:
        raise BadRequestData("options update and replace are exclusive")
    now = model.now_iso()
    parsed, errors = _parse_batch(
        broker, req, items, lambda item, ctx: model.parse_entity(item, ctx, now)
    )
    created_ids, forbidden = retrying(lambda: _upsert(broker, req, parsed, now, update_mode))
    errors.extend(_err(eid, _forbidden(eid)) for eid in forbidden)
    success = [eid for eid in dict.fromkeys(d["id"] for d in parsed) if eid not in forbidden]
    return _batch_result(success, errors, created_ids)


def _upsert(
    broker: Broker, req: Req, parsed: list[dict[str, Any]], now: str, update_mode: bool
) -> tuple[list[str], list[str]]:
    """One transaction of a batch upsert: (ids created, existing ids the client may not write).

    The entities that exist are locked and changed; the others are inserted with
    ``ON CONFLICT DO NOTHING``. An id that a concurrent request created in between comes back
    from the insert and is then changed like an existing entity (so concurrent upserts of the
    same new entities all succeed, the last one's content wins)."""
    frags: dict[str, list[dict[str, Any]]] = {}
    for frag in parsed:
        frags.setdefault(frag["id"], []).append(frag)
    may_touch = req.principal.may_touch
    with broker.write(req, "batchUpsert") as tx:
        existing = tx.get_many(list(frags))
        new = {
            eid: upsert_doc(None, fs, now, update_mode)
            for eid, fs in frags.items()
            if eid not in existing
        }
        taken = {d["id"] for d in tx.insert_many(list(new.values()), events_at=now)}
        if taken:
            existing.update(tx.get_many(list(taken)))
        forbidden = [eid for eid, (_pk, old) in existing.items() if not may_touch(old.get("type"))]
        updates = [
            (pk, old, upsert_doc(old, frags[eid], now, update_mode))
            for eid, (pk, old) in existing.items()
            if eid not in forbidden
        ]
        tx.update_many(updates)
        tx.events([r for _pk, old, d in updates for r in event_rows(req.tenant, old, d, now)])
    return [eid for eid in new if eid not in taken], forbidden


def batch_update(broker: Broker, req: Req, params: WriteOptions) -> Result:
    items = _batch_list(req)
    _check_batch_size(broker, items)
    no_overwrite = params.no_overwrite
    now = model.now_iso()
    parsed, errors = _parse_batch(
        broker,
        req,
        items,
        lambda item, ctx: model.parse_entity(item, ctx, now, require_type=False),
    )

    def change(eid: str, cur: dict[str, Any], frag: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        doc, skipped = merge_attrs(cur, frag, now, no_overwrite)
        if skipped:
            names = ", ".join(x["attributeName"] for x in skipped)
            errors.append(_err(eid, BadRequestData(f"attributes not overwritten: {names}")))
        return doc, not skipped

    success = _change_existing(broker, req, parsed, errors, now, change, "batchUpdate")
    return _batch_result(success, errors, None)


def batch_merge(broker: Broker, req: Req, params: None = None) -> Result:
    items = _batch_list(req)
    _check_batch_size(broker, items)
    now = model.now_iso()
    merge = ParseOptions(merge=True)
    parsed, errors = _parse_batch(
        broker,
        req,
        items,
        lambda item, ctx: model.parse_entity(item, ctx, now, require_type=False, opts=merge),
    )
    success = _change_existing(
        broker,
        req,
        parsed,
        errors,
        now,
        lambda eid, cur, frag: (merge_doc(cur, frag, now), True),
        "batchMerge",
    )
    return _batch_result(success, errors, None)


def batch_delete(broker: Broker, req: Req, params: None = None) -> Result:
    items = _batch_list(req)
    _check_batch_size(broker, items)
    now = model.now_iso()
    errors: list[dict[str, Any]] = []
    ids: list[str] = []
    for item in items:
        if not isinstance(item, str) or not model.is_uri(item):
            errors.append(_err(item, BadRequestData(f"invalid entity id {item!r}")))
        else:
            ids.append(item)
    broker.store.check_tenant(req.tenant)
    success: list[str] = []
    may_touch = req.principal.may_touch
    with broker.write(req, "batchDelete") as tx:
        existing = tx.get_many(ids)
        pks = []
        ev: list[tuple[Any, ...]] = []
        for eid in ids:
            if eid in existing and not may_touch(existing[eid][1].get("type")):
                errors.append(_err(eid, _forbidden(eid)))
            elif eid in existing:
                pk, old = existing.pop(eid)
                pks.append(pk)
                ev.extend(event_rows(req.tenant, old, None, now))
                success.append(eid)
            else:
                errors.append(_err(eid, ResourceNotFound(f"entity {eid} not found")))
        tx.delete_many(pks)
        tx.events(ev)
    return _batch_result(success, errors, None)


def purge_entities(broker: Broker, req: Req, params: PurgeParams) -> Result:
    ctx = req.ctx
    assert ctx is not None
    keep = {ctx.expand(a) for a in params.keep} if params.keep is not None else None
    drop = {ctx.expand(a) for a in params.drop} if params.drop is not None else None
    broker.store.check_tenant(req.tenant)
    # only entities the principal may touch (build_spec restricts to its types)
    spec = queries.build_spec(broker.store, req, params.query)
    spec.limit, spec.offset = 10**12, 0
    now = model.now_iso()
    docs, _ = broker.store.query(req.tenant, spec)
    with broker.write(req, "purgeEntities") as tx:
        current = tx.get_many([d["id"] for d in docs])
        ev: list[tuple[Any, ...]] = []
        if keep is None and drop is None:
            tx.delete_many([pk for pk, _ in current.values()])
            for _pk, old in current.values():
                ev.extend(event_rows(req.tenant, old, None, now))
        else:
            ups = []
            for pk, old in current.values():
                doc = clone_json(old)
                attrs = doc.get("attrs") or {}
                for iri in list(attrs):
                    if (keep is not None and iri not in keep) or (drop is not None and iri in drop):
                        del attrs[iri]
                if attrs != (old.get("attrs") or {}):
                    doc["modifiedAt"] = now
                    ups.append((pk, old, doc))
                    ev.extend(event_rows(req.tenant, old, doc, now))
            tx.update_many(ups)
        tx.events(ev)
    return NO_CONTENT


def load_entities(
    broker: Broker,
    entities: list[dict[str, Any]],
    *,
    principal: Principal,
    tenant: str | None = None,
    context: Any = None,
    replace: bool = True,
) -> dict[str, Any]:
    """Upsert a list of NGSI-LD entities (normalized/concise; each may carry ``@context``) as
    ``principal`` (e.g. ``system_principal(tenant)``) in ``tenant`` (default: the principal's).

    For the demo and fixtures: returns ``{"success": [...], "errors": [...]}``.
    """
    req = Req(
        principal=principal,
        tenant=principal.tenant if tenant is None else tenant,
        ctx=broker.resolver.get(context, principal.tenant if tenant is None else tenant),
        body=list(entities),
    )
    res = batch_upsert(broker, req, WriteOptions(update=not replace))
    if res.status == 207:
        body: dict[str, Any] = res.body
        return body
    return {"success": [e.get("id") for e in entities if isinstance(e, dict)], "errors": []}
