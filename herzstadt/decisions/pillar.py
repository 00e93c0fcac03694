"""The decisions pillar's one registration (its parts fill it in as they are built)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from herzstadt.core import registry
from herzstadt.decisions import permissions as _permissions  # noqa: F401  (defines the names)
from herzstadt.decisions import phases
from herzstadt.decisions.ballot import urls as ballot
from herzstadt.decisions.eligible import urls as eligible


def _export(user: Any) -> Any:
    from herzstadt.decisions.eligible import personal_data

    return personal_data.export(user)


def _erase(user: Any) -> None:
    from herzstadt.decisions.eligible import personal_data

    personal_data.erase(user)


PILLAR = registry.Pillar(
    name="decisions",
    label=_("Decisions"),
    # eligible first: its fixed paths (e.g. "stimmberechtigte/") before ballot's "<slug>/"
    urls=[*eligible.urlpatterns, *ballot.urlpatterns],
    backoffice_urls=[*eligible.backoffice_urlpatterns, *ballot.backoffice_urlpatterns],
    url_order=50,
    nav=(*ballot.NAV,),
    backoffice_sections=(*ballot.SECTIONS, *eligible.SECTIONS),
    personal_data=registry.PersonalData(export=_export, erase=_erase),
    features=phases.FEATURES,
    phase_kinds=phases.PHASE_KINDS,
    process_kinds=phases.PROCESS_KINDS,
    tasks=(*ballot.TASKS,),
)
