"""Numbers in the page's language: ``{{ n|num }}`` → "1.203" in German, "1,203" in English; ``{{ x|num:1 }}``
with one decimal ("2,5"). Template variables are localized by Django anyway, but without thousands
separators (``USE_THOUSAND_SEPARATOR`` stays off, since ids in URLs and anchors must stay plain)."""

from __future__ import annotations

from django import template
from django.utils import formats

register = template.Library()


def format_number(value, decimals: int | None = None) -> str:
    """``value`` in the active language, grouped; whole numbers without decimals."""
    if value is None or value == "":
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if decimals is None:
        decimals = 0 if number.is_integer() else 1
    if decimals == 0:
        number = round(number)
    return formats.number_format(number, decimals, use_l10n=True, force_grouping=True)


@register.filter
def num(value, decimals=None) -> str:
    return format_number(value, None if decimals in (None, "") else int(decimals))
