"""Pillars add sections to the core's pages without the core knowing them.

A pillar registers, in its ``AppConfig.ready()``, a function for a page ("home", "district", "measure")
that returns a rendered HTML section (or ``""``); the core's view renders all of them in order.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

Panel = Callable[[HttpRequest, object], str]
_PANELS: dict[str, list[tuple[int, Panel]]] = {}


def register(page: str, panel: Panel, order: int = 100) -> None:
    entries = _PANELS.setdefault(page, [])
    if all(p is not panel for _o, p in entries):
        entries.append((order, panel))
        entries.sort(key=lambda e: e[0])


def render(request: HttpRequest, page: str, obj: object) -> list[SafeString]:
    """The sections of every pillar for this page, already rendered (templates escape their content)."""
    out = []
    for _order, panel in _PANELS.get(page, []):
        html = panel(request, obj)
        if html:
            out.append(mark_safe(html))
    return out
