"""Typed request parameters: the query string parsed before a use case runs.

The route table (``routes``) names, per route and method, which query parameters are allowed and
which parser turns them into one of these frozen objects; the use cases take the objects, never
raw query strings. In-process callers (``herzstadt.urbandata``) build them directly.
Parsing errors are ``BadRequestData``/``InvalidRequest`` (400) or ``TooManyResults`` (403).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from . import model
from .config import NgsiConfig
from .errors import BadRequestData, InvalidRequest, TooManyResults
from .projection import parse_projection

Params = Mapping[str, str]

#: the largest offset accepted (SQLite and PostgreSQL take 64-bit integers; no store has more
#: entities than this, and larger numbers would overflow the drivers)
MAX_OFFSET = 2**31 - 1

OPTIONS = frozenset(
    (
        "keyValues",
        "simplified",
        "concise",
        "normalized",
        "sysAttrs",
        "noOverwrite",
        "update",
        "replace",
        "unique",
    )
)
_REPRESENTATIONS = ("keyValues", "simplified", "concise", "normalized")


def parse_options(p: Params, allowed: frozenset[str] = OPTIONS) -> frozenset[str]:
    """``options`` (comma list) with ``format`` folded in (format wins over the representation)."""
    raw = p.get("options")
    out: set[str] = set()
    if raw is not None:
        for o in raw.split(","):
            o = o.strip()
            if o not in allowed:
                raise InvalidRequest(f"invalid option {o!r}")
            out.add(o)
    fmt = p.get("format")
    if fmt is not None:
        if fmt in _REPRESENTATIONS:
            out -= set(_REPRESENTATIONS)
            out.add(fmt)
        elif fmt != "geojson":
            raise InvalidRequest(f"invalid format {fmt!r}")
    return frozenset(out)


def parse_names(p: Params, key: str) -> tuple[str, ...] | None:
    """A comma list of attribute names (None when absent; 400 when empty or invalid)."""
    raw = p.get(key)
    if raw is None:
        return None
    names = tuple(a.strip() for a in raw.split(",") if a.strip())
    if not names:
        raise BadRequestData(f"empty {key} parameter")
    for a in names:
        model.check_name(a, f"{key} entry")
    return names


def parse_bool(p: Params, key: str, default: bool = False) -> bool:
    v = p.get(key)
    if v is None:
        return default
    if v not in ("true", "false"):
        raise BadRequestData(f"{key} must be true or false")
    return v == "true"


# ------------------------------------------------------------------------------------ paging
@dataclass(frozen=True, slots=True)
class Paging:
    limit: int
    offset: int = 0
    count: bool = False

    @classmethod
    def parse(cls, p: Params, config: NgsiConfig) -> Paging:
        try:
            limit = int(p["limit"]) if "limit" in p else config.default_limit
            offset = int(p["offset"]) if "offset" in p else 0
        except ValueError:
            raise BadRequestData("limit and offset must be integers") from None
        count = p.get("count", "false")
        if count not in ("true", "false"):
            raise BadRequestData("count must be true or false")
        if limit < 0 or offset < 0:
            raise BadRequestData("limit and offset must not be negative")
        if limit > config.max_limit:
            raise TooManyResults(f"limit {limit} exceeds the maximum of {config.max_limit}")
        if offset > MAX_OFFSET:
            raise BadRequestData(f"offset must be at most {MAX_OFFSET}")
        if limit == 0 and count != "true":
            raise BadRequestData("limit=0 is only allowed with count=true")
        return cls(limit, offset, count == "true")


# --------------------------------------------------------------------------- representation
@dataclass(frozen=True, slots=True)
class RetrieveOptions:
    """How entities are rendered: representation, projection, language, joins, GeoJSON."""

    options: frozenset[str] = frozenset()
    lang: str | None = None
    attrs: tuple[str, ...] | None = None
    pick: dict[str, Any] | None = None  # parsed pick tree
    omit: dict[str, Any] | None = None  # parsed omit tree
    dataset_id: frozenset[str] | None = None
    join: str | None = None  # inline | flat | @none, as given (None: not given)
    join_level: int | None = None  # as given (validated when a join is given)
    geojson: bool = False  # format=geojson
    geometry_property: str | None = None
    type: str | None = None  # type expression the retrieved entity must match

    def __post_init__(self) -> None:
        o = self.options
        kv = "keyValues" in o or "simplified" in o
        if kv and ("normalized" in o or "concise" in o):
            raise BadRequestData(
                "keyValues/simplified cannot be combined with normalized or concise"
            )
        if "concise" in o and "normalized" in o:
            raise BadRequestData("concise cannot be combined with normalized")
        if self.pick is not None and self.omit is not None:
            raise BadRequestData("pick and omit cannot be used together")
        if self.attrs is not None and (self.pick is not None or self.omit is not None):
            raise BadRequestData("attrs cannot be combined with pick or omit")

    @property
    def key_values(self) -> bool:
        return "keyValues" in self.options or "simplified" in self.options

    @property
    def sys_attrs(self) -> bool:
        return "sysAttrs" in self.options

    @classmethod
    def parse(cls, p: Params) -> RetrieveOptions:
        options = parse_options(p)
        lang = p.get("lang")
        if lang is not None and not lang.strip():
            raise BadRequestData("empty lang parameter")
        attrs = parse_names(p, "attrs")
        pick, omit = p.get("pick"), p.get("omit")
        if pick is not None and omit is not None:
            raise BadRequestData("pick and omit cannot be used together")
        if attrs is not None and (pick is not None or omit is not None):
            raise BadRequestData("attrs cannot be combined with pick or omit")
        ds = p.get("datasetId")
        join, level = _join(p.get("join"), p.get("joinLevel"))
        return cls(
            options=options,
            lang=lang,
            attrs=attrs,
            pick=parse_projection(pick, "pick") if pick is not None else None,
            omit=parse_projection(omit, "omit") if omit is not None else None,
            dataset_id=frozenset(d.strip() for d in ds.split(",")) if ds else None,
            join=join,
            join_level=level,
            geojson=p.get("format") == "geojson",
            geometry_property=p.get("geometryProperty") or None,
            type=p.get("type") or None,
        )

    def with_body(self, body: dict[str, Any], attrs: tuple[str, ...] | None) -> RetrieveOptions:
        """Options of ``POST /entityOperations/query``: the Query's ``attrs`` replace the URL's;
        its ``lang``, ``join`` and ``joinLevel`` apply where the URL gives none."""
        changes: dict[str, Any] = {}
        if attrs is not None:
            changes["attrs"] = attrs or None
        if self.lang is None and isinstance(body.get("lang"), str):
            if not body["lang"].strip():
                raise BadRequestData("empty lang parameter")
            changes["lang"] = body["lang"]
        join = self.join if self.join is not None else body.get("join")
        level = self.join_level
        if level is None and "joinLevel" in body:
            level = body["joinLevel"]
        if join is not None and (join, level) != (self.join, self.join_level):
            changes["join"], changes["join_level"] = _join(
                str(join), None if level is None else str(level)
            )
        return replace(self, **changes) if changes else self

    def join_mode(self) -> tuple[str | None, int]:
        """(inline | flat | None, level 1–10)."""
        if self.join is None or self.join == "@none":
            return None, 1
        return self.join, min(self.join_level or 1, 10)


def _join(join: str | None, level: str | None) -> tuple[str | None, int | None]:
    """Validate ``join``/``joinLevel`` (the level only matters, and is only checked, with a
    join)."""
    if join is None:
        try:
            return None, int(level) if level is not None else None
        except ValueError:
            return None, None
    if join not in ("inline", "flat", "@none"):
        raise BadRequestData(f"invalid join {join!r}")
    if join == "@none" or level is None:
        return join, None
    try:
        n = int(level)
    except ValueError:
        raise BadRequestData("joinLevel must be an integer") from None
    if n < 1:
        raise BadRequestData("joinLevel must be at least 1")
    return join, n


# --------------------------------------------------------------------------------- queries
@dataclass(frozen=True, slots=True)
class GeoQuery:
    georel: str | None = None
    geometry: str | None = None
    coordinates: Any = None  # a JSON text (URL) or the parsed value (Query body)
    geoproperty: str | None = None

    @classmethod
    def from_body(cls, g: dict[str, Any]) -> GeoQuery:
        return cls(g.get("georel"), g.get("geometry"), g.get("coordinates"), g.get("geoproperty"))


@dataclass(frozen=True, slots=True)
class EntityQuery:
    """Which entities: ``type`` expression, ids, idPattern, attrs, q, scopeQ, geoQ, or the
    EntitySelectors of a Query body. Compiled into the store's ``QuerySpec`` by ``queries``."""

    type: str | None = None
    ids: tuple[str, ...] | None = None
    id_pattern: str | None = None
    attrs: tuple[str, ...] | None = None
    q: str | None = None
    scope_q: str | None = None
    geo: GeoQuery | None = None
    entities: tuple[dict[str, Any], ...] | None = (
        None  # EntitySelectors (POST /entityOperations/query)
    )
    local: bool = False

    @classmethod
    def parse(cls, p: Params) -> EntityQuery:
        attrs = None
        if p.get("attrs"):
            attrs = tuple(a.strip() for a in p["attrs"].split(",") if a.strip())
        geo = None
        if "georel" in p or "geometry" in p or "coordinates" in p:
            geo = GeoQuery(
                p.get("georel"), p.get("geometry"), p.get("coordinates"), p.get("geoproperty")
            )
        return cls(
            type=p.get("type"),
            ids=tuple(i for i in p["id"].split(",") if i) if "id" in p else None,
            id_pattern=p.get("idPattern"),
            attrs=attrs,
            q=p.get("q"),
            scope_q=p.get("scopeQ"),
            geo=geo,
            local=p.get("local") == "true",
        )


@dataclass(frozen=True, slots=True)
class QueryParams:
    """``GET /entities``: what, how many, how rendered, in which order."""

    query: EntityQuery
    paging: Paging
    render: RetrieveOptions = RetrieveOptions()
    order_by: tuple[tuple[tuple[str, ...], bool], ...] | None = None  # (path, descending)

    @classmethod
    def parse(cls, p: Params, config: NgsiConfig) -> QueryParams:
        render = RetrieveOptions.parse(p)
        paging = Paging.parse(p, config)
        has_filter = any(k in p for k in ("type", "idPattern", "attrs", "q", "georel", "scopeQ"))
        # local=true lists everything; an id list alone is not a query (ETSI 019_03_05)
        if not has_filter and p.get("local") != "true":
            raise BadRequestData(
                "a query needs at least one of type, attrs, q, geoQ, scopeQ, idPattern"
                " (or local=true)"
            )
        return cls(EntityQuery.parse(p), paging, render, parse_order_by(p.get("orderBy")))


def parse_order_by(raw: str | None) -> tuple[tuple[tuple[str, ...], bool], ...] | None:
    if raw is None:
        return None
    keys = []
    for part in raw.split(","):
        path, _, direction = part.strip().partition(";")
        direction = direction.strip() or "asc"
        if not path or direction not in ("asc", "desc"):
            raise BadRequestData(f"invalid orderBy {raw!r}")
        keys.append((tuple(path.split(".")), direction == "desc"))
    return tuple(keys)


@dataclass(frozen=True, slots=True)
class QueryPostParams:
    """``POST /entityOperations/query``: paging and rendering from the URL (the Query is the body)."""

    paging: Paging
    render: RetrieveOptions
    order_by: tuple[tuple[tuple[str, ...], bool], ...] | None = None

    @classmethod
    def parse(cls, p: Params, config: NgsiConfig) -> QueryPostParams:
        paging = Paging.parse(p, config)
        return cls(paging, RetrieveOptions.parse(p), parse_order_by(p.get("orderBy")))


@dataclass(frozen=True, slots=True)
class PurgeParams:
    """``DELETE /entities``: which entities, and optionally which attributes to keep or drop."""

    query: EntityQuery
    keep: tuple[str, ...] | None = None
    drop: tuple[str, ...] | None = None

    @classmethod
    def parse(cls, p: Params, config: NgsiConfig) -> PurgeParams:
        if not any(
            k in p for k in ("type", "id", "idPattern", "q", "scopeQ", "geoQ", "georel", "local")
        ):
            raise BadRequestData("purge needs at least one of type, id, idPattern, q, scopeQ, geoQ")
        if "keep" in p and "drop" in p:
            raise BadRequestData("keep and drop cannot be used together")
        return cls(EntityQuery.parse(p), parse_names(p, "keep"), parse_names(p, "drop"))


# ------------------------------------------------------------------------------ small ones
@dataclass(frozen=True, slots=True)
class TypeFilter:
    """``type`` of ``DELETE /entities/{id}``: the entity must match it (else 404)."""

    type: str | None = None

    @classmethod
    def parse(cls, p: Params, config: NgsiConfig) -> TypeFilter:
        return cls(p.get("type") or None)


@dataclass(frozen=True, slots=True)
class WriteOptions:
    """``options`` of a write (noOverwrite, update, replace)."""

    no_overwrite: bool = False
    update: bool = False
    replace: bool = False

    @classmethod
    def parse(cls, p: Params, config: NgsiConfig) -> WriteOptions:
        o = parse_options(p)
        return cls("noOverwrite" in o, "update" in o, "replace" in o)


@dataclass(frozen=True, slots=True)
class DeleteAttrParams:
    dataset_id: str | None = None
    delete_all: bool = False

    @classmethod
    def parse(cls, p: Params, config: NgsiConfig) -> DeleteAttrParams:
        ds = p.get("datasetId")
        if ds is not None and not model.is_uri(ds):
            raise BadRequestData(f"datasetId must be a URI: {ds!r}")
        return cls(ds, parse_bool(p, "deleteAll"))


@dataclass(frozen=True, slots=True)
class Details:
    """``details`` of /types, /attributes (anything but ``true`` is false, as before)."""

    details: bool = False

    @classmethod
    def parse(cls, p: Params, config: NgsiConfig) -> Details:
        return cls(p.get("details") == "true")

    @classmethod
    def parse_strict(cls, p: Params, config: NgsiConfig) -> Details:
        return cls(parse_bool(p, "details"))


@dataclass(frozen=True, slots=True)
class ContextListParams:
    details: bool = False
    kind: str | None = None  # Hosted | Cached | ImplicitlyCreated

    @classmethod
    def parse(cls, p: Params, config: NgsiConfig) -> ContextListParams:
        kinds = {"hosted": "Hosted", "cached": "Cached", "implicitlycreated": "ImplicitlyCreated"}
        kind = p.get("kind")
        want = None
        if kind:
            want = kinds.get(kind.lower())
            if want is None:
                raise BadRequestData(f"invalid kind {kind!r}")
        return cls(parse_bool(p, "details"), want)


@dataclass(frozen=True, slots=True)
class ReloadParams:
    reload: bool | None = None

    @classmethod
    def parse(cls, p: Params, config: NgsiConfig) -> ReloadParams:
        return cls(parse_bool(p, "reload") if "reload" in p else None)


@dataclass(frozen=True, slots=True)
class SubscriptionOptions:
    sys_attrs: bool = False

    @classmethod
    def parse(cls, p: Params, config: NgsiConfig) -> SubscriptionOptions:
        return cls("sysAttrs" in (p.get("options") or ""))


def parse_retrieve(p: Params, config: NgsiConfig) -> RetrieveOptions:
    return RetrieveOptions.parse(p)


def parse_paging(p: Params, config: NgsiConfig) -> Paging:
    return Paging.parse(p, config)


# ------------------------------------------------------------------ the parameters, described
def _list_of(*values: str) -> dict[str, Any]:
    """A comma list of the given values (OpenAPI: an array, ``style: form, explode: false``)."""
    return {"type": "array", "items": {"type": "string", "enum": list(values)}, "minItems": 1}


_NAMES = {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}
_BOOL = {"type": "string", "enum": ["true", "false"]}
_TIME = {"type": "string", "format": "date-time"}

#: Every query parameter a route accepts: its JSON schema and what it means. The OpenAPI
#: description (``openapi``) is built from this table and ``routes``; a parameter a route lists
#: without an entry here is an error there, so the two cannot drift apart.
QUERY_PARAMETERS: dict[str, tuple[dict[str, Any], str]] = {
    # --- which entities
    "type": (
        {"type": "string", "minLength": 1},
        "Entity type expression (names, `,` `;` `|` `()`).",
    ),
    "id": (_NAMES, "Entity ids (URIs)."),
    "idPattern": ({"type": "string"}, "Regular expression (RE2) the entity id must match."),
    "attrs": (_NAMES, "Attribute names: entities having them; only them in the response."),
    "q": ({"type": "string"}, "NGSI-LD query language (clause 4.9)."),
    "scopeQ": ({"type": "string"}, "Scope query (clause 4.19)."),
    "georel": (
        {"type": "string"},
        "Geo relationship: near;maxDistance==n, near;minDistance==n, within, contains,"
        " intersects, equals, disjoint, overlaps.",
    ),
    "geometry": (
        {
            "type": "string",
            "enum": [
                "Point",
                "MultiPoint",
                "LineString",
                "MultiLineString",
                "Polygon",
                "MultiPolygon",
            ],
        },
        "GeoJSON geometry type of the geo query.",
    ),
    "coordinates": ({"type": "string"}, "Coordinates of the geo query (a JSON array)."),
    "geoproperty": ({"type": "string"}, "GeoProperty the geo query applies to (default location)."),
    "csf": (
        {"type": "string"},
        "Context source filter (discovery: a q over the registrations' own members).",
    ),
    "local": (_BOOL, "Only this broker's own data (always the case here)."),
    "datasetId": (_NAMES, "Dataset ids (URIs) of the attribute instances."),
    "lang": ({"type": "string", "minLength": 1}, "Language(s) of LanguageProperties (`*`: all)."),
    # --- how rendered
    "options": (_list_of(*sorted(OPTIONS)), "Representation and write options."),
    "format": (
        {"type": "string", "enum": [*_REPRESENTATIONS, "geojson"]},
        "Representation (wins over options).",
    ),
    "geometryProperty": ({"type": "string"}, "GeoProperty used as the GeoJSON geometry."),
    "pick": ({"type": "string"}, "Projection: the members to keep (clause 4.21)."),
    "omit": ({"type": "string"}, "Projection: the members to drop (clause 4.21)."),
    "join": ({"type": "string", "enum": ["inline", "flat", "@none"]}, "Linked-entity retrieval."),
    "joinLevel": ({"type": "integer", "minimum": 1}, "Depth of the linked-entity retrieval."),
    "collation": ({"type": "string"}, "Collation of orderBy (accepted, not used)."),
    "expandValues": (_NAMES, "Attributes whose values are expanded (accepted, not used)."),
    "entityMap": (_BOOL, "Return an entity map (accepted, not used)."),
    "jsonKeys": (_NAMES, "JsonProperty keys (accepted, not used)."),
    "containedBy": (_NAMES, "Containment of linked entities (accepted, not used)."),
    "sysAttrs": (_BOOL, "Include createdAt/modifiedAt."),
    "doNotCompact": (_BOOL, "Do not compact the response (accepted, not used)."),
    # --- paging
    "limit": ({"type": "integer", "minimum": 0}, "Page size (0 only with count=true)."),
    "offset": ({"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}, "Page start."),
    "count": (_BOOL, "Return the total in the NGSILD-Results-Count header."),
    "orderBy": ({"type": "string"}, "Sort keys: `path[;asc|;desc]`, comma separated."),
    # --- temporal (routed, not implemented yet)
    "timerel": ({"type": "string", "enum": ["before", "after", "between"]}, "Temporal relation."),
    "timeAt": (_TIME, "Time of the temporal query."),
    "endTimeAt": (_TIME, "End time of a between query."),
    "timeproperty": ({"type": "string"}, "Time property of the temporal query."),
    "lastN": ({"type": "integer", "minimum": 1}, "Last n instances."),
    "aggrMethods": (_NAMES, "Aggregation methods."),
    "aggrPeriodDuration": ({"type": "string"}, "Aggregation period (ISO 8601 duration)."),
    # --- purge, details, deletion
    "keep": (_NAMES, "Purge: the attributes to keep (the others are deleted)."),
    "drop": (_NAMES, "Purge: the attributes to delete."),
    "details": (_BOOL, "Detailed information."),
    "kind": (
        {"type": "string", "enum": ["Hosted", "Cached", "ImplicitlyCreated"]},
        "Kind of @context (case-insensitive).",
    ),
    "reload": (_BOOL, "Reload a cached @context instead of deleting it."),
    "deleteAll": (_BOOL, "Delete every instance (all datasetIds) of the attribute."),
}
