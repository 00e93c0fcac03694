"""GeoJSON (RFC 7946) views of districts and measures, for maps and downloads."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from shapely.geometry.base import BaseGeometry

from herzstadt.core.models import District, Measure

EARTH_RADIUS_M = 6_371_008.8


def area_hectares(geom: BaseGeometry) -> float:
    """Area of a lon/lat polygon in hectares (local equirectangular projection; <0.1 % off at city scale)."""
    from shapely.affinity import affine_transform

    lat0 = math.radians(geom.centroid.y)
    k = math.pi / 180 * EARTH_RADIUS_M
    projected = affine_transform(geom, [k * math.cos(lat0), 0, 0, k, 0, 0])
    return projected.area / 10_000


def district_feature(district: District) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": district.slug,
        "geometry": district.boundary,
        "properties": {
            "kind": "district",
            "name": district.tr.name,
            "url": district.get_absolute_url(),
            "approximate": district.boundary_approximate,
            "source": district.boundary_source,
        },
    }


def measure_feature(measure: Measure) -> dict[str, Any] | None:
    if not measure.location:
        return None
    return {
        "type": "Feature",
        "id": measure.slug,
        "geometry": measure.location,
        "properties": {
            "kind": "measure",
            "name": measure.tr.title,
            "url": measure.get_absolute_url(),
            "status": measure.status,
            "status_label": str(measure.get_status_display()),
        },
    }


def city_map(districts: Iterable[District], measures: Iterable[Measure]) -> dict[str, Any]:
    features = [district_feature(d) for d in districts]
    features += [f for m in measures if (f := measure_feature(m)) is not None]
    return {"type": "FeatureCollection", "features": features}
