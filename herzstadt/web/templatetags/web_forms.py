"""Template helpers for forms every page shares: the "Error: " prefix of the page title."""

from __future__ import annotations

from django import template
from django.forms import BaseForm
from django.utils.translation import gettext as _

register = template.Library()


def _has_errors(value) -> bool:
    """A bound form that has been validated and has errors. Forms that are not Django forms (the
    survey form) say so with a ``has_errors`` property. Never triggers validation itself."""
    if isinstance(value, BaseForm):
        # ``_errors`` is None until the form has been validated: reading ``errors`` would validate
        return bool(value.is_bound and getattr(value, "_errors", None))
    return getattr(value, "has_errors", None) is True


@register.simple_tag(takes_context=True)
def error_title_prefix(context) -> str:
    """ "Fehler: " when any form on the page was sent back with errors (WCAG 3.3.1: the title is
    the first thing a screen reader announces), else nothing. A view can force it with
    ``page_has_errors``."""
    if context.get("page_has_errors"):
        return _("Error: ")
    for layer in context.dicts:
        if not isinstance(layer, dict):
            continue
        if any(_has_errors(value) for value in layer.values()):
            return _("Error: ")
    return ""
