"""Entity and attribute payloads: parse + validate into the stored form, render the stored form.

The stored form is described in docs/ngsi-ld.md: expanded names, every attribute a list of instances
(default instance first), one value member per instance chosen by its type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .errors import BadRequestData
from .jsonld import Context

NGSI = "https://uri.etsi.org/ngsi-ld/"
LOCATION = NGSI + "location"
OBSERVATION_SPACE = NGSI + "observationSpace"
OPERATION_SPACE = NGSI + "operationSpace"
GEO_DEFAULTS = frozenset((LOCATION, OBSERVATION_SPACE, OPERATION_SPACE))
NULL = "urn:ngsi-ld:null"

VALUE_MEMBER = {
    "Property": "value",
    "Relationship": "object",
    "GeoProperty": "value",
    "LanguageProperty": "languageMap",
    "ListProperty": "valueList",
    "ListRelationship": "objectList",
    "JsonProperty": "json",
    "VocabProperty": "vocab",
}
ATTR_TYPES = frozenset(VALUE_MEMBER)
VALUE_MEMBERS = frozenset(VALUE_MEMBER.values())
# members of a request's instance that parsing skips (system-generated or request-only)
IGNORED_MEMBERS = frozenset(
    ("createdAt", "modifiedAt", "deletedAt", "instanceId", "lang", "@context", "previousValue")
)
# members of an instance that are not sub-attributes
INSTANCE_META = (
    frozenset(("type", "observedAt", "unitCode", "datasetId", "objectType"))
    | IGNORED_MEMBERS
    | VALUE_MEMBERS
)
ENTITY_RESERVED = frozenset(
    ("id", "@id", "type", "@type", "scope", "@context", "createdAt", "modifiedAt", "deletedAt")
)
# names that cannot be used as attribute names
FORBIDDEN_ATTR_NAMES = frozenset(
    (
        "id",
        "type",
        "@id",
        "@type",
        "value",
        "object",
        "scope",
        "languageMap",
        "valueList",
        "objectList",
        "json",
        "vocab",
    )
)
GEO_TYPES = frozenset(
    (
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
    )
)

_URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$")
_FORBIDDEN_NAME_RE = re.compile(r"[<>\"'=;()\s\x00-\x1f\x7f&?]")
_SCOPE_RE = re.compile(r"^/([^/#+\s]+(/[^/#+\s]+)*)?$|^/#$")
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_LANG_RE = re.compile(r"^(@none|[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*)$")


def now_iso() -> str:
    d = datetime.now(UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def is_uri(s: Any) -> bool:
    return isinstance(s, str) and len(s) < 2048 and _URI_RE.match(s) is not None


_GOOD_NAMES: set[str] = set()


def check_name(name: Any, what: str = "attribute name") -> str:
    if name in _GOOD_NAMES:
        return name
    if not isinstance(name, str) or not name or name[0] == "@":
        raise BadRequestData(f"invalid {what}: {name!r}")
    if _FORBIDDEN_NAME_RE.search(name):
        raise BadRequestData(f"invalid character in {what} {name!r}")
    if len(_GOOD_NAMES) < 50_000:
        _GOOD_NAMES.add(name)
    return name


def check_datetime(v: Any, what: str) -> str:
    if not isinstance(v, str) or not _DATETIME_RE.match(v):
        raise BadRequestData(f"{what} must be an ISO 8601 DateTime string, got {v!r}")
    try:
        datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequestData(f"{what} is not a valid DateTime: {v!r}") from None
    return v


# -------------------------------------------------------------------------------- GeoJSON
def _check_position(p: Any, where: str) -> None:
    if (
        not isinstance(p, list)
        or not 2 <= len(p) <= 3
        or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in p)
    ):
        raise BadRequestData(f"invalid GeoJSON position in {where}: {p!r}")


def _check_positions(ps: Any, where: str, min_len: int) -> None:
    if not isinstance(ps, list) or len(ps) < min_len:
        raise BadRequestData(f"invalid GeoJSON coordinates in {where}")
    for p in ps:
        _check_position(p, where)


def _check_ring(r: Any, where: str) -> None:
    _check_positions(r, where, 4)
    if r[0] != r[-1]:
        raise BadRequestData(f"GeoJSON polygon ring is not closed in {where}")


def check_geometry(g: Any, where: str = "GeoProperty") -> dict:
    """Validate a GeoJSON geometry (all seven types), raising BadRequestData with the reason."""
    if not isinstance(g, dict):
        raise BadRequestData(f"{where} value must be a GeoJSON geometry object")
    t = g.get("type")
    if t not in GEO_TYPES:
        raise BadRequestData(f"{where}: invalid GeoJSON geometry type {t!r}")
    if t == "GeometryCollection":
        gs = g.get("geometries")
        if not isinstance(gs, list):
            raise BadRequestData(f"{where}: GeometryCollection needs 'geometries'")
        for sub in gs:
            check_geometry(sub, where)
        return g
    c = g.get("coordinates")
    if c is None:
        raise BadRequestData(f"{where}: GeoJSON geometry without coordinates")
    if t == "Point":
        _check_position(c, where)
    elif t in ("MultiPoint",):
        _check_positions(c, where, 1)
    elif t == "LineString":
        _check_positions(c, where, 2)
    elif t == "MultiLineString":
        if not isinstance(c, list) or not c:
            raise BadRequestData(f"invalid GeoJSON coordinates in {where}")
        for line in c:
            _check_positions(line, where, 2)
    elif t == "Polygon":
        if not isinstance(c, list) or not c:
            raise BadRequestData(f"invalid GeoJSON coordinates in {where}")
        for ring in c:
            _check_ring(ring, where)
    elif t == "MultiPolygon":
        if not isinstance(c, list) or not c:
            raise BadRequestData(f"invalid GeoJSON coordinates in {where}")
        for poly in c:
            if not isinstance(poly, list) or not poly:
                raise BadRequestData(f"invalid GeoJSON coordinates in {where}")
            for ring in poly:
                _check_ring(ring, where)
    if t != "Point":  # a Point is fully checked above
        try:
            import shapely.geometry

            shapely.geometry.shape(g)
        except Exception as e:
            raise BadRequestData(f"{where}: invalid GeoJSON geometry ({e})") from None
    return g


def looks_like_geometry(v: Any) -> bool:
    return (
        isinstance(v, dict)
        and v.get("type") in GEO_TYPES
        and ("coordinates" in v or "geometries" in v)
    )


# -------------------------------------------------------------------------------- parsing
@dataclass(slots=True)
class ParseOptions:
    key_values: bool = False  # value-only attributes (keyValues payloads where allowed)
    partial: bool = False  # partial attribute update: members may be missing, null = delete
    merge: bool = False  # merge-patch semantics (urn:ngsi-ld:null allowed)


_DEFAULT_OPTS = ParseOptions()


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
) -> dict:
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
    body: dict,
    ctx: Context,
    now: str,
    *,
    opts: ParseOptions = _DEFAULT_OPTS,
    reserved=ENTITY_RESERVED,
) -> dict[str, list | None]:
    """Parse the attribute members of a fragment; value None = delete (merge with urn:ngsi-ld:null)."""
    attrs: dict[str, list | None] = {}
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
            if len(known) < 10_000:
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
) -> list | None:
    """One attribute (a single instance or an array of instances) -> list of instances."""
    name = name or iri
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, dict) for v in value)
        and not (opts.key_values)
    ):
        insts = [parse_instance(iri, v, ctx, now, opts=opts, name=name) for v in value]
        seen: set = set()
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


def _infer_type(v: dict, iri: str) -> str | None:
    for t in ("value", "object", "languageMap", "valueList", "objectList", "json", "vocab"):
        if t in v:
            if t == "value" and iri in GEO_DEFAULTS and looks_like_geometry(v["value"]):
                return "GeoProperty"
            return {
                "value": "Property",
                "object": "Relationship",
                "languageMap": "LanguageProperty",
                "valueList": "ListProperty",
                "objectList": "ListRelationship",
                "json": "JsonProperty",
                "vocab": "VocabProperty",
            }[t]
    return None


#: instance types the fast path of ``parse_instance`` handles, with their value member
_FAST_MEMBER = {"Property": "value", "GeoProperty": "value", "Relationship": "object"}


def _parse_simple(v: dict, iri: str, ctx: Context, name: str) -> dict | None:
    """Fast path of ``parse_instance``: a Property, GeoProperty or Relationship with only
    ``observedAt``/``unitCode`` besides its value (the usual shape). None: take the full path,
    which also produces the error messages."""
    t = v.get("type")
    member = _FAST_MEMBER.get(t)  # type: ignore[arg-type]
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
            if type(uc) is not str or not uc:
                raise BadRequestData(f"unitCode of {name!r} must be a string")
            inst["unitCode"] = uc
    if t == "Property":
        if type(x) is dict and x.get("@type") == "DateTime" and "@value" in x:
            check_datetime(x["@value"], f"value of {name!r}")
    else:
        inst[member] = _parse_value(t, x, ctx, name)  # type: ignore[arg-type]
    return inst


def parse_instance(
    iri: str, v: Any, ctx: Context, now: str, *, opts: ParseOptions = _DEFAULT_OPTS, name: str = ""
) -> dict:
    name = name or iri
    if type(v) is dict and not opts.partial and not opts.merge and not opts.key_values:
        inst = _parse_simple(v, iri, ctx, name)
        if inst is not None:
            return inst
    if v is None:
        raise BadRequestData(f"attribute {name!r} cannot be null")
    if opts.key_values or not isinstance(v, dict):
        if isinstance(v, dict) and looks_like_geometry(v):
            return {"type": "GeoProperty", "value": check_geometry(v, name)}
        if iri in GEO_DEFAULTS and looks_like_geometry(v):
            return {"type": "GeoProperty", "value": check_geometry(v, name)}
        if isinstance(v, dict) and opts.key_values and "type" in v:
            pass  # a keyValues payload whose value happens to be an object with "type"
        return {"type": "Property", "value": v}
    t = v.get("type")
    if t is None:
        t = _infer_type(v, iri)
        if t is None:
            if looks_like_geometry(v):
                return {"type": "GeoProperty", "value": check_geometry(v, name)}
            if opts.partial:
                t = ""
            else:
                # a concise compound value without "value" member
                raise BadRequestData(
                    f"attribute {name!r}: no type and no value member (value, object, languageMap,"
                    " valueList, objectList, json or vocab)"
                )
    elif not isinstance(t, str) or t not in ATTR_TYPES:
        if looks_like_geometry(v) and iri in GEO_DEFAULTS:
            return {"type": "GeoProperty", "value": check_geometry(v, name)}
        raise BadRequestData(f"attribute {name!r}: invalid attribute type {t!r}")
    inst: dict[str, Any] = {"type": t} if t else {}
    member = VALUE_MEMBER.get(t)
    for k, x in v.items():
        if k in VALUE_MEMBERS:
            if k != member:
                if t == "Property" and k == "object":
                    raise BadRequestData(f"attribute {name!r}: a Property has no 'object' member")
                if t == "Relationship" and k == "value":
                    raise BadRequestData(
                        f"attribute {name!r}: a Relationship has no 'value' member"
                    )
                if t:
                    raise BadRequestData(f"attribute {name!r}: {k!r} does not belong to a {t}")
            continue
        if k == "type" or k in IGNORED_MEMBERS:
            continue
        if k == "observedAt":
            inst["observedAt"] = check_datetime(x, f"observedAt of {name!r}")
        elif k == "unitCode":
            if not isinstance(x, str) or not x:
                raise BadRequestData(f"unitCode of {name!r} must be a string")
            inst["unitCode"] = x
        elif k == "datasetId":
            if not is_uri(x):
                raise BadRequestData(f"datasetId of {name!r} must be a URI, got {x!r}")
            inst["datasetId"] = x
        elif k == "objectType":
            if t not in ("Relationship", "ListRelationship"):
                raise BadRequestData(f"objectType is only allowed on relationships ({name!r})")
            inst["objectType"] = _parse_vocab(x, ctx, f"objectType of {name!r}")
        else:
            check_name(k, "sub-attribute name")
            if k in FORBIDDEN_ATTR_NAMES:
                raise BadRequestData(f"{k!r} cannot be used as a sub-attribute name")
            sub_iri = ctx.expand(k)
            sub = inst.setdefault("attrs", {})
            if opts.merge and x == NULL:
                sub[sub_iri] = None
            else:
                sub[sub_iri] = [parse_instance(sub_iri, x, ctx, now, opts=_sub_opts(opts), name=k)]
    if member is None:
        if t == "" and opts.partial:
            return inst
        raise BadRequestData(f"attribute {name!r}: invalid type {t!r}")
    if member not in v:
        if opts.partial:
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


def _parse_vocab(x: Any, ctx: Context, what: str) -> str | list[str]:
    if isinstance(x, str) and x:
        return ctx.expand(x)
    if isinstance(x, list) and x and all(isinstance(s, str) and s for s in x):
        return [ctx.expand(s) for s in x]
    raise BadRequestData(f"{what} must be a string or an array of strings")


def _parse_value(t: str, x: Any, ctx: Context, name: str) -> Any:
    if t == "Property":
        if isinstance(x, dict) and x.get("@type") == "DateTime" and "@value" in x:
            check_datetime(x["@value"], f"value of {name!r}")
        return x
    if t == "Relationship":
        if isinstance(x, list):
            if not x or not all(is_uri(o) for o in x):
                raise BadRequestData(f"relationship {name!r}: object must be URI(s)")
            return x
        if not is_uri(x):
            raise BadRequestData(f"relationship {name!r}: object must be a URI, got {x!r}")
        return x
    if t == "GeoProperty":
        if isinstance(x, str):
            raise BadRequestData(f"GeoProperty {name!r}: value must be a GeoJSON geometry")
        return check_geometry(x, f"GeoProperty {name!r}")
    if t == "LanguageProperty":
        if not isinstance(x, dict) or not x:
            raise BadRequestData(f"LanguageProperty {name!r}: languageMap must be an object")
        for lang, s in x.items():
            if not _LANG_RE.match(lang):
                raise BadRequestData(f"LanguageProperty {name!r}: invalid language tag {lang!r}")
            if not (
                isinstance(s, str) or (isinstance(s, list) and all(isinstance(i, str) for i in s))
            ):
                raise BadRequestData(
                    f"LanguageProperty {name!r}: languageMap values must be strings"
                )
        return x
    if t == "ListProperty":
        if not isinstance(x, list):
            raise BadRequestData(f"ListProperty {name!r}: valueList must be an array")
        return x
    if t == "ListRelationship":
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
    if t == "JsonProperty":
        if not isinstance(x, (dict, list)):
            raise BadRequestData(f"JsonProperty {name!r}: json must be an object or an array")
        return x
    if t == "VocabProperty":
        return _parse_vocab(x, ctx, f"vocab of {name!r}")
    raise BadRequestData(f"invalid attribute type {t!r}")


def stamp(inst: dict, now: str, created: str | None = None) -> dict:
    """Write createdAt/modifiedAt into an instance and its sub-attributes."""
    inst["createdAt"] = created or now
    inst["modifiedAt"] = now
    sub = inst.get("attrs")
    if sub:
        for lst in sub.values():
            if lst:
                for s in lst:
                    stamp(s, now, s.get("createdAt") if created else None)
    return inst


def stamp_attrs(attrs: dict, now: str) -> None:
    for lst in attrs.values():
        if lst:
            for i in lst:
                stamp(i, now)


def instance_index(insts: list, dataset_id: str | None) -> int:
    for n, i in enumerate(insts):
        if i.get("datasetId") == dataset_id:
            return n
    return -1


def put_instance(insts: list, inst: dict) -> None:
    """Insert or replace by datasetId, keeping the default instance first."""
    n = instance_index(insts, inst.get("datasetId"))
    if n >= 0:
        insts[n] = inst
    elif "datasetId" in inst:
        insts.append(inst)
    else:
        insts.insert(0, inst)


def merge_instance(old: dict, new: dict, now: str) -> dict:
    """Merge-patch an instance: members in ``new`` win, sub-attributes merge recursively."""
    out = dict(old)
    if "type" in new and new["type"] != old.get("type"):
        # type change: drop the old value member
        for m in VALUE_MEMBERS:
            out.pop(m, None)
    for k, x in new.items():
        if k == "attrs":
            sub = dict(out.get("attrs") or {})
            for sk, sv in x.items():
                if sv is None:
                    sub.pop(sk, None)
                elif sub.get(sk):
                    sub[sk] = [merge_instance(sub[sk][0], sv[0], now)]
                else:
                    sub[sk] = [stamp(sv[0], now)]
            if sub:
                out["attrs"] = sub
            else:
                out.pop("attrs", None)
        elif k in ("createdAt", "modifiedAt"):
            continue
        else:
            out[k] = x
    out["modifiedAt"] = now
    out.setdefault("createdAt", now)
    return out


# -------------------------------------------------------------------------------- rendering
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
    pick_tree: dict | None = None  # parsed pick (with sub-trees for linked entities)
    omit_tree: dict | None = None  # parsed omit


def weighted_items(header: str) -> list[tuple[str, float]]:
    """The items of a comma-separated list with ``;q=`` weights (Accept, lang): (item, q) in
    the order given; a missing weight is 1, an unreadable one 0."""
    out = []
    for part in header.split(","):
        bits = part.strip().split(";")
        q = 1.0
        for b in bits[1:]:
            b = b.strip()
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        out.append((bits[0].strip(), q))
    return out


def _lang_prefs(lang: str) -> list[str]:
    prefs = [(-q, n, tag) for n, (tag, q) in enumerate(weighted_items(lang)) if tag]
    return [t for _, _, t in sorted(prefs)]


def _choose_lang(lmap: dict, lang: str) -> tuple[str | None, Any]:
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


def _render_sub(attrs: dict, ctx: Context, ro: RenderOptions, out: dict) -> None:
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


def _render_instance(inst: dict, ctx: Context, ro: RenderOptions) -> Any:
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


def _simplified_value(inst: dict, ctx: Context, ro: RenderOptions) -> Any:
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


def _filter_instances(insts: list, ds: frozenset[str] | None) -> list:
    if ds is None:
        return insts
    return [i for i in insts if i.get("datasetId", "@none") in ds]


def render_entity(doc: dict, ctx: Context, ro: RenderOptions) -> dict:
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


def render_feature(doc: dict, ctx: Context, ro: RenderOptions, geometry_property: str) -> dict:
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


def geometry_of(doc: dict, attr: str) -> dict | None:
    insts = (doc.get("attrs") or {}).get(attr)
    if insts and insts[0].get("type") == "GeoProperty":
        return insts[0].get("value")
    return None
