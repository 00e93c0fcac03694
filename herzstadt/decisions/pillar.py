"""The decisions pillar's one registration, composed from its parts: the ballot (``ballot/``: process
kind, proposals, voting, log), eligibility (``eligible/``: census, codes, booth, postal) and the
results (``results_urls``: results, ``.pb``, winners → measures)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from herzstadt.core import registry
from herzstadt.decisions import permissions as _permissions  # noqa: F401  (defines the names)
from herzstadt.decisions import phases, results_urls
from herzstadt.decisions.ballot import urls as ballot
from herzstadt.decisions.eligible import urls as eligible


def _load_demo(context: Any) -> Any:
    from herzstadt.decisions.demo import load_demo

    return load_demo(context)


def _export(user: Any) -> Any:
    from herzstadt.decisions.eligible import personal_data

    return personal_data.export(user)


def _erase(user: Any) -> None:
    from herzstadt.decisions.eligible import personal_data

    personal_data.erase(user)


PILLAR = registry.Pillar(
    name="decisions",
    label=_("Decisions"),
    # the fixed paths (e.g. decisions/eligibility/) before the ones with a slug
    urls=[*eligible.urlpatterns, *results_urls.urlpatterns, *ballot.urlpatterns],
    backoffice_urls=[
        *eligible.backoffice_urlpatterns,
        *results_urls.backoffice_urlpatterns,
        *ballot.backoffice_urlpatterns,
    ],
    url_order=50,
    nav=(*ballot.NAV,),
    panels=(*results_urls.PANELS,),
    backoffice_sections=(*ballot.SECTIONS, *eligible.SECTIONS),
    features=phases.FEATURES,
    phase_kinds=phases.PHASE_KINDS,
    process_kinds=phases.PROCESS_KINDS,
    tasks=(*ballot.TASKS, *results_urls.TASKS),
    demo=registry.DemoLoader(load=_load_demo, order=60),
    personal_data=registry.PersonalData(export=_export, erase=_erase),
)
