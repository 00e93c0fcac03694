"""Rendering results: single entities, lists, GeoJSON, linked entities (join) and the cache of
rendered entities."""

from __future__ import annotations

from typing import Any

import orjson

from . import model
from .broker import Broker, Kind, Req, Result, apply_projection, visible
from .jsonld import Context
from .model import RenderOptions
from .params import RetrieveOptions


def _linked_options(ro: RenderOptions, name: str, ctx: Context) -> RenderOptions:
    """Render options for entities linked through relationship ``name`` (join)."""
    sub = RenderOptions(
        key_values=ro.key_values, concise=ro.concise, sys_attrs=ro.sys_attrs, lang=ro.lang
    )
    if ro.pick_tree is not None and ro.pick_tree.get(name):
        sub.pick_tree = ro.pick_tree[name]
    if ro.omit_tree is not None and ro.omit_tree.get(name):
        sub.omit_tree = ro.omit_tree[name]
    apply_projection(sub, ctx)
    return sub


def _relationship_targets(
    doc: dict[str, Any], rendered: dict[str, Any], ctx: Context
) -> list[tuple[str, list[str]]]:
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


def _inline(
    broker: Broker,
    req: Req,
    doc: dict[str, Any],
    rendered: dict[str, Any],
    ro: RenderOptions,
    level: int,
    seen: frozenset[str],
) -> None:
    ctx = req.ctx
    assert ctx is not None
    for name, targets in _relationship_targets(doc, rendered, ctx):
        sub_ro = _linked_options(ro, name, ctx)
        ents = []
        for t in targets:
            if t in seen:
                continue
            td = broker.store.get(req.tenant, t)
            if not visible(req, td):
                continue
            assert td is not None
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


def _flat(
    broker: Broker,
    req: Req,
    docs: list[dict[str, Any]],
    rendered: list[dict[str, Any]],
    ro: RenderOptions,
    level: int,
) -> list[dict[str, Any]]:
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
                    if not visible(req, td):
                        continue
                    assert td is not None
                    tr = model.render_entity(td, ctx, sub_ro)
                    out.append(tr)
                    nxt.append((td, tr, sub_ro))
        frontier = nxt
    return out


def _geometry_property(req: Req, opts: RetrieveOptions) -> str:
    gp = opts.geometry_property
    assert req.ctx is not None
    return req.ctx.expand(gp) if gp else model.LOCATION


def _wants_geojson(req: Req, opts: RetrieveOptions) -> bool:
    return req.geo or opts.geojson


def render_one(
    broker: Broker, req: Req, doc: dict[str, Any], ro: RenderOptions, opts: RetrieveOptions
) -> Result:
    assert req.ctx is not None
    if _wants_geojson(req, opts):
        feature = model.render_feature(doc, req.ctx, ro, _geometry_property(req, opts))
        return Result(200, feature, Kind.FEATURE)
    rendered = model.render_entity(doc, req.ctx, ro)
    join, level = opts.join_mode()
    if join == "inline":
        _inline(broker, req, doc, rendered, ro, level, frozenset((doc["id"],)))
    elif join == "flat":
        flat = _flat(broker, req, [doc], [rendered], ro, level)
        if len(flat) > 1:
            return Result(200, flat, Kind.ENTITIES)
    return Result(200, rendered, Kind.ENTITY)


def render_many(
    broker: Broker, req: Req, docs: list[dict[str, Any]], ro: RenderOptions, opts: RetrieveOptions
) -> Result:
    ctx = req.ctx
    assert ctx is not None
    if _wants_geojson(req, opts):
        gp = _geometry_property(req, opts)
        feats = [model.render_feature(d, ctx, ro, gp) for d in docs]
        return Result(200, {"type": "FeatureCollection", "features": feats}, Kind.FEATURES)
    rendered = [model.render_entity(d, ctx, ro) for d in docs]
    if ro.pick_tree is not None or ro.omit_tree is not None:
        keep = [(d, r) for d, r in zip(docs, rendered, strict=True) if r]
        docs, rendered = [d for d, _ in keep], [r for _, r in keep]
    join, level = opts.join_mode()
    if join == "inline":
        for d, r in zip(docs, rendered, strict=True):
            _inline(broker, req, d, r, ro, level, frozenset((d["id"],)))
    elif join == "flat":
        rendered = _flat(broker, req, docs, rendered, ro, level)
    return Result(200, rendered, Kind.ENTITIES)


def fragment_cacheable(req: Req, ro: RenderOptions, opts: RetrieveOptions) -> bool:
    return (
        ro.pick_tree is None
        and ro.omit_tree is None
        and not _wants_geojson(req, opts)
        and opts.join is None
    )


def _ro_key(ro: RenderOptions) -> tuple[Any, ...]:
    return (
        ro.key_values,
        ro.concise,
        ro.sys_attrs,
        ro.lang,
        ro.attrs,
        ro.omit,
        ro.pick_id,
        ro.pick_type,
        ro.pick_scope,
        ro.dataset_id,
    )


def render_texts(broker: Broker, req: Req, texts: list[str], ro: RenderOptions) -> list[bytes]:
    ctx = req.ctx
    assert ctx is not None
    cache = broker.fragments
    prefix = (ctx.serial, _ro_key(ro))
    out: list[bytes] = []
    loads, dumps = orjson.loads, orjson.dumps
    for text in texts:
        key = (prefix, text)
        frag = cache.get(key)
        if frag is None:
            frag = dumps(model.render_entity(loads(text), ctx, ro))
            cache.put(key, frag)
        out.append(frag)
    return out
