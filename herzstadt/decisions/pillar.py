"""The decisions pillar's one registration (its parts fill it in as they are built)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from herzstadt.core import registry
from herzstadt.decisions import permissions as _permissions  # noqa: F401  (defines the names)
from herzstadt.decisions import phases
from herzstadt.decisions.ballot import urls as ballot

PILLAR = registry.Pillar(
    name="decisions",
    label=_("Decisions"),
    urls=[*ballot.urlpatterns],
    backoffice_urls=[*ballot.backoffice_urlpatterns],
    url_order=50,
    nav=(*ballot.NAV,),
    backoffice_sections=(*ballot.SECTIONS,),
    features=phases.FEATURES,
    phase_kinds=phases.PHASE_KINDS,
    process_kinds=phases.PROCESS_KINDS,
    tasks=(*ballot.TASKS,),
)
