from django.conf import settings
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
    }
