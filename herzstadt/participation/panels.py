"""The participation sections on the core's pages: processes of a district or measure, and the ideas a
measure implements (accountability: every idea can be followed to what the city did with it)."""

from __future__ import annotations

from django.db.models import Count, Q
from django.template.loader import render_to_string

from herzstadt.participation.models import Idea, Process


def _processes(**filters):
    return (
        Process.objects.filter(is_published=True, **filters)
        .annotate(
            idea_total=Count(
                "ideas", filter=Q(ideas__hidden_at__isnull=True, ideas__deleted_at__isnull=True)
            )
        )
        .prefetch_related("phases")
    )


def district_panel(request, district) -> str:
    processes = list(_processes(city=district.city, district=district))
    if not processes:
        return ""
    return render_to_string(
        "participation/_panel_processes.html",
        {"processes": processes, "heading_id": "participation-title"},
        request,
    )


def measure_panel(request, measure) -> str:
    processes = list(_processes(city=measure.city, measure=measure))
    ideas = list(
        Idea.objects.filter(
            measure=measure, hidden_at__isnull=True, deleted_at__isnull=True
        ).select_related("process", "author__profile")
    )
    if not processes and not ideas:
        return ""
    return render_to_string(
        "participation/_panel_measure.html", {"processes": processes, "ideas": ideas}, request
    )


def home_panel(request, city) -> str:
    processes = list(_processes(city=city)[:3])
    if not processes:
        return ""
    return render_to_string(
        "participation/_panel_processes.html",
        {"processes": processes, "heading_id": "participation-title"},
        request,
    )
