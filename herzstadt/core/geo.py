"""GeoJSON geometry helpers on shapely (no PostGIS needed; PostGIS can be added for large data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

GEOMETRY_TYPES = {
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
}


class GeometryError(ValueError):
    """A GeoJSON geometry is malformed or invalid; the message says why."""


def parse_geometry(value: Any, allowed: set[str] | None = None) -> BaseGeometry:
    """Validate a GeoJSON geometry object (RFC 7946, WGS 84 lon/lat) and return it as shapely."""
    if not isinstance(value, dict):
        raise GeometryError("A GeoJSON geometry must be an object with 'type' and 'coordinates'.")
    kind = value.get("type")
    if kind not in GEOMETRY_TYPES:
        raise GeometryError(f"Unknown GeoJSON geometry type {kind!r}.")
    if allowed is not None and kind not in allowed:
        raise GeometryError(f"Expected one of {', '.join(sorted(allowed))}, got {kind}.")
    try:
        geom = shape(value)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise GeometryError(f"Malformed {kind} coordinates: {exc}") from exc
    if geom.is_empty:
        raise GeometryError(f"The {kind} has no coordinates.")
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise GeometryError("Coordinates must be longitude, latitude in degrees (WGS 84).")
    if not geom.is_valid:
        raise GeometryError(f"Invalid {kind}: {shapely.is_valid_reason(geom)}.")
    return geom


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
