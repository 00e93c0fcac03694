"""Render the stored form of an entity into the NGSI-LD representations: normalized, concise,
keyValues (simplified), with or without system attributes, one language, pick/omit of attributes,
datasetId filter, and a GeoJSON Feature."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..httputil import weighted_items
from ..jsonld import Context
from .vocab import VALUE_MEMBER


@dataclass(slots=True)
class RenderOptions:
    key_values: bool = False
    concise: bool = False
    sys_attrs: bool = False
    lang: str | None = None  # "fr", "fr,en", "*"
    attrs: frozenset[str] | None = None  # expanded attribute names to keep (attrs / pick)
    omit: frozenset[str] | None = None  # expanded attribute names to drop
    pick_id: bool = True
    pick_type: bool = True
    pick_scope: bool = True
    dataset_id: frozenset[str] | None = None  # instance filter ("@none" = default instance)
    pick_tree: dict[str, Any] | None = None  # parsed pick (with sub-trees for linked entities)
    omit_tree: dict[str, Any] | None = None  # parsed omit


def _lang_prefs(lang: str) -> list[str]:
    prefs = [(-q, n, tag) for n, (tag, q) in enumerate(weighted_items(lang)) if tag]
    return [t for _, _, t in sorted(prefs)]


def _choose_lang(lmap: dict[str, Any], lang: str) -> tuple[str | None, Any]:
    """Pick a language of a languageMap (lang= value with optional q-weights; '*' = any)."""
    for want in _lang_prefs(lang):
        if want == "*":
            for k, v in lmap.items():
                return k, v
        if want in lmap:
            return want, lmap[want]
    if "@none" in lmap:
        return "@none", lmap["@none"]
    for k, v in lmap.items():
        return k, v
    return None, None


def _render_sub(
    attrs: dict[str, Any], ctx: Context, ro: RenderOptions, out: dict[str, Any]
) -> None:
    for iri, insts in attrs.items():
        if not insts:
            continue
        out[ctx.compact(iri)] = _render_instance(insts[0], ctx, ro)


def _compact_vocab(x: Any, ctx: Context) -> Any:
    if isinstance(x, list):
        return [ctx.compact(s) for s in x]
    return ctx.compact(x)


_SYS = frozenset(("createdAt", "modifiedAt"))
_SLOW = frozenset(("attrs", "objectType", "vocab", "languageMap"))


def _render_instance(inst: dict[str, Any], ctx: Context, ro: RenderOptions) -> Any:
    if not ro.key_values and not ro.concise and _SLOW.isdisjoint(inst):
        # fast path: the stored instance is already the normalized form
        if ro.sys_attrs:
            return dict(inst)
        return {k: v for k, v in inst.items() if k not in _SYS}
    t = inst.get("type", "Property")
    if ro.key_values:
        return _simplified_value(inst, ctx, ro)
    out: dict[str, Any] = {}
    if not ro.concise:
        out["type"] = t
    if t == "LanguageProperty" and ro.lang:
        tag, val = _choose_lang(inst.get("languageMap") or {}, ro.lang)
        out = {} if ro.concise else {"type": "Property"}
        out["value"] = val
        if tag is not None:
            out["lang"] = tag
    elif t == "VocabProperty":
        out["vocab"] = _compact_vocab(inst.get("vocab"), ctx)
    else:
        m = VALUE_MEMBER.get(t, "value")
        if m in inst:
            out[m] = inst[m]
    for k in ("observedAt", "unitCode", "datasetId"):
        if k in inst:
            out[k] = inst[k]
    if "objectType" in inst:
        out["objectType"] = _compact_vocab(inst["objectType"], ctx)
    if ro.sys_attrs:
        if "createdAt" in inst:
            out["createdAt"] = inst["createdAt"]
        if "modifiedAt" in inst:
            out["modifiedAt"] = inst["modifiedAt"]
    sub = inst.get("attrs")
    if sub:
        _render_sub(sub, ctx, ro, out)
    if ro.concise and t == "Property" and len(out) == 1 and "value" in out:
        v = out["value"]
        if not isinstance(v, (dict, list)):
            return v
    return out


def _simplified_value(inst: dict[str, Any], ctx: Context, ro: RenderOptions) -> Any:
    t = inst.get("type", "Property")
    if t == "Relationship":
        return inst.get("object")
    if t == "LanguageProperty":
        lmap = inst.get("languageMap") or {}
        if ro.lang:
            return _choose_lang(lmap, ro.lang)[1]
        return {"languageMap": lmap}
    if t == "ListProperty":
        return inst.get("valueList")
    if t == "ListRelationship":
        return [o.get("object") for o in inst.get("objectList") or []]
    if t == "JsonProperty":
        return {"json": inst.get("json")}
    if t == "VocabProperty":
        return {"vocab": _compact_vocab(inst.get("vocab"), ctx)}
    return inst.get("value")


def _filter_instances(insts: list[Any], ds: frozenset[str] | None) -> list[Any]:
    if ds is None:
        return insts
    return [i for i in insts if i.get("datasetId", "@none") in ds]


def render_entity(doc: dict[str, Any], ctx: Context, ro: RenderOptions) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if ro.pick_id:
        out["id"] = doc["id"]
    if ro.pick_type:
        types = doc.get("type") or []
        out["type"] = ctx.compact(types[0]) if len(types) == 1 else [ctx.compact(t) for t in types]
    if ro.pick_scope and "scope" in doc and (ro.attrs is None or "scope" in ro.attrs):
        sc = doc["scope"]
        out["scope"] = sc[0] if len(sc) == 1 else sc
    if ro.sys_attrs and not ro.key_values:
        if "createdAt" in doc:
            out["createdAt"] = doc["createdAt"]
        if "modifiedAt" in doc:
            out["modifiedAt"] = doc["modifiedAt"]
    keep, omit = ro.attrs, ro.omit
    for iri, insts in (doc.get("attrs") or {}).items():
        if keep is not None and iri not in keep:
            continue
        if omit is not None and iri in omit:
            continue
        insts = _filter_instances(insts, ro.dataset_id)
        if not insts:
            continue
        name = ctx.compact(iri)
        if ro.key_values:
            out[name] = _simplified_value(insts[0], ctx, ro)
        elif len(insts) == 1:
            out[name] = _render_instance(insts[0], ctx, ro)
        else:
            out[name] = [_render_instance(i, ctx, ro) for i in insts]
    return out


def render_feature(
    doc: dict[str, Any], ctx: Context, ro: RenderOptions, geometry_property: str
) -> dict[str, Any]:
    """GeoJSON Feature of an entity; ``geometry_property`` is an expanded attribute name."""
    rendered = render_entity(
        doc,
        ctx,
        RenderOptions(
            key_values=ro.key_values,
            concise=ro.concise,
            sys_attrs=ro.sys_attrs,
            lang=ro.lang,
            attrs=ro.attrs,
            omit=ro.omit,
            pick_id=False,
            pick_type=True,
            pick_scope=ro.pick_scope,
            dataset_id=ro.dataset_id,
        ),
    )
    geometry = None
    insts = (doc.get("attrs") or {}).get(geometry_property)
    if insts:
        i = insts[0]
        if i.get("type") == "GeoProperty":
            geometry = i.get("value")
    feat: dict[str, Any] = {}
    if ro.pick_id:
        feat["id"] = doc["id"]
    feat["type"] = "Feature"
    feat["geometry"] = geometry
    feat["properties"] = rendered
    return feat


def geometry_of(doc: dict[str, Any], attr: str) -> dict[str, Any] | None:
    insts = (doc.get("attrs") or {}).get(attr)
    if insts and insts[0].get("type") == "GeoProperty":
        geometry: dict[str, Any] | None = insts[0].get("value")
        return geometry
    return None
