"""The decisions pillar's one registration (its parts fill it in as they are built)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from herzstadt.core import registry
from herzstadt.decisions.eligible import urls as eligible

PILLAR = registry.Pillar(
    name="decisions",
    label=_("Decisions"),
    urls=[*eligible.urlpatterns],
    backoffice_urls=[*eligible.backoffice_urlpatterns],
    url_order=50,
    backoffice_sections=(*eligible.SECTIONS,),
)
