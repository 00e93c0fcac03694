"""How people appear on pages: by their display name, never by e-mail address; the city's team with
an official badge (``{% official_badge idea.author %}``)."""

from collections.abc import Callable

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from herzstadt.accounts import people
from herzstadt.accounts.models import Membership, Role

register = template.Library()

register.filter("display_name", people.display_name)

#: The badge's second part per role (the first is the city): text, not only a colour.
OFFICIAL_LABELS: dict[str, Callable[[], str]] = {
    Role.MODERATOR: lambda: _("Moderation"),
    Role.STAFF: lambda: _("City administration"),
    Role.ADMIN: lambda: _("City administration"),
}


def officials(request, city) -> dict[int, str]:
    """``{user id: role}`` of the city's current moderators, staff and administrators (not blocked);
    one query per request, however many contributions the page shows."""
    cache = getattr(request, "_herzstadt_officials", None)
    if cache is None or cache[0] != city.pk:
        rows = Membership.objects.filter(
            city=city, role__in=tuple(OFFICIAL_LABELS), blocked_at__isnull=True
        ).values_list("user_id", "role")
        cache = (city.pk, dict(rows))
        if request is not None:
            request._herzstadt_officials = cache
    return cache[1]


@register.simple_tag(takes_context=True)
def official_badge(context, user) -> str:
    """ "Stadt Kaiserslautern · Moderation" next to a contribution of the city's team, else nothing."""
    request = context.get("request")
    city = getattr(request, "city", None) or context.get("city")
    if user is None or city is None:
        return ""
    role = officials(request, city).get(user.pk)
    if role is None:
        return ""
    text = _("City of %(name)s") % {"name": city.tr.name}
    return format_html('<span class="badge official">{} · {}</span>', text, OFFICIAL_LABELS[role]())
