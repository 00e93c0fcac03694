"""Template helpers of the participation pages."""

from __future__ import annotations

from django import template

from herzstadt.core import richtext

register = template.Library()


@register.filter(is_safe=True)
def rich(text: str) -> str:
    """Kept for templates that still say ``|rich``: the core's safe Markdown (``|markdown``)."""
    return richtext.render(text)


@register.filter
def phase_state(phase, now=None) -> str:
    if phase.is_active(now):
        return "active"
    return "past" if phase.is_past(now) else "upcoming"
