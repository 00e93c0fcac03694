"""The named permissions of people and roles (django-rules), built on :mod:`accounts.roles`.

The object of these rules is a city, or anything that belongs to one (it has a ``city``): so
``allowed(user, "accounts.moderate", idea)`` asks about the idea's city. Pillars build their own rules
from these predicates (see ``participation/permissions.py``).

- ``accounts.contribute``: signed in, not blocked in the city, e-mail address confirmed
- ``accounts.moderate``: a moderator (or staff, or administrator) of the city
- ``accounts.city_staff``: staff or an administrator of the city
- ``accounts.use_backoffice``: may open the city's back office (moderators and up)
- ``accounts.manage_roles``: may appoint moderators (staff) or staff (administrators)
- ``accounts.edit_legal_pages``: administrators of the city edit its imprint and accessibility statement
- ``accounts.read_accessibility_feedback``: staff of the city read and close reported barriers
- ``accounts.edit_reserved_names``: administrators of the city edit the display names nobody may take
"""

from __future__ import annotations

from functools import wraps

import rules
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from herzstadt.accounts import roles
from herzstadt.accounts.models import Role
from herzstadt.core import permissions
from herzstadt.core.models import City


def city_of(obj) -> City | None:
    """The city ``obj`` is (a ``City``) or belongs to (its ``city``)."""
    if obj is None or isinstance(obj, City):
        return obj
    return getattr(obj, "city", None)


@rules.predicate
def is_signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


@rules.predicate
def is_not_blocked(user, obj) -> bool:
    return not roles.is_blocked(user, city_of(obj))


@rules.predicate
def has_confirmed_email(user) -> bool:
    return is_signed_in(user) and (user.is_superuser or roles.email_verified(user))


@rules.predicate
def is_moderator(user, obj) -> bool:
    city = city_of(obj)
    return city is not None and roles.can_moderate(user, city)


@rules.predicate
def is_city_staff(user, obj) -> bool:
    city = city_of(obj)
    return city is not None and roles.is_city_staff(user, city)


@rules.predicate
def is_city_admin(user, obj) -> bool:
    city = city_of(obj)
    return city is not None and roles.has_role(user, city, Role.ADMIN)


SIGN_IN = permissions.check(is_signed_in, _("Please sign in to take part."))
CONTRIBUTE = (
    SIGN_IN,
    permissions.check(is_not_blocked, _("Your account is blocked from contributing in this city.")),
    permissions.check(has_confirmed_email, _("Please confirm your e-mail address first.")),
)
MODERATE = permissions.check(is_moderator, _("Only moderators of this city may do this."))
STAFF = permissions.check(is_city_staff, _("Only staff of this city may do this."))

permissions.define("accounts.contribute", *CONTRIBUTE)
permissions.define("accounts.moderate", MODERATE)
permissions.define("accounts.city_staff", STAFF)
permissions.define(
    "accounts.use_backoffice",
    permissions.check(is_moderator, _("Only moderators of this city may use the back office.")),
)
permissions.define("accounts.manage_roles", STAFF)
permissions.define(
    "accounts.edit_legal_pages",
    permissions.check(is_city_admin, _("Only administrators of this city may do this.")),
)
permissions.define("accounts.read_accessibility_feedback", STAFF)
permissions.define(
    "accounts.edit_reserved_names",
    permissions.check(is_city_admin, _("Only administrators of this city may do this.")),
)


def permission_required(name: str, obj=None):
    """A view decorator: anonymous visitors are sent to sign in; a person for whom the permission
    ``name`` does not hold gets the 403 page (with the reason). ``obj(request, *args, **kwargs)``
    gives the object to ask about (default: the current city, which is then passed to the view as its
    second argument; without a city the answer is 403)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("account_login"))
            if obj is None:
                city = request.city
                target = getattr(city, "_wrapped", city) if city else None
                if target is None:
                    raise PermissionDenied(_("No city has been set up yet."))
                permissions.require(request.user, name, target)
                return view(request, target, *args, **kwargs)
            permissions.require(request.user, name, obj(request, *args, **kwargs))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
