"""How people appear on pages: by their display name, never by e-mail address."""

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def display_name(user) -> str:
    """The public name of a contribution's author; "deleted account" once the account is gone."""
    if user is None:
        return _("deleted account")
    profile = getattr(user, "profile", None)
    return profile.display_name if profile else _("participant %(n)s") % {"n": user.pk}
