"""GDPR self-service: everything the platform stores about a person (Art. 15/20), and deleting the
account (Art. 17).

Deletion keeps contributions others build on: ideas, comments, reports and survey answers stay, with the
author set to ``NULL`` by their foreign keys (``SET_NULL``), so pages show "deleted account". Everything
else personal goes with the user row (``CASCADE``): profile, e-mail addresses, memberships, supports,
follows and notifications. Support counters are recomputed in the same transaction.
"""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from herzstadt.accounts.models import Membership, Notification, Profile
from herzstadt.participation.models import (
    Comment,
    Follow,
    Idea,
    Report,
    Support,
    SurveyResponse,
)

FORMAT_VERSION = 1


def _url(obj) -> str:
    try:
        return obj.get_absolute_url()
    except Exception:  # a page that does not exist (yet) must not break the export
        return ""


def _city(obj) -> str | None:
    return obj.city.slug if getattr(obj, "city_id", None) else None


def collect_personal_data(user: User) -> dict[str, Any]:
    """Everything about ``user``, as JSON-ready data (datetimes are serialised by the caller)."""
    profile = Profile.objects.filter(user=user).select_related("city").first()
    data: dict[str, Any] = {
        "format": "herzstadt personal data export",
        "format_version": FORMAT_VERSION,
        "generated_at": timezone.now(),
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
        "ideas": [
            {
                "id": i.pk,
                "url": _url(i),
                "city": _city(i),
                "process": i.process.slug,
                "title": i.title,
                "body": i.body,
                "category": i.category.name if i.category_id else None,
                "lon": i.lon,
                "lat": i.lat,
                "location_text": i.location_text,
                "image": i.image.url if i.image else None,
                "image_alt": i.image_alt,
                "status": i.status,
                "status_reason": i.status_reason,
                "hidden_at": i.hidden_at,
                "hidden_reason": i.hidden_reason,
                "support_count": i.support_count,
                "comment_count": i.comment_count,
                "created_at": i.created_at,
            }
            for i in Idea.objects.filter(author=user)
            .select_related("city", "process", "category")
            .order_by("id")
        ],
        "comments": [
            {
                "id": c.pk,
                "url": _url(c),
                "city": _city(c),
                "idea": c.idea_id,
                "reply_to": c.parent_id,
                "body": c.body,
                "hidden_at": c.hidden_at,
                "hidden_reason": c.hidden_reason,
                "created_at": c.created_at,
            }
            for c in Comment.objects.filter(author=user)
            .select_related("city", "idea__process")
            .order_by("id")
        ],
        "supports": [
            {
                "idea": s.idea_id,
                "idea_title": s.idea.title,
                "url": _url(s.idea),
                "city": _city(s),
                "created_at": s.created_at,
            }
            for s in Support.objects.filter(user=user)
            .select_related("city", "idea__process")
            .order_by("id")
        ],
        "reports": [
            {
                "id": r.pk,
                "city": _city(r),
                "idea": r.idea_id,
                "comment": r.comment_id,
                "reason": r.reason,
                "created_at": r.created_at,
                "resolved_at": r.resolved_at,
                "resolution": r.resolution,
            }
            for r in Report.objects.filter(reporter=user).select_related("city").order_by("id")
        ],
        "follows": [
            {
                "process": f.process.slug if f.process_id else None,
                "idea": f.idea_id,
                "url": _url(f.process if f.process_id else f.idea),
                "city": _city(f),
                "created_at": f.created_at,
            }
            for f in Follow.objects.filter(user=user)
            .select_related("city", "process", "idea__process")
            .order_by("id")
        ],
        "survey_responses": [
            {
                "id": r.pk,
                "survey": r.survey_id,
                "survey_title": r.survey.title,
                "url": _url(r.survey),
                "city": _city(r),
                "answers": r.answers,
                "created_at": r.created_at,
            }
            for r in SurveyResponse.objects.filter(user=user)
            .select_related("city", "survey__process")
            .order_by("id")
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
    }
    return data


class CannotDelete(Exception):
    """This account may not delete itself here (the message says why)."""


def delete_account(user: User) -> None:
    """Delete ``user``: contributions stay anonymised, everything else personal goes (see module
    docstring). The support counters of the ideas they supported drop in the same transaction."""
    if user.is_superuser:
        raise CannotDelete("superuser")
    with transaction.atomic():
        idea_ids = list(Support.objects.filter(user=user).values_list("idea_id", flat=True))
        if idea_ids:
            # Lock the counter rows like services.support() does, so concurrent supports stay exact.
            list(Idea.objects.select_for_update().filter(pk__in=idea_ids).values_list("pk"))
        user.delete()
        if idea_ids:
            counts = (
                Support.objects.filter(idea=OuterRef("pk"))
                .order_by()
                .values("idea")
                .annotate(n=Count("pk"))
                .values("n")
            )
            Idea.objects.filter(pk__in=idea_ids).update(
                support_count=Coalesce(Subquery(counts), Value(0))
            )
