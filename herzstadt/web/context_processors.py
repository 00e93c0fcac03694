from django.conf import settings
from django.urls import translate_url
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language

from herzstadt.accounts import roles


def _unread(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return user.notifications.filter(read_at__isnull=True).count()


def site(request):
    """The current city, map settings and the same page's address in every language."""
    current = get_language()
    alternates = [
        {"code": code, "name": name, "url": translate_url(request.get_full_path(), code)}
        for code, name in settings.LANGUAGES
    ]
    city = getattr(request, "city", None)
    user = getattr(request, "user", None)
    return {
        "can_moderate": SimpleLazyObject(lambda: roles.can_moderate(user, city) if city else False),
        "unread_notifications": SimpleLazyObject(lambda: _unread(user)),
        "city": city if city else None,
        "language_alternates": alternates,
        "current_language": current,
        "map_tile_url": settings.HERZSTADT_MAP_TILE_URL,
        "map_attribution": settings.HERZSTADT_MAP_ATTRIBUTION,
    }
