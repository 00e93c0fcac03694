"""The accounts part of the shell registers like a pillar: the person's own pages, the account menu
(notifications, profile, back office, sign in and out)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from herzstadt.accounts import urls
from herzstadt.accounts.backoffice import urls as backoffice_urls
from herzstadt.accounts.notifications import unread_notifications
from herzstadt.core import registry


def _blocked_summary(city) -> str:
    from herzstadt.accounts.models import Membership

    n = Membership.objects.filter(city=city, blocked_at__isnull=False).count()
    return ngettext("%(n)s blocked person", "%(n)s blocked people", n) % {"n": n}


SECTIONS = (
    registry.BackofficeSection(
        key="blocked",
        label=_("Blocked people"),
        url_name="backoffice:blocked",
        permission="accounts.use_backoffice",
        description=_("People who may read but not contribute in this city; unblock them here."),
        order=30,
        current=("backoffice:blocked", "backoffice:unblock"),
        summary=_blocked_summary,
    ),
    registry.BackofficeSection(
        key="roles",
        label=_("Roles"),
        url_name="backoffice:roles",
        permission="accounts.manage_roles",
        description=_("Appoint moderators, city staff and administrators of this city."),
        order=90,
        current=("backoffice:roles", "backoffice:role-remove"),
    ),
)


def _account_data(user):
    from herzstadt.accounts.gdpr import account_data

    return account_data(user)


def _signed_in(request) -> bool:
    return bool(getattr(getattr(request, "user", None), "is_authenticated", False))


def _anonymous(request) -> bool:
    return not _signed_in(request)


NAV = (
    registry.NavEntry(
        key="notifications",
        label=_("Notifications"),
        url_name="accounts:notifications",
        menu="account",
        order=10,
        visible=_signed_in,
        badge=unread_notifications,
        badge_label=_("unread"),
    ),
    registry.NavEntry(
        key="profile",
        label=_("My account"),
        url_name="accounts:profile",
        menu="account",
        order=20,
        visible=_signed_in,
    ),
    registry.NavEntry(
        key="backoffice",
        label=_("Back office"),
        url_name="backoffice:home",
        menu="account",
        order=30,
        current=("backoffice:*",),
        visible=_signed_in,  # spares anonymous visitors the question
        permission="accounts.use_backoffice",
    ),
    registry.NavEntry(
        key="sign-out",
        label=_("Sign out"),
        url_name="account_logout",
        menu="account",
        order=90,
        visible=_signed_in,
        post=True,
    ),
    registry.NavEntry(
        key="sign-in",
        label=_("Sign in"),
        url_name="account_login",
        menu="account",
        order=80,
        visible=_anonymous,
        with_next=True,
        current=("account_login",),
    ),
    registry.NavEntry(
        key="register",
        label=_("Register"),
        url_name="account_signup",
        menu="account",
        order=85,
        visible=_anonymous,
        current=("account_signup",),
    ),
)

PILLAR = registry.Pillar(
    name="accounts",
    label=_("Accounts and roles"),
    urls=urls.urlpatterns,
    url_order=10,
    nav=NAV,
    backoffice_urls=backoffice_urls.urlpatterns,
    backoffice_sections=SECTIONS,
    personal_data=registry.PersonalData(export=_account_data),
)
