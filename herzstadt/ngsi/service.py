"""NGSI-LD use cases, one function per endpoint (framework-free).

Every function takes the ``Broker`` and a ``Req`` (tenant, active @context, query parameters, body)
and returns a ``Result``; errors are raised as ``NgsiError``. The ASGI layer does HTTP.
"""

from __future__ import annotations

import copy
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from . import model, queries
from .config import NgsiConfig
from .errors import (
    AlreadyExists,
    BadRequestData,
    InvalidRequest,
    NgsiError,
    ResourceNotFound,
    TooManyResults,
)
from .jsonld import Context, ContextResolver
from .model import NULL, ParseOptions, RenderOptions
from .projection import parse_projection
from .storage import QuerySpec, Store, event_rows, open_store


@dataclass(slots=True)
class Req:
    tenant: str = ""
    ctx: Context | None = None
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    geo: bool = False  # application/geo+json requested
    base_url: str = ""  # scheme://host, for Location headers
    raw_context: Any = None  # the request's @context (Link URL or body @context)
    ld: bool = False  # application/ld+json array payload (batch): @context per entity


@dataclass(slots=True)
class Result:
    status: int
    body: Any = None
    kind: str = "raw"  # entity | entities | raw | none
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


NO_CONTENT = Result(204, None, "none")


class Broker:
    """The broker core: configuration, @context resolver and store."""

    def __init__(self, config: NgsiConfig | None = None, *, store: Store | None = None,
                 resolver: ContextResolver | None = None):
        self.config = config or NgsiConfig()
        c = self.config
        self.store: Store = store or open_store(c.database)
        self.resolver = resolver or ContextResolver(
            fetch_timeout=c.context_fetch_timeout,
            preload_dir=c.preload_dir,
            preload_files=c.preload_files,
            use_etsi_preload=c.etsi_preload,
            core_url=c.core_context_url,
            allow_remote=c.allow_remote_contexts,
        )

    def close(self) -> None:
        self.store.close()


# ----------------------------------------------------------------------------- parameters
_OPTIONS = frozenset(("keyValues", "simplified", "concise", "normalized", "sysAttrs",
                      "noOverwrite", "update", "replace", "unique"))


def options(req: Req, allowed: frozenset[str] = _OPTIONS) -> set[str]:
    raw = req.params.get("options")
    out: set[str] = set()
    if raw is not None:
        for o in raw.split(","):
            o = o.strip()
            if o not in allowed:
                raise InvalidRequest(f"invalid option {o!r}")
            out.add(o)
    fmt = req.params.get("format")
    if fmt is not None:
        if fmt in ("keyValues", "simplified", "concise", "normalized"):
            # format wins over the representation given in options
            out -= {"keyValues", "simplified", "concise", "normalized"}
            out.add(fmt)
        elif fmt != "geojson":
            raise InvalidRequest(f"invalid format {fmt!r}")
    return out


def _names(req: Req, key: str) -> list[str] | None:
    raw = req.params.get(key)
    if raw is None:
        return None
    names = [a.strip() for a in raw.split(",") if a.strip()]
    if not names:
        raise BadRequestData(f"empty {key} parameter")
    for a in names:
        model.check_name(a, f"{key} entry")
    return names


def render_options(req: Req, opts: set[str] | None = None) -> RenderOptions:
    if opts is None:
        opts = options(req)
    kv = "keyValues" in opts or "simplified" in opts
    concise = "concise" in opts
    if kv and ("normalized" in opts or concise):
        raise BadRequestData("keyValues/simplified cannot be combined with normalized or concise")
    if concise and "normalized" in opts:
        raise BadRequestData("concise cannot be combined with normalized")
    ctx = req.ctx
    assert ctx is not None
    ro = RenderOptions(key_values=kv, concise=concise, sys_attrs="sysAttrs" in opts)
    lang = req.params.get("lang")
    if lang is not None:
        if not lang.strip():
            raise BadRequestData("empty lang parameter")
        ro.lang = lang
    attrs = _names(req, "attrs")
    pick = req.params.get("pick")
    omit = req.params.get("omit")
    if pick is not None and omit is not None:
        raise BadRequestData("pick and omit cannot be used together")
    if attrs is not None and (pick is not None or omit is not None):
        raise BadRequestData("attrs cannot be combined with pick or omit")
    if attrs is not None:
        keep = {ctx.expand(a) for a in attrs}
        if "scope" in attrs:
            keep.add("scope")
        ro.attrs = frozenset(keep)
    if pick is not None:
        ro.pick_tree = parse_projection(pick, "pick")
    if omit is not None:
        ro.omit_tree = parse_projection(omit, "omit")
    apply_projection(ro, ctx)
    ds = req.params.get("datasetId")
    if ds:
        ro.dataset_id = frozenset(d.strip() for d in ds.split(","))
    return ro


def apply_projection(ro: RenderOptions, ctx: Context) -> None:
    """Set the entity-level pick/omit fields of ``ro`` from its trees."""
    if ro.pick_tree is not None:
        names = ro.pick_tree
        ro.pick_id = "id" in names
        ro.pick_type = "type" in names
        ro.pick_scope = "scope" in names
        keep = {ctx.expand(a) for a in names if a not in ("id", "type", "scope")}
        if ro.pick_scope:
            keep.add("scope")
        ro.attrs = frozenset(keep)
    if ro.omit_tree is not None:
        # a name with a sub-tree is not omitted here: the sub-tree applies to linked entities
        names = {a for a, sub in ro.omit_tree.items() if sub is None}
        ro.pick_id = "id" not in names
        ro.pick_type = "type" not in names
        ro.pick_scope = "scope" not in names
        ro.omit = frozenset(ctx.expand(a) for a in names if a not in ("id", "type", "scope"))


def _linked_options(ro: RenderOptions, name: str, ctx: Context) -> RenderOptions:
    """Render options for entities linked through relationship ``name`` (join)."""
    sub = RenderOptions(key_values=ro.key_values, concise=ro.concise, sys_attrs=ro.sys_attrs,
                        lang=ro.lang)
    if ro.pick_tree is not None and ro.pick_tree.get(name):
        sub.pick_tree = ro.pick_tree[name]
    if ro.omit_tree is not None and ro.omit_tree.get(name):
        sub.omit_tree = ro.omit_tree[name]
    apply_projection(sub, ctx)
    return sub


def _join_params(req: Req) -> tuple[str | None, int]:
    join = req.params.get("join")
    if join is None:
        return None, 0
    if join not in ("inline", "flat", "@none"):
        raise BadRequestData(f"invalid join {join!r}")
    if join == "@none":
        return None, 0
    try:
        level = int(req.params.get("joinLevel", "1"))
    except ValueError:
        raise BadRequestData("joinLevel must be an integer") from None
    if level < 1:
        raise BadRequestData("joinLevel must be at least 1")
    return join, min(level, 10)


def _relationship_targets(doc: dict, rendered: dict, ctx: Context) -> list[tuple[str, list[str]]]:
    out = []
    for iri, insts in (doc.get("attrs") or {}).items():
        name = ctx.compact(iri)
        if name not in rendered:
            continue
        targets: list[str] = []
        for i in insts:
            t = i.get("type")
            if t == "Relationship":
                o = i.get("object")
                targets.extend(o if isinstance(o, list) else [o])
            elif t == "ListRelationship":
                targets.extend(x.get("object") for x in i.get("objectList") or [])
        if targets:
            out.append((name, targets))
    return out


def _inline(broker: Broker, req: Req, doc: dict, rendered: dict, ro: RenderOptions,
            level: int, seen: frozenset[str]) -> None:
    ctx = req.ctx
    assert ctx is not None
    for name, targets in _relationship_targets(doc, rendered, ctx):
        sub_ro = _linked_options(ro, name, ctx)
        ents = []
        for t in targets:
            if t in seen:
                continue
            td = broker.store.get(req.tenant, t)
            if td is None:
                continue
            r = model.render_entity(td, ctx, sub_ro)
            if level > 1:
                _inline(broker, req, td, r, sub_ro, level - 1, seen | {t})
            ents.append(r)
        if not ents:
            continue
        val = ents[0] if len(ents) == 1 else ents
        if ro.key_values:
            rendered[name] = val
        else:
            a = rendered[name]
            for inst in a if isinstance(a, list) else [a]:
                if isinstance(inst, dict):
                    inst["entity"] = val


def _flat(broker: Broker, req: Req, docs: list[dict], rendered: list[dict], ro: RenderOptions,
          level: int) -> list[dict]:
    ctx = req.ctx
    assert ctx is not None
    out = list(rendered)
    seen = {d["id"] for d in docs}
    frontier = list(zip(docs, rendered, [ro] * len(docs), strict=True))
    for _ in range(level):
        nxt = []
        for d, r, dro in frontier:
            for name, targets in _relationship_targets(d, r, ctx):
                sub_ro = _linked_options(dro, name, ctx)
                for t in targets:
                    if t in seen:
                        continue
                    seen.add(t)
                    td = broker.store.get(req.tenant, t)
                    if td is None:
                        continue
                    tr = model.render_entity(td, ctx, sub_ro)
                    out.append(tr)
                    nxt.append((td, tr, sub_ro))
        frontier = nxt
    return out


def _geometry_property(req: Req) -> str:
    gp = req.params.get("geometryProperty")
    assert req.ctx is not None
    return req.ctx.expand(gp) if gp else model.LOCATION


def _wants_geojson(req: Req) -> bool:
    return req.geo or req.params.get("format") == "geojson"


def _render_one(broker: Broker, req: Req, doc: dict, ro: RenderOptions) -> Result:
    assert req.ctx is not None
    if _wants_geojson(req):
        return Result(200, model.render_feature(doc, req.ctx, ro, _geometry_property(req)),
                      "feature")
    rendered = model.render_entity(doc, req.ctx, ro)
    join, level = _join_params(req)
    if join == "inline":
        _inline(broker, req, doc, rendered, ro, level, frozenset((doc["id"],)))
    elif join == "flat":
        flat = _flat(broker, req, [doc], [rendered], ro, level)
        if len(flat) > 1:
            return Result(200, flat, "entities")
    return Result(200, rendered, "entity")


def _render_many(broker: Broker, req: Req, docs: list[dict], ro: RenderOptions) -> Result:
    ctx = req.ctx
    assert ctx is not None
    if _wants_geojson(req):
        gp = _geometry_property(req)
        feats = [model.render_feature(d, ctx, ro, gp) for d in docs]
        return Result(200, {"type": "FeatureCollection", "features": feats}, "features")
    rendered = [model.render_entity(d, ctx, ro) for d in docs]
    if ro.pick_tree is not None or ro.omit_tree is not None:
        keep = [(d, r) for d, r in zip(docs, rendered, strict=True) if r]
        docs, rendered = [d for d, _ in keep], [r for _, r in keep]
    join, level = _join_params(req)
    if join == "inline":
        for d, r in zip(docs, rendered, strict=True):
            _inline(broker, req, d, r, ro, level, frozenset((d["id"],)))
    elif join == "flat":
        rendered = _flat(broker, req, docs, rendered, ro, level)
    return Result(200, rendered, "entities")


def _entity_id(eid: str) -> str:
    if not model.is_uri(eid):
        raise BadRequestData(f"entity id is not a URI: {eid!r}")
    return eid


def _location(req: Req, broker: Broker, path: str) -> list[tuple[bytes, bytes]]:
    return [(b"location", (broker.config.base_path + path).encode())]


def _require_body_object(req: Req) -> dict:
    if not isinstance(req.body, dict):
        raise InvalidRequest("the payload must be a JSON object")
    return req.body


# ----------------------------------------------------------------------------- entities
def create_entity(broker: Broker, req: Req) -> Result:
    body = _require_body_object(req)
    now = model.now_iso()
    doc = model.parse_entity(body, req.ctx, now)
    _finish_new(doc, now)
    with broker.store.write(req.tenant) as tx:
        if tx.get(doc["id"]) is not None:
            raise AlreadyExists(f"entity {doc['id']} already exists")
        tx.insert(doc)
        tx.events(event_rows(req.tenant, None, doc, now))
    return Result(201, None, "none", _location(req, broker, "/entities/" + doc["id"]))


def _finish_new(doc: dict, now: str) -> dict:
    """Stamp a parsed entity for insertion; key order as in the stored form."""
    attrs = doc.pop("attrs")
    if doc.get("scope") is None:
        doc.pop("scope", None)
    doc["createdAt"] = now
    doc["modifiedAt"] = now
    for iri in list(attrs):
        if attrs[iri] is None:
            del attrs[iri]
    model.stamp_attrs(attrs, now)
    doc["attrs"] = attrs
    return doc


def _types_match(doc: dict, req: Req) -> bool:
    t = req.params.get("type")
    if not t:
        return True
    assert req.ctx is not None
    return queries.type_matches(t, req.ctx, doc.get("type") or [])


def retrieve_entity(broker: Broker, req: Req, eid: str) -> Result:
    _entity_id(eid)
    ro = render_options(req)
    broker.store.check_tenant(req.tenant)
    doc = broker.store.get(req.tenant, eid)
    if doc is None or not _types_match(doc, req):
        raise ResourceNotFound(f"entity {eid} not found")
    if "attrs" in req.params and ro.attrs is not None:
        have = doc.get("attrs") or {}
        if not any(a in have or (a == "scope" and "scope" in doc) for a in ro.attrs):
            raise ResourceNotFound(f"entity {eid} has none of the requested attributes")
    res = _render_one(broker, req, doc, ro)
    if res.kind == "entity" and not res.body:
        raise ResourceNotFound(f"nothing of entity {eid} is left after pick/omit")
    return res


def delete_entity(broker: Broker, req: Req, eid: str) -> Result:
    _entity_id(eid)
    broker.store.check_tenant(req.tenant)
    now = model.now_iso()
    with broker.store.write(req.tenant) as tx:
        cur = tx.get(eid)
        if cur is None or not _types_match(cur[1], req):
            raise ResourceNotFound(f"entity {eid} not found")
        tx.delete(cur[0])
        tx.events(event_rows(req.tenant, cur[1], None, now))
    return NO_CONTENT


def _check_fragment_id(body: dict, eid: str) -> None:
    bid = body.get("id", body.get("@id"))
    if bid is not None and bid != eid:
        raise BadRequestData(f"the payload id {bid!r} differs from the entity id {eid!r}")


def replace_entity(broker: Broker, req: Req, eid: str) -> Result:
    _entity_id(eid)
    body = _require_body_object(req)
    _check_fragment_id(body, eid)
    now = model.now_iso()
    new = model.parse_entity(body, req.ctx, now, require_id=False, require_type=True)
    broker.store.check_tenant(req.tenant)
    with broker.store.write(req.tenant) as tx:
        cur = tx.get(eid)
        if cur is None:
            raise ResourceNotFound(f"entity {eid} not found")
        pk, old = cur
        new["id"] = eid
        _finish_new(new, now)
        new["createdAt"] = old.get("createdAt", now)
        tx.update(pk, old, new)
        tx.events(event_rows(req.tenant, old, new, now))
    return NO_CONTENT


def _merge_doc(old: dict, frag: dict, now: str) -> dict:
    """Merge a parsed fragment (attrs may hold None = delete) into a stored doc (copy)."""
    doc = copy.deepcopy(old)
    if frag.get("type"):
        types = doc.get("type") or []
        for t in frag["type"]:
            if t not in types:
                types.append(t)
        doc["type"] = types
    if "scope" in frag:
        if frag["scope"] is None:
            doc.pop("scope", None)
        else:
            doc["scope"] = frag["scope"]
    attrs = doc.setdefault("attrs", {})
    for iri, insts in frag.get("attrs", {}).items():
        if insts is None:
            attrs.pop(iri, None)
            continue
        existing = attrs.get(iri)
        for inst in insts:
            if inst is None:
                continue
            ds = inst.get("datasetId")
            n = model.instance_index(existing, ds) if existing else -1
            if _is_null(inst):
                if n >= 0 and existing is not None:
                    del existing[n]
                continue
            if n >= 0 and existing is not None:
                existing[n] = model.merge_instance(existing[n], inst, now)
            else:
                if existing is None:
                    existing = attrs[iri] = []
                model.put_instance(existing, model.stamp(inst, now))
        if iri in attrs and not attrs[iri]:
            del attrs[iri]
    doc["modifiedAt"] = now
    return doc


def _is_null(inst: dict) -> bool:
    for m in model.VALUE_MEMBERS:
        x = inst.get(m)
        if x is None:
            continue
        if x == NULL or x == [NULL] or x == {"@none": NULL} or x == [{"object": NULL}]:
            return True
    return False


def merge_entity(broker: Broker, req: Req, eid: str) -> Result:
    _entity_id(eid)
    body = _require_body_object(req)
    _check_fragment_id(body, eid)
    now = model.now_iso()
    frag = model.parse_entity(body, req.ctx, now, require_id=False, require_type=False,
                              opts=ParseOptions(merge=True))
    broker.store.check_tenant(req.tenant)
    with broker.store.write(req.tenant) as tx:
        cur = tx.get(eid)
        if cur is None:
            raise ResourceNotFound(f"entity {eid} not found")
        pk, old = cur
        new = _merge_doc(old, frag, now)
        tx.update(pk, old, new)
        tx.events(event_rows(req.tenant, old, new, now))
    return NO_CONTENT


# ----------------------------------------------------------------------------- attributes
def _update_result(updated: list[str], not_updated: list[dict]) -> Result:
    if not not_updated:
        return NO_CONTENT
    return Result(207, {"updated": updated, "notUpdated": not_updated}, "raw")


def _apply_fragment(doc: dict, frag: dict, now: str, mode: str) -> tuple[list[str], list[dict]]:
    """Apply a parsed fragment to ``doc`` in place.

    mode: ``append`` (add or overwrite), ``noOverwrite`` (add only), ``update`` (existing attributes
    only; new datasetId instances of existing attributes are added). ``urn:ngsi-ld:null`` deletes.
    Returns the UpdateResult lists (expanded attribute names).
    """
    updated: list[str] = []
    not_updated: list[dict] = []
    for t in frag.get("type") or []:
        if t not in doc["type"]:
            doc["type"].append(t)
    if "scope" in frag and frag["scope"] is not None:
        if mode == "update" and not doc.get("scope"):
            not_updated.append({"attributeName": "scope", "reason": "the entity has no scope"})
        elif mode == "noOverwrite":
            sc = doc.setdefault("scope", [])
            for x in frag["scope"]:
                if x not in sc:
                    sc.append(x)
            updated.append("scope")
        else:
            doc["scope"] = frag["scope"]
            updated.append("scope")
    attrs = doc.setdefault("attrs", {})
    for iri, insts in frag["attrs"].items():
        existing = attrs.get(iri)
        # mode "update" adds missing attributes too: the ETSI suite (011_01_03) expects it
        done = False
        for inst in insts or []:
            n = model.instance_index(existing, inst.get("datasetId")) if existing else -1
            if _is_null(inst):
                if n >= 0 and existing is not None:
                    del existing[n]
                    done = True
                continue
            if n >= 0 and mode == "noOverwrite":
                continue
            if existing is None:
                existing = attrs[iri] = []
            model.stamp(inst, now, existing[n].get("createdAt") if n >= 0 else None)
            model.put_instance(existing, inst)
            done = True
        if iri in attrs and not attrs[iri]:
            del attrs[iri]
        if done:
            updated.append(iri)
        else:
            not_updated.append({"attributeName": iri, "reason": "attribute exists and"
                                " options=noOverwrite was given" if mode == "noOverwrite"
                                else "attribute instance does not exist"})
    return updated, not_updated


def _attrs_use_case(broker: Broker, req: Req, eid: str, mode: str) -> Result:
    _entity_id(eid)
    body = _require_body_object(req)
    _check_fragment_id(body, eid)
    now = model.now_iso()
    frag = model.parse_entity(body, req.ctx, now, require_id=False, require_type=False,
                              opts=ParseOptions(merge=True))
    broker.store.check_tenant(req.tenant)
    with broker.store.write(req.tenant) as tx:
        cur = tx.get(eid)
        if cur is None:
            raise ResourceNotFound(f"entity {eid} not found")
        pk, old = cur
        doc = copy.deepcopy(old)
        updated, not_updated = _apply_fragment(doc, frag, now, mode)
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
    _entity_id(eid)
    iri = _attr_iri(req, attr)
    body = _require_body_object(req)
    now = model.now_iso()
    insts = model.parse_attribute(iri, body, req.ctx, now,
                                  opts=ParseOptions(partial=True, merge=True), name=attr)
    broker.store.check_tenant(req.tenant)
    with broker.store.write(req.tenant) as tx:
        cur = tx.get(eid)
        if cur is None:
            raise ResourceNotFound(f"entity {eid} not found")
        pk, old = cur
        doc = copy.deepcopy(old)
        existing = (doc.get("attrs") or {}).get(iri)
        if not existing:
            raise ResourceNotFound(f"attribute {attr} not found in entity {eid}")
        for inst in insts or []:
            n = model.instance_index(existing, inst.get("datasetId"))
            if n < 0:
                raise ResourceNotFound(
                    f"attribute {attr} has no instance with datasetId {inst.get('datasetId')}"
                )
            if _is_null(inst):
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
    _entity_id(eid)
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
        doc = copy.deepcopy(old)
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
    _entity_id(eid)
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
        doc = copy.deepcopy(old)
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
        doc = copy.deepcopy(old)
        del doc["scope"]
        doc["modifiedAt"] = now
        tx.update(pk, old, doc)
        tx.events(event_rows(req.tenant, old, doc, now))
    return NO_CONTENT


# ----------------------------------------------------------------------------- query
def _limits(broker: Broker, req: Req) -> tuple[int, int, bool]:
    c = broker.config
    p = req.params
    try:
        limit = int(p["limit"]) if "limit" in p else c.default_limit
        offset = int(p["offset"]) if "offset" in p else 0
    except ValueError:
        raise BadRequestData("limit and offset must be integers") from None
    count = p.get("count", "false")
    if count not in ("true", "false"):
        raise BadRequestData("count must be true or false")
    if limit < 0 or offset < 0:
        raise BadRequestData("limit and offset must not be negative")
    if limit > c.max_limit:
        raise TooManyResults(f"limit {limit} exceeds the maximum of {c.max_limit}")
    if limit == 0 and count != "true":
        raise BadRequestData("limit=0 is only allowed with count=true")
    return limit, offset, count == "true"


def query_entities(broker: Broker, req: Req) -> Result:
    p = req.params
    ro = render_options(req)
    limit, offset, count = _limits(broker, req)
    has_filter = any(k in p for k in ("type", "idPattern", "attrs", "q", "georel", "scopeQ"))
    # local=true lists everything; an id list alone is not a query (ETSI 019_03_05)
    if not has_filter and p.get("local") != "true":
        raise BadRequestData("a query needs at least one of type, attrs, q, geoQ, scopeQ,"
                             " idPattern (or local=true)")
    spec = queries.build_spec(broker.store, req, _query_params_from_url(req))
    spec.limit, spec.offset, spec.count = limit, offset, count
    return _run_query(broker, req, spec, ro)


def _query_params_from_url(req: Req) -> dict[str, Any]:
    p = req.params
    out: dict[str, Any] = {}
    for k in ("type", "idPattern", "q", "scopeQ", "attrs", "datasetId"):
        if k in p:
            out[k] = p[k]
    if "id" in p:
        out["id"] = [i for i in p["id"].split(",") if i]
    if "georel" in p or "geometry" in p or "coordinates" in p:
        out["geoQ"] = {
            "georel": p.get("georel"),
            "geometry": p.get("geometry"),
            "coordinates": p.get("coordinates"),
            "geoproperty": p.get("geoproperty"),
        }
    return out


def _order_keys(req: Req) -> list[tuple[list[str], bool]] | None:
    raw = req.params.get("orderBy")
    if raw is None:
        return None
    keys = []
    assert req.ctx is not None
    for part in raw.split(","):
        path, _, direction = part.strip().partition(";")
        direction = direction.strip() or "asc"
        if not path or direction not in ("asc", "desc"):
            raise BadRequestData(f"invalid orderBy {raw!r}")
        keys.append((path.split("."), direction == "desc"))
    return keys


def _sort_value(doc: dict, path: list[str], ctx: Context) -> Any:
    head = path[0]
    if head == "id" and len(path) == 1:
        return doc["id"]
    if head == "type" and len(path) == 1:
        return ctx.compact((doc.get("type") or [""])[0])
    if head in ("createdAt", "modifiedAt") and len(path) == 1:
        return doc.get(head)
    node: Any = doc
    for name in path:
        if name in ("createdAt", "modifiedAt", "observedAt", "unitCode", "datasetId") and \
                node is not doc and isinstance(node, dict):
            return node.get(name)
        insts = (node.get("attrs") or {}).get(ctx.expand(name)) if isinstance(node, dict) else None
        if not insts:
            return None
        node = insts[0]
    t = node.get("type", "Property")
    v = node.get(model.VALUE_MEMBER.get(t, "value"))
    return v


def _sort_docs(docs: list[dict], keys: list[tuple[list[str], bool]], ctx: Context) -> list[dict]:
    def rank(v: Any) -> tuple:
        if v is None:
            return (3, 0)
        if isinstance(v, bool):
            return (0, int(v))
        if isinstance(v, (int, float)):
            return (0, v)
        if isinstance(v, str):
            return (1, v)
        return (2, str(v))

    out = list(docs)
    for path, desc in reversed(keys):
        present = [d for d in out if _sort_value(d, path, ctx) is not None]
        missing = [d for d in out if _sort_value(d, path, ctx) is None]
        present.sort(key=lambda d, p=path: rank(_sort_value(d, p, ctx)), reverse=desc)
        out = present + missing
    return out


def _run_query(broker: Broker, req: Req, spec: QuerySpec, ro: RenderOptions) -> Result:
    broker.store.check_tenant(req.tenant) if req.tenant else None
    keys = _order_keys(req)
    if keys:
        limit, offset, count = spec.limit, spec.offset, spec.count
        spec.limit, spec.offset, spec.count = 10**12, 0, False
        docs, _ = broker.store.query(req.tenant, spec)
        assert req.ctx is not None
        docs = _sort_docs(docs, keys, req.ctx)
        total = len(docs) if count else None
        docs = docs[offset : offset + limit]
    else:
        docs, total = broker.store.query(req.tenant, spec)
    res = _render_many(broker, req, docs, ro)
    if total is not None:
        res.headers.append((b"ngsild-results-count", str(total).encode()))
    return res


def query_entities_post(broker: Broker, req: Req) -> Result:
    body = _require_body_object(req)
    if body.get("type") != "Query":
        raise BadRequestData("the payload must be a Query (type: Query)")
    limit, offset, count = _limits(broker, req)
    qp: dict[str, Any] = {}
    ents = body.get("entities")
    if ents is not None:
        if not isinstance(ents, list) or not all(isinstance(e, dict) for e in ents):
            raise BadRequestData("entities must be an array of EntitySelector objects")
        qp["entities"] = ents
    for k in ("q", "scopeQ"):
        if k in body:
            if not isinstance(body[k], str):
                raise BadRequestData(f"{k} must be a string")
            qp[k] = body[k]
    if "attrs" in body:
        a = body["attrs"]
        if not isinstance(a, list) or not all(isinstance(x, str) for x in a):
            raise BadRequestData("attrs must be an array of strings")
        req.params["attrs"] = ",".join(a)
        qp["attrs"] = ",".join(a)
    if "geoQ" in body:
        g = body["geoQ"]
        if not isinstance(g, dict):
            raise BadRequestData("geoQ must be an object")
        qp["geoQ"] = g
    if "lang" in body and isinstance(body["lang"], str):
        req.params.setdefault("lang", body["lang"])
    for k in ("join", "joinLevel"):
        if k in body:
            req.params.setdefault(k, str(body[k]))
    if "datasetId" in body:
        d = body["datasetId"]
        qp["datasetId"] = ",".join(d) if isinstance(d, list) else d
    if not any(k in qp for k in ("entities", "attrs", "q", "geoQ", "scopeQ")):
        raise BadRequestData("a Query needs entities, attrs, q, geoQ or scopeQ")
    ro = render_options(req)
    spec = queries.build_spec(broker.store, req, qp)
    spec.limit, spec.offset, spec.count = limit, offset, count
    return _run_query(broker, req, spec, ro)


# ----------------------------------------------------------------------------- batch
def _batch_list(req: Req) -> list:
    b = req.body
    if not isinstance(b, list):
        raise BadRequestData("the payload must be a JSON array")
    if not b:
        raise BadRequestData("the payload must not be an empty array")
    return b


def _err(eid: Any, e: NgsiError) -> dict:
    return {"entityId": eid if isinstance(eid, str) else str(eid), "error": e.problem()}


def _batch_entity_ctx(broker: Broker, req: Req, item: Any) -> Context:
    """The @context of one entity in a batch (ld+json bodies carry it per entity)."""
    if not isinstance(item, dict):
        raise BadRequestData("each entity must be a JSON object")
    if req.ld:
        if "@context" not in item:
            raise BadRequestData("application/ld+json entity without @context")
        return broker.resolver.get(item["@context"])
    if "@context" in item:
        raise BadRequestData("@context in an application/json entity; use application/ld+json")
    assert req.ctx is not None
    return req.ctx


def _batch_result(success: list, errors: list, created: bool) -> Result:
    if errors:
        return Result(207, {"success": success, "errors": errors}, "raw")
    if created:
        return Result(201, success, "raw")
    return NO_CONTENT


def _check_batch_size(broker: Broker, items: list) -> None:
    if len(items) > broker.config.max_batch_entities:
        raise BadRequestData(f"at most {broker.config.max_batch_entities} entities per batch")


def batch_create(broker: Broker, req: Req) -> Result:
    items = _batch_list(req)
    _check_batch_size(broker, items)
    now = model.now_iso()
    success: list[str] = []
    errors: list[dict] = []
    parsed: list[dict] = []
    seen: set[str] = set()
    for item in items:
        eid = item.get("id") if isinstance(item, dict) else None
        try:
            ctx = _batch_entity_ctx(broker, req, item)
            doc = _finish_new(model.parse_entity(item, ctx, now), now)
            if doc["id"] in seen:
                raise AlreadyExists(f"entity {doc['id']} appears twice in the batch")
            seen.add(doc["id"])
            parsed.append(doc)
        except NgsiError as e:
            errors.append(_err(eid, e))
    with broker.store.write(req.tenant) as tx:
        existing = tx.get_many([d["id"] for d in parsed])
        new_docs = []
        for d in parsed:
            if d["id"] in existing:
                errors.append(_err(d["id"], AlreadyExists(f"entity {d['id']} already exists")))
            else:
                new_docs.append(d)
                success.append(d["id"])
        tx.insert_many(new_docs)
        ev: list[tuple] = []
        for d in new_docs:
            ev.extend(event_rows(req.tenant, None, d, now))
        tx.events(ev)
    return _batch_result(success, errors, True)


def batch_upsert(broker: Broker, req: Req) -> Result:
    items = _batch_list(req)
    _check_batch_size(broker, items)
    opts = options(req)
    update_mode = "update" in opts
    if update_mode and "replace" in opts:
        raise BadRequestData("options update and replace are exclusive")
    now = model.now_iso()
    errors: list[dict] = []
    parsed: list[dict] = []
    for item in items:
        eid = item.get("id") if isinstance(item, dict) else None
        try:
            ctx = _batch_entity_ctx(broker, req, item)
            parsed.append(model.parse_entity(item, ctx, now))
        except NgsiError as e:
            errors.append(_err(eid, e))
    success: list[str] = []
    created_ids: list[str] = []
    with broker.store.write(req.tenant) as tx:
        existing = tx.get_many([d["id"] for d in parsed])
        state: dict[str, tuple[int | None, dict | None, dict]] = {}
        for frag in parsed:
            eid = frag["id"]
            if eid in state:
                pk, old, cur = state[eid]
            elif eid in existing:
                pk, old = existing[eid]
                cur = old
            else:
                pk, old, cur = None, None, None  # type: ignore[assignment]
            if cur is None:
                doc = _finish_new(copy.deepcopy(frag), now)
                created_ids.append(eid)
            elif update_mode:
                doc, _ = _merge_attrs_overwrite(cur, frag, now)
            else:
                doc = _finish_new(copy.deepcopy(frag), now)
                doc["createdAt"] = cur.get("createdAt", now)
            state[eid] = (pk, old, doc)
            if eid not in success:
                success.append(eid)
        inserts = [d for pk, _, d in state.values() if pk is None]
        updates = [(pk, old, d) for pk, old, d in state.values() if pk is not None]
        tx.insert_many(inserts)
        tx.update_many(updates)  # type: ignore[arg-type]
        ev: list[tuple] = []
        for _pk, old, d in state.values():
            ev.extend(event_rows(req.tenant, old, d, now))
        tx.events(ev)
    if errors:
        return Result(207, {"success": success, "errors": errors}, "raw")
    if created_ids:
        return Result(201, created_ids, "raw")
    return NO_CONTENT


def _merge_attrs_overwrite(old: dict, frag: dict, now: str, no_overwrite: bool = False
                           ) -> tuple[dict, list[dict]]:
    doc = copy.deepcopy(old)
    _, not_updated = _apply_fragment(doc, frag, now, "noOverwrite" if no_overwrite else "append")
    doc["modifiedAt"] = now
    return doc, not_updated


def batch_update(broker: Broker, req: Req) -> Result:
    items = _batch_list(req)
    _check_batch_size(broker, items)
    no_overwrite = "noOverwrite" in options(req)
    now = model.now_iso()
    errors: list[dict] = []
    parsed: list[dict] = []
    for item in items:
        eid = item.get("id") if isinstance(item, dict) else None
        try:
            ctx = _batch_entity_ctx(broker, req, item)
            parsed.append(model.parse_entity(item, ctx, now, require_type=False))
        except NgsiError as e:
            errors.append(_err(eid, e))
    success: list[str] = []
    broker.store.check_tenant(req.tenant)
    with broker.store.write(req.tenant) as tx:
        existing = tx.get_many([d["id"] for d in parsed])
        state: dict[str, tuple[int, dict, dict]] = {}
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
            doc, skipped = _merge_attrs_overwrite(cur, frag, now, no_overwrite)
            state[eid] = (pk, old, doc)
            if skipped:
                names = ", ".join(x["attributeName"] for x in skipped)
                errors.append(_err(eid, BadRequestData(f"attributes not overwritten: {names}")))
            elif eid not in success:
                success.append(eid)
        tx.update_many(list(state.values()))
        ev: list[tuple] = []
        for _pk, old, d in state.values():
            ev.extend(event_rows(req.tenant, old, d, now))
        tx.events(ev)
    return _batch_result(success, errors, False)


def batch_merge(broker: Broker, req: Req) -> Result:
    items = _batch_list(req)
    _check_batch_size(broker, items)
    now = model.now_iso()
    errors: list[dict] = []
    parsed: list[dict] = []
    for item in items:
        eid = item.get("id") if isinstance(item, dict) else None
        try:
            ctx = _batch_entity_ctx(broker, req, item)
            parsed.append(model.parse_entity(item, ctx, now, require_type=False,
                                             opts=ParseOptions(merge=True)))
        except NgsiError as e:
            errors.append(_err(eid, e))
    success: list[str] = []
    broker.store.check_tenant(req.tenant)
    with broker.store.write(req.tenant) as tx:
        existing = tx.get_many([d["id"] for d in parsed])
        state: dict[str, tuple[int, dict, dict]] = {}
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
            state[eid] = (pk, old, _merge_doc(cur, frag, now))
            if eid not in success:
                success.append(eid)
        tx.update_many(list(state.values()))
        ev: list[tuple] = []
        for _pk, old, d in state.values():
            ev.extend(event_rows(req.tenant, old, d, now))
        tx.events(ev)
    return _batch_result(success, errors, False)


def batch_delete(broker: Broker, req: Req) -> Result:
    items = _batch_list(req)
    _check_batch_size(broker, items)
    now = model.now_iso()
    errors: list[dict] = []
    ids: list[str] = []
    for item in items:
        if not isinstance(item, str) or not model.is_uri(item):
            errors.append(_err(item, BadRequestData(f"invalid entity id {item!r}")))
        else:
            ids.append(item)
    broker.store.check_tenant(req.tenant)
    success: list[str] = []
    with broker.store.write(req.tenant) as tx:
        existing = tx.get_many(ids)
        pks = []
        ev: list[tuple] = []
        for eid in ids:
            if eid in existing:
                pk, old = existing.pop(eid)
                pks.append(pk)
                ev.extend(event_rows(req.tenant, old, None, now))
                success.append(eid)
            else:
                errors.append(_err(eid, ResourceNotFound(f"entity {eid} not found")))
        tx.delete_many(pks)
        tx.events(ev)
    return _batch_result(success, errors, False)


def purge_entities(broker: Broker, req: Req) -> Result:
    p = req.params
    if not any(k in p for k in ("type", "id", "idPattern", "q", "scopeQ", "geoQ", "georel",
                                "local")):
        raise BadRequestData("purge needs at least one of type, id, idPattern, q, scopeQ, geoQ")
    if "keep" in p and "drop" in p:
        raise BadRequestData("keep and drop cannot be used together")
    ctx = req.ctx
    assert ctx is not None
    keep = {ctx.expand(a) for a in _names(req, "keep") or []} if "keep" in p else None
    drop = {ctx.expand(a) for a in _names(req, "drop") or []} if "drop" in p else None
    broker.store.check_tenant(req.tenant)
    spec = queries.build_spec(broker.store, req, _query_params_from_url(req))
    spec.limit, spec.offset = 10**12, 0
    now = model.now_iso()
    docs, _ = broker.store.query(req.tenant, spec)
    with broker.store.write(req.tenant) as tx:
        current = tx.get_many([d["id"] for d in docs])
        ev: list[tuple] = []
        if keep is None and drop is None:
            tx.delete_many([pk for pk, _ in current.values()])
            for _pk, old in current.values():
                ev.extend(event_rows(req.tenant, old, None, now))
        else:
            ups = []
            for pk, old in current.values():
                doc = copy.deepcopy(old)
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


# ----------------------------------------------------------------------------- types/attributes
def _scan(broker: Broker, req: Req, types: list[str] | None = None):
    if req.tenant:
        broker.store.check_tenant(req.tenant)
    return broker.store.all_docs(req.tenant, types)


def _attr_types(insts: list) -> set[str]:
    return {i.get("type", "Property") for i in insts}


def list_types(broker: Broker, req: Req) -> Result:
    ctx = req.ctx
    assert ctx is not None
    details = req.params.get("details") == "true"
    info: dict[str, set[str]] = {}
    for d in _scan(broker, req):
        for t in d.get("type") or []:
            s = info.setdefault(t, set())
            s.update((d.get("attrs") or {}).keys())
    if details:
        out = [
            {"id": t, "type": "EntityType", "typeName": ctx.compact(t),
             "attributeNames": sorted(ctx.compact(a) for a in attrs)}
            for t, attrs in sorted(info.items())
        ]
        return Result(200, out, "entities")
    body = {
        "id": "urn:ngsi-ld:EntityTypeList:" + uuid.uuid4().hex,
        "type": "EntityTypeList",
        "typeList": sorted(ctx.compact(t) for t in info),
    }
    return Result(200, body, "entity")


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
            {"id": a, "type": "Attribute", "attributeName": ctx.compact(a),
             "attributeTypes": sorted(ts)}
            for a, ts in sorted(attrs.items())
        ],
    }
    return Result(200, body, "entity")


def list_attributes(broker: Broker, req: Req) -> Result:
    ctx = req.ctx
    assert ctx is not None
    details = req.params.get("details") == "true"
    info: dict[str, tuple[set[str], set[str], list[int]]] = {}
    for d in _scan(broker, req):
        for a, insts in (d.get("attrs") or {}).items():
            ts, types, n = info.setdefault(a, (set(), set(), [0]))
            ts.update(_attr_types(insts))
            types.update(d.get("type") or [])
            n[0] += 1
    if details:
        out = [
            {"id": a, "type": "Attribute", "attributeName": ctx.compact(a),
             "typeNames": sorted(ctx.compact(t) for t in types)}
            for a, (ts, types, n) in sorted(info.items())
        ]
        return Result(200, out, "entities")
    body = {
        "id": "urn:ngsi-ld:AttributeList:" + uuid.uuid4().hex,
        "type": "AttributeList",
        "attributeList": sorted(ctx.compact(a) for a in info),
    }
    return Result(200, body, "entity")


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


# ----------------------------------------------------------------------------- loading
def load_entities(broker: Broker, entities: list[dict], *, tenant: str = "",
                  context: Any = None, replace: bool = True) -> dict:
    """Upsert a list of NGSI-LD entities (normalized/concise; each may carry ``@context``).

    For the demo and fixtures: returns ``{"success": [...], "errors": [...]}``.
    """
    req = Req(tenant=tenant, ctx=broker.resolver.get(context), body=list(entities),
              params={} if replace else {"options": "update"})
    res = batch_upsert(broker, req)
    if res.status == 207:
        return res.body
    return {"success": [e.get("id") for e in entities if isinstance(e, dict)], "errors": []}


_ID_OK = re.compile(r"^[A-Za-z0-9:._~\-/#]+$")
