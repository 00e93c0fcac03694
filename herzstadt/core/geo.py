"""GeoJSON geometry helpers on shapely (no PostGIS needed; PostGIS can be added for large data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shapely.geometry.base import BaseGeometry

from herzstadt.ngsi import geojson

GEOMETRY_TYPES = set(geojson.GEO_TYPES)


class GeometryError(ValueError):
    """A GeoJSON geometry is malformed or invalid; the message says why."""


def parse_geometry(value: Any, allowed: set[str] | None = None) -> BaseGeometry:
    """Validate a GeoJSON geometry object (RFC 7946, WGS 84 lon/lat) and return it as shapely.

    The checks are the broker's (``herzstadt.ngsi.geojson``), plus GEOS validity: a district or
    measure must be a valid geometry."""
    types = frozenset(allowed) if allowed is not None else geojson.GEO_TYPES
    try:
        return geojson.parse_shape(value, types=types, require_valid=True)
    except geojson.GeoJSONError as exc:
        raise GeometryError(_message(exc, value, allowed)) from None


def _message(exc: geojson.GeoJSONError, value: Any, allowed: set[str] | None) -> str:
    kind = value.get("type") if isinstance(value, dict) else None
    if exc.kind == "type":
        if not isinstance(value, dict):
            return "A GeoJSON geometry must be an object with 'type' and 'coordinates'."
        if allowed is not None and kind in GEOMETRY_TYPES:
            return f"Expected one of {', '.join(sorted(allowed))}, got {kind}."
        if exc.path == "type":
            return f"Unknown GeoJSON geometry type {kind!r}."
    if exc.kind == "range":
        return "Coordinates must be longitude, latitude in degrees (WGS 84)."
    if exc.kind == "invalid":
        return exc.detail[0].upper() + exc.detail[1:] + "."
    return f"Malformed {kind} coordinates: {exc}."


@dataclass(frozen=True)
class Envelope:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    @classmethod
    def of(cls, geom: BaseGeometry) -> Envelope:
        return cls(*geom.bounds)


def rings(geom: BaseGeometry) -> list[list[tuple[float, float]]]:
    """The exterior rings of a (multi)polygon, as lists of (lon, lat)."""
    polygons = getattr(geom, "geoms", [geom])
    return [list(p.exterior.coords) for p in polygons if p.geom_type == "Polygon"]


def svg_path(geom: BaseGeometry, width: int = 400, height: int = 300, pad: int = 12) -> str:
    """An SVG path (in a width x height box) of a (multi)polygon, projected equirectangularly.

    Used to draw a district outline without JavaScript; longitude is scaled by cos(latitude) so the
    shape keeps its proportions at city scale.
    """
    import math

    minx, miny, maxx, maxy = geom.bounds
    kx = math.cos(math.radians((miny + maxy) / 2))
    span_x = max((maxx - minx) * kx, 1e-9)
    span_y = max(maxy - miny, 1e-9)
    scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
    off_x = (width - span_x * scale) / 2
    off_y = (height - span_y * scale) / 2
    parts = []
    for ring in rings(geom):
        points = [
            f"{off_x + (x - minx) * kx * scale:.1f},{off_y + (maxy - y) * scale:.1f}"
            for x, y in ring
        ]
        parts.append("M" + " L".join(points) + " Z")
    return " ".join(parts)
