"""The civic look: icons from the vendored lucide set, and each city's wordmark.

``{% icon "lightbulb" %}`` inlines one of the icons ``npm run vendor`` copied into
``static/vendor/lucide/`` (only those, see scripts/vendor-assets.mjs), decorative: ``aria-hidden`` and
always beside a text that says the same. Inline SVG needs no extra request and takes the text colour.

``{% wordmark city %}`` renders ``web/wordmarks/<city slug>.html`` if the city has one, else
``web/wordmarks/default.html`` (a heart and the city's name): an inline SVG with an accessible name.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from django import template
from django.template.loader import select_template
from django.utils.safestring import mark_safe

register = template.Library()

ICONS = Path(__file__).resolve().parent.parent / "static" / "vendor" / "lucide"
_NAME = re.compile(r"^[a-z0-9-]{1,60}$")
_KEEP = ("viewBox", "fill", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin")


@lru_cache(maxsize=64)
def icon_svg(name: str) -> str:
    """The icon's markup, decorative. Unknown names are a programming error (raise)."""
    if not _NAME.match(name):
        raise ValueError(f"not an icon name: {name!r}")
    source = (ICONS / f"{name}.svg").read_text(encoding="utf-8")
    opening = re.search(r"<svg\b([^>]*)>", source)
    if opening is None:
        raise ValueError(f"{name}.svg holds no <svg> element")
    attrs = dict(re.findall(r'([\w:-]+)="([^"]*)"', opening.group(1)))
    kept = " ".join(f'{key}="{attrs[key]}"' for key in _KEEP if key in attrs)
    body = re.sub(r"\s+", " ", source[opening.end() : source.rindex("</svg>")]).strip()
    body = body.replace("> <", "><")
    return (
        f'<svg class="icon icon-{name}" aria-hidden="true" focusable="false" width="20" height="20" '
        f"{kept}>{body}</svg>"
    )


@register.simple_tag
def icon(name: str) -> str:
    return mark_safe(icon_svg(name))  # our own vendored files, name checked above


@register.simple_tag(takes_context=True)
def wordmark(context, city=None) -> str:
    slug = getattr(city, "slug", "") or ""
    names = [f"web/wordmarks/{slug}.html"] if slug else []
    chosen = select_template([*names, "web/wordmarks/default.html"])
    return chosen.render({"city": city}, context.get("request"))
