from functools import cache
from pathlib import Path

from django.conf import settings
from django.templatetags.static import static
from django.urls import translate_url
from django.utils.translation import get_language

from herzstadt.core import leichte_sprache
from herzstadt.web.navigation import Menus


def site(request):
    """The current city, the menus, map settings and the same page's address in every language."""
    current = get_language()
    alternates = [
        {"code": code, "name": name, "url": translate_url(request.get_full_path(), code)}
        for code, name in settings.LANGUAGES
    ]
    city = getattr(request, "city", None)
    return {
        "nav": Menus(request),
        "city": city if city else None,
        "language_alternates": alternates,
        "current_language": current,
        "leichte_sprache": leichte_sprache.active(),
        "map_tile_url": settings.HERZSTADT_MAP_TILE_URL,
        "map_attribution": settings.HERZSTADT_MAP_ATTRIBUTION,
        "map_basemap": "" if settings.HERZSTADT_MAP_TILE_URL or not city else basemap(city.slug),
    }


_BASEMAPS = Path(__file__).parent / "static" / "herzstadt" / "basemap"


@cache
def basemap(city_slug: str) -> str:
    """The address of the city's schematic base map (``static/herzstadt/basemap/<slug>.geojson``),
    drawn under the map when no tile server is configured, so the offline map is never blank; ``""``
    if the city has none."""
    name = f"{city_slug}.geojson"
    if "/" in name or not (_BASEMAPS / name).is_file():
        return ""
    return static(f"herzstadt/basemap/{name}")
