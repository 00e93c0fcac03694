"""The knowledge pillar's one registration."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from herzstadt.core import registry

PILLAR = registry.Pillar(
    name="knowledge",
    label=_("Knowledge transfer"),
)
