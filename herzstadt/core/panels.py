"""Render the panels pillars registered (``Pillar.panels``) for a core page, in order.

A panel is a function ``(request, obj) -> str`` returning an HTML section (or ``""``); its template
escapes its content, so the result is marked safe here.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from herzstadt.core import registry


def render(request: HttpRequest, page: str, obj: object) -> list[SafeString]:
    """The sections of every pillar for this page, already rendered."""
    out = []
    for panel in registry.panels(page):
        html = panel.render(request, obj)
        if html:
            out.append(mark_safe(html))  # rendered by the pillar's template
    return out
