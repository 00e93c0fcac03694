"""Participation's public API: the one module other pillars may import (import-linter allows it with
an ``ignore_imports`` line per pillar, see pyproject.toml). Everything else in participation is
internal.

A pillar that adds a kind of phase (e.g. the compass's "Kompass-Bewertung") registers it through its
own manifest (``Pillar.phase_kinds``, no import needed) and uses this module to find the processes in
which its feature is open.
"""

from __future__ import annotations

from herzstadt.participation.models import Idea, Phase, Process
from herzstadt.participation.phases import Feature, process_kind, spec

__all__ = [
    "Feature",
    "Idea",
    "Phase",
    "Process",
    "open_processes",
    "process_ideas",
    "process_kind",
    "published_process",
    "spec",
]


def published_process(city, slug: str) -> Process | None:
    """The published process ``slug`` of ``city`` with its phases, or ``None``."""
    return (
        Process.objects.filter(city=city, slug=slug, is_published=True)
        .prefetch_related("phases")
        .first()
    )


def open_processes(city, feature: str) -> list[Process]:
    """The published processes of ``city`` whose active phase opens ``feature`` now."""
    processes = Process.objects.filter(city=city, is_published=True).prefetch_related("phases")
    return [p for p in processes if p.allows(feature)]


def process_ideas(process: Process) -> list[Idea]:
    """The visible ideas of ``process`` (not hidden by moderators, not deleted by their authors),
    most supported first — e.g. the candidates for a participatory budget's proposals."""
    return list(
        Idea.objects.filter(
            process=process, hidden_at__isnull=True, deleted_at__isnull=True
        ).order_by("-support_count", "id")
    )
