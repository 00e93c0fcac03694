"""Parse and validate request entities and attributes into the stored form (docs/ngsi-ld.md).

Every check raises ``BadRequestData`` with the reason; nothing here touches the store. Any JSON
value is safe input: wrong types (``"type": {}``, ``"type": []``, ...) are 400s, never errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import geojson
from ..errors import BadRequestData
from ..jsonld import MEMO_ENTRIES, Context
from .vocab import (
    _SCOPE_RE,
    ATTR_TYPES,
    ENTITY_RESERVED,
    FORBIDDEN_ATTR_NAMES,
    GEO_DEFAULTS,
    IGNORED_MEMBERS,
    NULL,
    VALUE_MEMBER,
    VALUE_MEMBERS,
    check_datetime,
    check_language_tag,
    check_name,
    is_uri,
)

looks_like_geometry = geojson.looks_like_geometry


def check_geometry(g: Any, where: str = "GeoProperty") -> dict[str, Any]:
    """Validate a GeoJSON geometry (all seven types, WGS 84 ranges), raising BadRequestData."""
    try:
        return geojson.check_geometry(g)
    except geojson.GeoJSONError as e:
        raise BadRequestData(f"{where}: invalid GeoJSON geometry: {e}") from None


@dataclass(slots=True)
class ParseOptions:
    key_values: bool = False  # value-only attributes (keyValues payloads where allowed)
    partial: bool = False  # partial attribute update: members may be missing, null = delete
    merge: bool = False  # merge-patch semantics (urn:ngsi-ld:null allowed)


_DEFAULT_OPTS = ParseOptions()


# ------------------------------------------------------------------------------ entity level
def parse_entity_id(v: Any) -> str:
    if v is None:
        raise BadRequestData("entity id is missing")
    if not isinstance(v, str):
        raise BadRequestData(f"entity id must be a string, got {type(v).__name__}")
    if not is_uri(v):
        raise BadRequestData(f"entity id is not a URI: {v!r}")
    return v


def parse_types(v: Any, ctx: Context) -> list[str]:
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not v:
        raise BadRequestData("entity type must be a string or a non-empty array of strings")
    out: list[str] = []
    for t in v:
        if not isinstance(t, str) or not t:
            raise BadRequestData(f"invalid entity type: {t!r}")
        check_name(t, "entity type")
        if t in ctx.keywords:
            raise BadRequestData(f"invalid entity type {t!r}: it is a JSON-LD keyword alias")
        iri = ctx.expand(t)
        if iri not in out:
            out.append(iri)
    return out


def parse_scope(v: Any) -> list[str]:
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not v:
        raise BadRequestData("scope must be a string or an array of strings")
    out: list[str] = []
    for s in v:
        if not isinstance(s, str) or not _SCOPE_RE.match(s):
            raise BadRequestData(f"invalid scope: {s!r}")
        if s not in out:
            out.append(s)
    return out


def parse_entity(
    body: Any,
    ctx: Context,
    now: str,
    *,
    opts: ParseOptions = _DEFAULT_OPTS,
    require_id: bool = True,
    require_type: bool = True,
) -> dict[str, Any]:
    """A request entity -> stored form (not yet timestamped at entity level)."""
    if not isinstance(body, dict):
        raise BadRequestData("entity must be a JSON object")
    eid = body.get("id", body.get("@id"))
    doc: dict[str, Any] = {}
    if eid is not None or require_id:
        doc["id"] = parse_entity_id(eid)
    t = body.get("type", body.get("@type"))
    if t is not None:
        doc["type"] = parse_types(t, ctx)
    elif require_type:
        raise BadRequestData("entity type is missing")
    if "scope" in body:
        sc = body["scope"]
        if not (opts.merge and sc == NULL):
            doc["scope"] = parse_scope(sc)
        else:
            doc["scope"] = None
    doc["attrs"] = parse_attrs(body, ctx, now, opts=opts, reserved=ENTITY_RESERVED)
    return doc


def parse_attrs(
    body: dict[str, Any],
    ctx: Context,
    now: str,
    *,
    opts: ParseOptions = _DEFAULT_OPTS,
    reserved: frozenset[str] = ENTITY_RESERVED,
) -> dict[str, list[Any] | None]:
    """Parse the attribute members of a fragment; value None = delete (merge with urn:ngsi-ld:null)."""
    attrs: dict[str, list[Any] | None] = {}
    known = ctx.attr_iris  # names already accepted as attribute names, and their IRIs
    for name, value in body.items():
        if name in reserved:
            continue
        iri = known.get(name)
        if iri is None:
            check_name(name)
            if name in FORBIDDEN_ATTR_NAMES or name in ctx.keywords:
                raise BadRequestData(f"{name!r} cannot be used as an attribute name")
            iri = ctx.expand(name)
            if len(known) < MEMO_ENTRIES:
                known[name] = iri
        attrs[iri] = parse_attribute(iri, value, ctx, now, opts=opts, name=name)
    return attrs


def parse_attribute(
    iri: str,
    value: Any,
    ctx: Context,
    now: str,
    *,
    opts: ParseOptions = _DEFAULT_OPTS,
    name: str = "",
) -> list[Any] | None:
    """One attribute (a single instance or an array of instances) -> list of instances."""
    name = name or iri
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, dict) for v in value)
        and not (opts.key_values)
    ):
        insts = [parse_instance(iri, v, ctx, now, opts=opts, name=name) for v in value]
        seen: set[Any] = set()
        for i in insts:
            ds = i.get("datasetId") if i is not None else None
            if ds in seen:
                raise BadRequestData(
                    f"attribute {name!r}: two instances with the same datasetId {ds!r}"
                )
            seen.add(ds)
        insts.sort(key=lambda i: 0 if i is None or "datasetId" not in i else 1)
        return insts
    if value == NULL and opts.merge:
        return None
    inst = parse_instance(iri, value, ctx, now, opts=opts, name=name)
    return [inst]


# ---------------------------------------------------------------------------- one instance
#: the value member of an instance without "type", in the order they are looked for
_INFERRED = (
    ("value", "Property"),
    ("object", "Relationship"),
    ("languageMap", "LanguageProperty"),
    ("valueList", "ListProperty"),
    ("objectList", "ListRelationship"),
    ("json", "JsonProperty"),
    ("vocab", "VocabProperty"),
)


def _infer_type(v: dict[str, Any], iri: str) -> str | None:
    for member, t in _INFERRED:
        if member in v:
            if t == "Property" and iri in GEO_DEFAULTS and looks_like_geometry(v["value"]):
                return "GeoProperty"
            return t
    return None


#: instance types the fast path of ``parse_instance`` handles, with their value member
_FAST_MEMBER = {"Property": "value", "GeoProperty": "value", "Relationship": "object"}


def _parse_simple(v: dict[str, Any], ctx: Context, name: str) -> dict[str, Any] | None:
    """Fast path of ``parse_instance``: a Property, GeoProperty or Relationship with only
    ``observedAt``/``unitCode`` besides its value (the usual shape). None: take the full path,
    which also produces the error messages."""
    t = v.get("type")
    if type(t) is not str:
        return None
    member = _FAST_MEMBER.get(t)
    if member is None:
        return None
    x = v.get(member)
    n = len(v)
    if x is None or n > 4:
        return None
    inst = {"type": t, member: x}
    if n > 2:
        oa = v.get("observedAt")
        uc = v.get("unitCode")
        if len(inst) + (oa is not None) + (uc is not None) != n:
            return None  # other members: sub-attributes, datasetId, ...
        if oa is not None:
            inst["observedAt"] = check_datetime(oa, f"observedAt of {name!r}")
        if uc is not None:
            _unit_code(inst, uc, t, ctx, name)
    inst[member] = _parse_value(t, x, ctx, name)
    return inst


def parse_instance(
    iri: str, v: Any, ctx: Context, now: str, *, opts: ParseOptions = _DEFAULT_OPTS, name: str = ""
) -> dict[str, Any]:
    """One attribute instance (normalized, concise or keyValues) -> stored form."""
    name = name or iri
    if type(v) is dict and not opts.partial and not opts.merge and not opts.key_values:
        simple = _parse_simple(v, ctx, name)
        if simple is not None:
            return simple
    if v is None:
        raise BadRequestData(f"attribute {name!r} cannot be null")
    if opts.key_values or type(v) is not dict:
        return _parse_bare(iri, v, name)
    if iri in GEO_DEFAULTS and looks_like_geometry(v):
        return {"type": "GeoProperty", "value": check_geometry(v, name)}  # a bare geometry
    t = _instance_type(v, iri, opts, name)
    inst: dict[str, Any] = {"type": t} if t else {}
    member = VALUE_MEMBER.get(t)
    for k, x in v.items():
        if k in VALUE_MEMBERS:
            if k != member:
                _wrong_member(k, t, name)
        elif k != "type" and k not in IGNORED_MEMBERS:
            meta = _META.get(k)
            if meta is not None:
                meta(inst, x, t, ctx, name)
            else:
                _parse_sub_attribute(inst, k, x, ctx, now, opts)
    return _parse_value_member(inst, v, t, member, ctx, opts, name)


def _parse_bare(iri: str, v: Any, name: str) -> dict[str, Any]:
    """A concise/keyValues value without the instance object: a Property, or a GeoProperty
    when it is a GeoJSON geometry."""
    if looks_like_geometry(v):
        return {"type": "GeoProperty", "value": check_geometry(v, name)}
    return {"type": "Property", "value": v}


def _instance_type(v: dict[str, Any], iri: str, opts: ParseOptions, name: str) -> str:
    """The instance's type: given, inferred from its value member, or "" (partial update)."""
    t = v.get("type")
    if t is None:
        inferred = _infer_type(v, iri)
        if inferred is not None:
            return inferred
        if opts.partial:
            return ""
        # a concise compound value without "value" member
        raise BadRequestData(
            f"attribute {name!r}: no type and no value member (value, object, languageMap,"
            " valueList, objectList, json or vocab)"
        )
    if type(t) is not str or t not in ATTR_TYPES:
        raise BadRequestData(f"attribute {name!r}: invalid attribute type {t!r}")
    return t


def _wrong_member(k: str, t: str, name: str) -> None:
    if t == "Property" and k == "object":
        raise BadRequestData(f"attribute {name!r}: a Property has no 'object' member")
    if t == "Relationship" and k == "value":
        raise BadRequestData(f"attribute {name!r}: a Relationship has no 'value' member")
    if t:
        raise BadRequestData(f"attribute {name!r}: {k!r} does not belong to a {t}")


def _observed_at(inst: dict[str, Any], x: Any, t: str, ctx: Context, name: str) -> None:
    inst["observedAt"] = check_datetime(x, f"observedAt of {name!r}")


def _unit_code(inst: dict[str, Any], x: Any, t: str, ctx: Context, name: str) -> None:
    if type(x) is not str or not x:
        raise BadRequestData(f"unitCode of {name!r} must be a string")
    inst["unitCode"] = x


def _dataset_id(inst: dict[str, Any], x: Any, t: str, ctx: Context, name: str) -> None:
    if not is_uri(x):
        raise BadRequestData(f"datasetId of {name!r} must be a URI, got {x!r}")
    inst["datasetId"] = x


def _object_type(inst: dict[str, Any], x: Any, t: str, ctx: Context, name: str) -> None:
    if t not in ("Relationship", "ListRelationship"):
        raise BadRequestData(f"objectType is only allowed on relationships ({name!r})")
    inst["objectType"] = _parse_vocab(x, ctx, f"objectType of {name!r}")


_META: dict[str, Callable[[dict[str, Any], Any, str, Context, str], None]] = {
    "observedAt": _observed_at,
    "unitCode": _unit_code,
    "datasetId": _dataset_id,
    "objectType": _object_type,
}


def _parse_sub_attribute(
    inst: dict[str, Any], k: str, x: Any, ctx: Context, now: str, opts: ParseOptions
) -> None:
    check_name(k, "sub-attribute name")
    if k in FORBIDDEN_ATTR_NAMES:
        raise BadRequestData(f"{k!r} cannot be used as a sub-attribute name")
    sub_iri = ctx.expand(k)
    sub = inst.setdefault("attrs", {})
    if opts.merge and x == NULL:
        sub[sub_iri] = None
    else:
        sub[sub_iri] = [parse_instance(sub_iri, x, ctx, now, opts=_sub_opts(opts), name=k)]


def _parse_value_member(
    inst: dict[str, Any],
    v: dict[str, Any],
    t: str,
    member: str | None,
    ctx: Context,
    opts: ParseOptions,
    name: str,
) -> dict[str, Any]:
    if member is None or member not in v:
        if opts.partial:  # t == "" is only possible in a partial update
            return inst
        raise BadRequestData(f"attribute {name!r} of type {t} needs a {member!r} member")
    x = v[member]
    if x is None:
        raise BadRequestData(f"attribute {name!r}: {member} cannot be null")
    if opts.merge and x == NULL:
        inst[member] = NULL
        return inst
    inst[member] = _parse_value(t, x, ctx, name)
    return inst


def _sub_opts(opts: ParseOptions) -> ParseOptions:
    if opts.partial or opts.key_values:
        return ParseOptions(merge=opts.merge)
    return opts


# ----------------------------------------------------------------------------- value members
def _parse_vocab(x: Any, ctx: Context, what: str) -> str | list[str]:
    if isinstance(x, str) and x:
        return ctx.expand(x)
    if isinstance(x, list) and x and all(isinstance(s, str) and s for s in x):
        return [ctx.expand(s) for s in x]
    raise BadRequestData(f"{what} must be a string or an array of strings")


def _property(x: Any, ctx: Context, name: str) -> Any:
    if type(x) is dict and x.get("@type") == "DateTime" and "@value" in x:
        check_datetime(x["@value"], f"value of {name!r}")
    return x


def _relationship(x: Any, ctx: Context, name: str) -> Any:
    if isinstance(x, list):
        if not x or not all(is_uri(o) for o in x):
            raise BadRequestData(f"relationship {name!r}: object must be URI(s)")
        return x
    if not is_uri(x):
        raise BadRequestData(f"relationship {name!r}: object must be a URI, got {x!r}")
    return x


def _geo_property(x: Any, ctx: Context, name: str) -> Any:
    if isinstance(x, str):
        raise BadRequestData(f"GeoProperty {name!r}: value must be a GeoJSON geometry")
    return check_geometry(x, f"GeoProperty {name!r}")


def _language_property(x: Any, ctx: Context, name: str) -> Any:
    if not isinstance(x, dict) or not x:
        raise BadRequestData(f"LanguageProperty {name!r}: languageMap must be an object")
    for lang, s in x.items():
        if not check_language_tag(lang):
            raise BadRequestData(f"LanguageProperty {name!r}: invalid language tag {lang!r}")
        if not (isinstance(s, str) or (isinstance(s, list) and all(isinstance(i, str) for i in s))):
            raise BadRequestData(f"LanguageProperty {name!r}: languageMap values must be strings")
    return x


def _list_property(x: Any, ctx: Context, name: str) -> Any:
    if not isinstance(x, list):
        raise BadRequestData(f"ListProperty {name!r}: valueList must be an array")
    return x


def _list_relationship(x: Any, ctx: Context, name: str) -> Any:
    if not isinstance(x, list):
        raise BadRequestData(f"ListRelationship {name!r}: objectList must be an array")
    out = []
    for o in x:
        if isinstance(o, dict):
            o = o.get("object")
        if not is_uri(o):
            raise BadRequestData(f"ListRelationship {name!r}: objects must be URIs")
        out.append({"object": o})
    return out


def _json_property(x: Any, ctx: Context, name: str) -> Any:
    if not isinstance(x, (dict, list)):
        raise BadRequestData(f"JsonProperty {name!r}: json must be an object or an array")
    return x


def _vocab_property(x: Any, ctx: Context, name: str) -> Any:
    return _parse_vocab(x, ctx, f"vocab of {name!r}")


_VALUE_PARSERS: dict[str, Callable[[Any, Context, str], Any]] = {
    "Property": _property,
    "Relationship": _relationship,
    "GeoProperty": _geo_property,
    "LanguageProperty": _language_property,
    "ListProperty": _list_property,
    "ListRelationship": _list_relationship,
    "JsonProperty": _json_property,
    "VocabProperty": _vocab_property,
}


def _parse_value(t: str, x: Any, ctx: Context, name: str) -> Any:
    parse = _VALUE_PARSERS.get(t)
    if parse is None:
        raise BadRequestData(f"invalid attribute type {t!r}")
    return parse(x, ctx, name)
