"""Form helpers every part of the site shares."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def apply_errors(form, exc: ValidationError, rename: dict[str, str] | None = None) -> None:
    """Show a use case's ``ValidationError`` next to the form's fields (``rename`` maps the model's
    field names to the form's), or above the form when no field matches."""
    rename = rename or {}
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            name = rename.get(field, field)
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
