"""Participation's part of the GDPR self-service (registered in pillar.py).

Export: the person's ideas and comments (with their earlier versions and when they were edited or
deleted), supports, reports, follows and survey responses.
Erasure (inside the account-deletion transaction, before the account row goes): the person's
supports are deleted and the support counters of those ideas recomputed from the remaining rows, under
the same row locks ``services.support()`` takes, so concurrent supports stay exact. Ideas, comments,
reports and survey responses stay, their author set to ``NULL`` by the foreign keys; follows go with
the account (``CASCADE``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from herzstadt.participation.models import (
    Comment,
    Follow,
    Idea,
    Report,
    Support,
    SurveyResponse,
)


def _url(obj) -> str:
    try:
        return obj.get_absolute_url()
    except Exception:  # a page that does not exist (yet) must not break the export
        return ""


def _city(obj) -> str | None:
    return obj.city.slug if getattr(obj, "city_id", None) else None


def _versions(versions) -> list[dict[str, Any]]:
    return [
        {"title": v.title, "body": v.body, "written_at": v.written_at, "replaced_at": v.replaced_at}
        for v in versions
    ]


def export(user) -> dict[str, Any]:
    return {
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
                "edited_at": i.edited_at,
                "deleted_at": i.deleted_at,
                "earlier_versions": _versions(i.versions.all()),
            }
            for i in Idea.objects.filter(author=user)
            .select_related("city", "process", "category")
            .prefetch_related("versions")
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
                "edited_at": c.edited_at,
                "deleted_at": c.deleted_at,
                "earlier_versions": _versions(c.versions.all()),
            }
            for c in Comment.objects.filter(author=user)
            .select_related("city", "idea__process")
            .prefetch_related("versions")
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
    }


def erase(user) -> None:
    """Withdraw the person's supports and recompute those ideas' counters from the rows (which also
    repairs a counter that had drifted). Runs in the caller's transaction."""
    idea_ids = list(Support.objects.filter(user=user).values_list("idea_id", flat=True))
    if not idea_ids:
        return
    # Lock the counter rows like services.support() does, so concurrent supports stay exact.
    list(Idea.objects.select_for_update().filter(pk__in=idea_ids).values_list("pk"))
    Support.objects.filter(user=user).delete()
    counts = (
        Support.objects.filter(idea=OuterRef("pk"))
        .order_by()
        .values("idea")
        .annotate(n=Count("pk"))
        .values("n")
    )
    Idea.objects.filter(pk__in=idea_ids).update(support_count=Coalesce(Subquery(counts), Value(0)))
