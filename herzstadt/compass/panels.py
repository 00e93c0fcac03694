"""The compass's sections on other pages: a measure's compass (goal tags, expected and citizens'
effect per value as a radar chart and a table, link to the whole compass) and an idea's goal tags."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string

from herzstadt.compass import read
from herzstadt.compass.models import Value
from herzstadt.compass.views import _radar
from herzstadt.core.models import Measure
from herzstadt.participation import api as participation


def measure_panel(request: HttpRequest, measure: Measure) -> str:
    """Only when the city has values (a city without a compass shows nothing)."""
    if not Value.objects.filter(city_id=measure.city_id).exists():
        return ""
    rows, measured = read.measure_compass(measure)
    tags = list(measure.compass_goals.order_by("position", "title"))
    city = getattr(request, "city", None)
    rating = None
    if city:
        rating = next(
            (
                p
                for p in participation.open_processes(city, "compass.rate")
                if not p.measure_id or p.measure_id == measure.pk
            ),
            None,
        )
    return render_to_string(
        "compass/_measure_panel.html",
        {
            "measure": measure,
            "rows": rows,
            "radar": _radar(rows),
            "measured": measured,
            "goal_tags": tags,
            "rating_process": rating,
        },
        request,
    )


def idea_panel(request: HttpRequest, idea: Any) -> str:
    """The goals an idea serves (not for hidden or deleted ideas)."""
    if getattr(idea, "hidden_at", None) or getattr(idea, "deleted_at", None):
        return ""
    tags = read.goal_tags_for_idea(idea.city_id, idea.pk)
    if not tags:
        return ""
    return render_to_string("compass/_idea_panel.html", {"goal_tags": tags}, request)
