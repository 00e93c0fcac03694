"""The one GeoJSON geometry validation of herzstadt (RFC 7946, WGS 84 longitude/latitude).

Used by the broker for stored GeoProperties (``model``) and for geo-queries (``query.geo``), and by
the Django side for districts and measures (``herzstadt.core.geo``). Framework-free (shapely only).

``check_geometry(g)`` checks the structure of every geometry type (positions of 2 or 3 finite
numbers, longitude in [-180, 180], latitude in [-90, 90], minimum lengths, closed rings,
GeometryCollections nested at most ``MAX_COLLECTION_DEPTH`` deep), that shapely can build it and,
with ``require_valid``, that GEOS finds it valid. Failures raise ``GeoJSONError`` with the JSON
path of the problem (``coordinates[0][3]``) and a ``kind``: ``"type"``, ``"structure"``,
``"range"`` or ``"invalid"``.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

#: every GeoJSON geometry type
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
#: the types with coordinates (geo-queries take only these)
COORDINATE_TYPES = GEO_TYPES - {"GeometryCollection"}
MAX_COLLECTION_DEPTH = 8


class GeoJSONError(ValueError):
    """A GeoJSON geometry is malformed. ``path`` (e.g. ``coordinates[0][1]``), ``detail`` the
    bare reason, ``kind`` one of type / structure / range / invalid; ``str()`` is
    ``"<path>: <detail>"``."""

    def __init__(self, path: str, detail: str, kind: str = "structure"):
        self.path = path
        self.detail = detail
        self.kind = kind
        super().__init__(f"{path}: {detail}" if path else detail)


def short(v: Any) -> str:
    """A short JSON rendering of a value for error messages (never fails, however deep)."""
    if isinstance(v, str):
        t = repr(v)
    else:
        try:
            t = orjson.dumps(v).decode()
        except (TypeError, orjson.JSONEncodeError):  # nested beyond orjson's limit
            t = "[…]" if isinstance(v, list) else type(v).__name__
    return t if len(t) <= 40 else t[:37] + "..."


def looks_like_geometry(v: Any) -> bool:
    """A dict that presents itself as a GeoJSON geometry (its type is one; it has coordinates
    or geometries). Safe on any JSON value."""
    if type(v) is not dict:
        return False
    t = v.get("type")
    return type(t) is str and t in GEO_TYPES and ("coordinates" in v or "geometries" in v)


def _number(v: Any) -> bool:
    return type(v) in (int, float) and math.isfinite(v)


def check_position(p: Any, path: str = "coordinates") -> None:
    if type(p) is not list or not 2 <= len(p) <= 3:
        raise GeoJSONError(
            path,
            f"a position must be [longitude, latitude] (optionally altitude), found {short(p)}",
        )
    for i, v in enumerate(p):
        if not _number(v):
            raise GeoJSONError(f"{path}[{i}]", f"expected a number, found {short(v)}")
    if not -180 <= p[0] <= 180:
        raise GeoJSONError(path, f"longitude {p[0]} is outside [-180, 180]", "range")
    if not -90 <= p[1] <= 90:
        raise GeoJSONError(path, f"latitude {p[1]} is outside [-90, 90]", "range")


def _positions(ps: Any, path: str, minimum: int, what: str) -> None:
    if type(ps) is not list or len(ps) < minimum:
        raise GeoJSONError(
            path, f"{what} needs an array of at least {minimum} position(s), found {short(ps)}"
        )
    for i, p in enumerate(ps):
        check_position(p, f"{path}[{i}]")


def _polygon(rings: Any, path: str) -> None:
    if type(rings) is not list or not rings:
        raise GeoJSONError(path, f"a Polygon needs an array of linear rings, found {short(rings)}")
    for i, ring in enumerate(rings):
        rp = f"{path}[{i}]"
        _positions(ring, rp, 4, "a linear ring")
        if ring[0][:2] != ring[-1][:2]:
            raise GeoJSONError(
                rp, "the linear ring is not closed (its first and last positions differ)"
            )


def _parts(c: Any, path: str, what: str) -> list[Any]:
    if type(c) is not list or not c:
        raise GeoJSONError(path, f"a {what} needs an array of {what[5:]}s, found {short(c)}")
    return c


def check_coordinates(gtype: str, c: Any, path: str = "coordinates") -> None:
    """Check the ``coordinates`` of a geometry of type ``gtype`` (not a GeometryCollection)."""
    if gtype == "Point":
        check_position(c, path)
    elif gtype == "MultiPoint":
        _positions(c, path, 1, "a MultiPoint")
    elif gtype == "LineString":
        _positions(c, path, 2, "a LineString")
    elif gtype == "MultiLineString":
        for i, ls in enumerate(_parts(c, path, "MultiLineString")):
            _positions(ls, f"{path}[{i}]", 2, "a LineString")
    elif gtype == "Polygon":
        _polygon(c, path)
    elif gtype == "MultiPolygon":
        for i, poly in enumerate(_parts(c, path, "MultiPolygon")):
            _polygon(poly, f"{path}[{i}]")
    else:
        raise GeoJSONError("type", f"unknown geometry type {short(gtype)}", "type")


def check_structure(g: Any, path: str = "", *, types: frozenset[str] = GEO_TYPES) -> None:
    """Structure and ranges of a GeoJSON geometry object (no shapely)."""
    _structure(g, path, types, 0)


def _structure(g: Any, path: str, types: frozenset[str], depth: int) -> None:
    if type(g) is not dict:
        raise GeoJSONError(path, "a GeoJSON geometry must be an object with 'type'", "type")
    t = g.get("type")
    if type(t) is not str or t not in types:
        raise GeoJSONError(_join(path, "type"), f"invalid GeoJSON geometry type {short(t)}", "type")
    if t == "GeometryCollection":
        if depth >= MAX_COLLECTION_DEPTH:
            raise GeoJSONError(path, "GeometryCollections nested too deeply")
        gs = g.get("geometries")
        if type(gs) is not list:
            raise GeoJSONError(_join(path, "geometries"), "a GeometryCollection needs an array")
        for i, sub in enumerate(gs):
            _structure(sub, f"{_join(path, 'geometries')}[{i}]", types, depth + 1)
        return
    if "coordinates" not in g:
        raise GeoJSONError(_join(path, "coordinates"), "missing")
    check_coordinates(t, g["coordinates"], _join(path, "coordinates"))


def _join(path: str, member: str) -> str:
    return f"{path}.{member}" if path else member


def to_shape(g: dict[str, Any]) -> Any:
    """The shapely geometry of a structurally checked geometry."""
    from shapely.geometry import shape

    try:
        return shape(g)
    except Exception as e:  # shapely/GEOS raise several types
        raise GeoJSONError("", f"not a valid {g.get('type')} ({e})", "invalid") from None


def check_geometry(
    g: Any, *, types: frozenset[str] = GEO_TYPES, require_valid: bool = False
) -> dict[str, Any]:
    """Validate a GeoJSON geometry object; returns it unchanged or raises ``GeoJSONError``.

    ``require_valid``: GEOS validity too (no self-intersections, ...); the broker stores
    geometries that are only structurally sound (the ETSI suite stores a self-intersecting
    polygon), the city's own districts and measures must be valid.
    """
    check_structure(g, types=types)
    if g["type"] != "Point" or require_valid:  # a Point is fully checked by its structure
        parse_shape(g, types=types, require_valid=require_valid, checked=True)
    geometry: dict[str, Any] = g
    return geometry


def parse_shape(
    g: Any,
    *,
    types: frozenset[str] = GEO_TYPES,
    require_valid: bool = False,
    checked: bool = False,
) -> Any:
    """The shapely geometry of a GeoJSON geometry, validated as ``check_geometry`` does."""
    if not checked:
        check_structure(g, types=types)
    geom = to_shape(g)
    if require_valid:
        if geom.is_empty:
            raise GeoJSONError("", f"the {g['type']} has no coordinates", "invalid")
        if not geom.is_valid:
            import shapely

            reason = shapely.is_valid_reason(geom)
            raise GeoJSONError("", f"invalid {g['type']}: {reason}", "invalid")
    return geom


def geometry_bbox(g: Any) -> tuple[float, float, float, float] | None:
    """(minx, miny, maxx, maxy) of a GeoJSON geometry dict, None if it has no valid positions."""
    acc_x: list[float] = []
    acc_y: list[float] = []
    if not isinstance(g, dict):
        return None
    if g.get("type") == "GeometryCollection":
        for sub in g.get("geometries") or []:
            b = geometry_bbox(sub)
            if b:
                acc_x += (b[0], b[2])
                acc_y += (b[1], b[3])
    elif not _walk(g.get("coordinates"), acc_x, acc_y, 0):
        return None
    if not acc_x:
        return None
    return (min(acc_x), min(acc_y), max(acc_x), max(acc_y))


def _walk(c: Any, xs: list[float], ys: list[float], depth: int) -> bool:
    if not isinstance(c, list) or depth > 6:
        return False
    if c and _number(c[0]):
        if len(c) < 2 or not _number(c[1]):
            return False
        xs.append(float(c[0]))
        ys.append(float(c[1]))
        return True
    return all(_walk(x, xs, ys, depth + 1) for x in c)
