"""Numbers for the back office: a process's participation over time and the results of its surveys.

``survey_results(survey)`` is also meant for the public results page of a survey (when
``survey.results_public``); it only reads and has no permission checks of its own.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count
from django.db.models.functions import TruncDate

from herzstadt.participation.models import (
    Comment,
    Idea,
    IdeaStatus,
    Process,
    Support,
    SurveyResponse,
)
from herzstadt.participation.surveys.results import survey_results  # noqa: F401 - part of this API


def _per_day(qs) -> dict[dt.date, int]:
    """Rows per calendar day in the current time zone (Europe/Berlin)."""
    rows = qs.order_by().annotate(day=TruncDate("created_at")).values("day").annotate(n=Count("id"))
    return {row["day"]: row["n"] for row in rows}


def process_stats(process: Process) -> dict:
    """Totals and a day-by-day series for one process.

    ``participants`` are the distinct signed-in people who posted an idea, commented, supported an idea
    or answered one of the process's surveys; answers given without an account cannot be told apart
    and are counted separately as ``anonymous_responses``. Hidden contributions are included in every
    count (``ideas_hidden`` and ``comments_hidden`` say how many are hidden).
    """
    ideas = Idea.objects.filter(process=process)
    comments = Comment.objects.filter(idea__process=process)
    supports = Support.objects.filter(idea__process=process)
    responses = SurveyResponse.objects.filter(survey__process=process)
    people: set[int] = set()
    for qs, field in (
        (ideas, "author_id"),
        (comments, "author_id"),
        (supports, "user_id"),
        (responses, "user_id"),
    ):
        people.update(qs.exclude(**{field: None}).values_list(field, flat=True).distinct())

    series = {
        "ideas": _per_day(ideas),
        "comments": _per_day(comments),
        "supports": _per_day(supports),
    }
    all_days = [d for values in series.values() for d in values]
    days: list[dict] = []
    if all_days:
        day, last = min(all_days), max(all_days)
        while day <= last:
            days.append(
                {"day": day, **{name: values.get(day, 0) for name, values in series.items()}}
            )
            day += dt.timedelta(days=1)

    by_status = dict(ideas.order_by().values_list("status").annotate(n=Count("id")))
    return {
        "participants": len(people),
        "anonymous_responses": responses.filter(user__isnull=True).count(),
        "ideas": ideas.count(),
        "ideas_hidden": ideas.filter(hidden_at__isnull=False).count(),
        "comments": comments.count(),
        "comments_hidden": comments.filter(hidden_at__isnull=False).count(),
        "supports": supports.count(),
        "responses": responses.count(),
        "by_status": [
            {"status": value, "label": label, "count": by_status.get(value, 0)}
            for value, label in IdeaStatus.choices
        ],
        "days": days,
    }
