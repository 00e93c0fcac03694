"""Coordinates as people read them: latitude first, then longitude, in the page's number format with
the compass letters (German: ``49,44430° N, 7,75610° O``). One order on every page (issue 10)."""

from __future__ import annotations

from django import template
from django.utils.formats import number_format
from django.utils.translation import pgettext

register = template.Library()


@register.simple_tag
def latlon(lat, lon, digits: int = 5) -> str:
    """``{% latlon lat lon %}``: e.g. "49,44430° N, 7,75610° O" on German pages."""
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        return ""
    north = pgettext("compass point", "N") if lat >= 0 else pgettext("compass point", "S")
    east = pgettext("compass point", "E") if lon >= 0 else pgettext("compass point", "W")
    return (
        f"{number_format(abs(lat), digits, use_l10n=True)}° {north}, "
        f"{number_format(abs(lon), digits, use_l10n=True)}° {east}"
    )


@register.filter
def map_points(collection) -> list:
    """The Point features of a GeoJSON FeatureCollection (for the list of places under a map)."""
    if not isinstance(collection, dict):
        return []
    return [
        f
        for f in collection.get("features") or ()
        if isinstance(f, dict) and (f.get("geometry") or {}).get("type") == "Point"
    ]
