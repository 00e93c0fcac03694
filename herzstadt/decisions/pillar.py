"""The decisions pillar's one registration (its parts fill it in as they are built)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from herzstadt.core import registry

PILLAR = registry.Pillar(
    name="decisions",
    label=_("Decisions"),
    url_order=50,
)
