"""The knowledge section of a measure's page: the profile's key facts, provenance and reuse."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string

from herzstadt.core.models import Measure
from herzstadt.knowledge.models import MeasureProfile, Reuse


def measure_panel(request: HttpRequest, measure: Measure) -> str:
    """Only for a shared profile (a draft stays in the back office)."""
    profile = MeasureProfile.objects.filter(measure=measure, shared=True).first()
    if profile is None:
        return ""
    reuses = list(Reuse.objects.filter(measure=measure).order_by("adopted_at", "pk")[:20])
    return render_to_string(
        "knowledge/_measure_panel.html",
        {"measure": measure, "profile": profile, "reuses": reuses},
        request,
    )
