"""Small filters for the ballot pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def points(choice: dict[str, int], key: str) -> Any:
    """The points ``choice`` gives to ``key`` ("" when none)."""
    value = (choice or {}).get(str(key))
    return "" if value is None or value < 0 else value


@register.filter
def ballot_text(choice: dict[str, int]) -> str:
    """A log entry's choice as text: ``3, 7`` or ``3: 4, 7: 6`` for points."""
    items = sorted((choice or {}).items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0)
    if all(v == 1 for _, v in items):
        return ", ".join(k for k, _ in items)
    return ", ".join(f"{k}: {v}" for k, v in items)
