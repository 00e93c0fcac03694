"""Template helpers of the participation pages."""

from __future__ import annotations

import nh3
from django import template
from django.utils.html import linebreaks
from django.utils.safestring import mark_safe

register = template.Library()

RICH_TAGS = {"p", "br", "ul", "ol", "li", "a", "strong", "em", "h3", "h4", "blockquote"}


@register.filter
def rich(text: str) -> str:
    """Staff-written descriptions: a few formatting tags survive, everything else (scripts, event
    handlers, styles, javascript: links) is removed by nh3. Plain text becomes paragraphs."""
    text = text or ""
    if "<" not in text:
        return mark_safe(linebreaks(text, autoescape=True))  # escaped by linebreaks
    cleaned = nh3.clean(
        text,
        tags=RICH_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(cleaned)  # sanitised by nh3 just above


@register.filter
def phase_state(phase, now=None) -> str:
    if phase.is_active(now):
        return "active"
    return "past" if phase.is_past(now) else "upcoming"
