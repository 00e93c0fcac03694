"""How people appear: by their display name, never by e-mail address. A plain function for domain
code (exports, messages); templates use the ``display_name`` filter of ``{% load people %}``."""

from django.utils.translation import gettext as _


def display_name(user) -> str:
    """The public name of a contribution's author; "deleted account" once the account is gone."""
    if user is None:
        return _("deleted account")
    profile = getattr(user, "profile", None)
    return profile.display_name if profile else _("participant %(n)s") % {"n": user.pk}
