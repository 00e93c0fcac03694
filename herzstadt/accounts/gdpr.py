"""GDPR self-service: everything the platform stores about a person (Art. 15/20), and deleting the
account (Art. 17).

Each pillar contributes through its ``PersonalData`` registration (``herzstadt.core.registry``): an
exporter that returns its sections of the export, and an eraser that runs inside the deletion
transaction before the account row goes. This module knows only the account itself (account, profile,
e-mail addresses, memberships, notifications).

Deletion keeps contributions others build on, with the author set to ``NULL`` by their foreign keys
(``SET_NULL``), so pages show "deleted account". Everything else personal goes with the user row
(``CASCADE``) or is removed by the pillars' erasers, which also repair what depends on it (e.g. the
support counters of ideas).
"""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from herzstadt.accounts.models import AccessibilityFeedback, Membership, Notification, Profile
from herzstadt.core import registry

FORMAT_VERSION = 1


def _city(obj) -> str | None:
    return obj.city.slug if getattr(obj, "city_id", None) else None


def account_data(user: User) -> dict[str, Any]:
    """The account's own sections: account, profile, e-mail addresses, memberships, notifications."""
    profile = Profile.objects.filter(user=user).select_related("city").first()
    return {
        "account": {
            "id": user.pk,
            "username": user.get_username(),
            "email": user.email,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
            "is_active": user.is_active,
        },
        "profile": {
            "display_name": profile.display_name,
            "city_of_registration": _city(profile),
            "email_digest": profile.email_digest,
            "created_at": profile.created_at,
        }
        if profile
        else None,
        "email_addresses": [
            {"email": e.email, "verified": e.verified, "primary": e.primary}
            for e in EmailAddress.objects.filter(user=user).order_by("id")
        ],
        "memberships": [
            {
                "city": _city(m),
                "role": m.role,
                "blocked_at": m.blocked_at,
                "blocked_reason": m.blocked_reason,
            }
            for m in Membership.objects.filter(user=user).select_related("city").order_by("id")
        ],
        "notifications": [
            {
                "id": n.pk,
                "kind": n.kind,
                "message": n.message,
                "url": n.url,
                "city": _city(n),
                "created_at": n.created_at,
                "read_at": n.read_at,
                "emailed_at": n.emailed_at,
            }
            for n in Notification.objects.filter(user=user).select_related("city").order_by("id")
        ],
        "accessibility_feedback": [
            {
                "city": _city(f),
                "message": f.message,
                "page": f.page,
                "email": f.email,
                "created_at": f.created_at,
                "handled_at": f.handled_at,
            }
            for f in AccessibilityFeedback.objects.filter(user=user)
            .select_related("city")
            .order_by("id")
        ],
    }


def erase_account_data(user: User) -> None:
    """What the foreign keys do not erase: a reported barrier stays for the city (the account link
    goes by SET NULL), but the answer address given with it is removed."""
    AccessibilityFeedback.objects.filter(user=user).update(email="")


HEADER = ("format", "format_version", "generated_at")


def collect_personal_data(user: User) -> dict[str, Any]:
    """Everything about ``user``, as JSON-ready data (datetimes are serialised by the caller): the
    account's sections and those of every registered pillar. Section names are unique."""
    data: dict[str, Any] = {
        "format": "herzstadt personal data export",
        "format_version": FORMAT_VERSION,
        "generated_at": timezone.now(),
    }
    owners = dict.fromkeys(HEADER, "the export")
    for name, part in registry.personal_data():
        if part.export is None:
            continue
        for section, value in part.export(user).items():
            if section in owners:
                raise registry.RegistryError(
                    f"the export section {section!r} comes from both {owners[section]!r} and {name!r}"
                )
            owners[section] = name
            data[section] = value
    return data


class CannotDelete(Exception):
    """This account may not delete itself here (the message says why)."""


def delete_account(user: User) -> None:
    """Delete ``user``: every pillar's eraser runs first, then the account row goes (and with it what
    cascades); all in one transaction, so a failure leaves everything as it was."""
    if user.is_superuser:
        raise CannotDelete("superuser")
    with transaction.atomic():
        for _name, part in registry.personal_data():
            if part.erase is not None:
                part.erase(user)
        user.delete()
