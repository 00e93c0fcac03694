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


def _open_feedback(city) -> str:
    from herzstadt.accounts.backoffice.legal import open_feedback_summary

    return open_feedback_summary(city)


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
        key="accessibility-feedback",
        label=_("Accessibility feedback"),
        url_name="backoffice:accessibility-feedback",
        permission="accounts.read_accessibility_feedback",
        description=_("Barriers people reported through the accessibility statement; answer them."),
        order=80,
        current=("backoffice:accessibility-feedback", "backoffice:accessibility-feedback-handled"),
        summary=_open_feedback,
    ),
    registry.BackofficeSection(
        key="legal-pages",
        label=_("Legal pages"),
        url_name="backoffice:legal-pages",
        permission="accounts.edit_legal_pages",
        description=_("The imprint and the accessibility statement of this city's site."),
        order=85,
        current=("backoffice:legal-pages",),
    ),
    registry.BackofficeSection(
        key="reserved-names",
        label=_("Reserved display names"),
        url_name="backoffice:reserved-names",
        permission="accounts.edit_reserved_names",
        description=_(
            "Names nobody may choose because they imitate the city, its offices or team."
        ),
        order=87,
        current=("backoffice:reserved-names",),
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


def _erase_account_data(user) -> None:
    from herzstadt.accounts.gdpr import erase_account_data

    erase_account_data(user)


def _load_demo(context) -> str:
    from herzstadt.accounts.legal import load_demo

    return load_demo(context)


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
    personal_data=registry.PersonalData(export=_account_data, erase=_erase_account_data),
    demo=registry.DemoLoader(load=_load_demo, order=5),
    notification_kinds=(
        registry.NotificationKind(
            key="a11y_feedback",
            label=_("Accessibility feedback"),
            text=_("Someone reported a barrier on the site: %(subject)s"),
        ),
    ),
)
