"""The compass pillar's one registration, composed from its parts: the pages, back office, panels
and participation link (``urls``, ``rating``: helper compassui) and the computation, publication
and demo (``services``, ``datasets``, ``transfer``, ``demo``: helper kpi)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from herzstadt.compass import permissions as _permissions  # noqa: F401 - defines the rules
from herzstadt.compass import rating
from herzstadt.compass import urls as pages
from herzstadt.core import registry


def _load_demo(context: Any) -> Any:
    from herzstadt.compass.demo import demo_loader

    return demo_loader(context)


def _compute(stop: Any) -> None:
    from herzstadt.compass.services import run

    run(stop)


def _datasets(city: Any) -> Any:
    from herzstadt.compass.datasets import datasets

    return datasets(city)


def _transfer_part() -> registry.TransferPart:
    from herzstadt.compass.transfer import PART

    return PART


# kpi: computation, publication, demo (order: after urbandata's data (20) and participation's
# people (30))
KPI_DEMO = registry.DemoLoader(load=_load_demo, order=50)
KPI_TASKS = (
    registry.BackgroundTask(
        key="compass-indicators",
        run=_compute,
        label=_("Computes the values compass's indicators on their schedules"),
        order=70,
    ),
)

PILLAR = registry.Pillar(
    name="compass",
    label=_("Values compass"),
    url_order=70,
    urls=[*pages.urlpatterns],
    backoffice_urls=[*pages.backoffice_urlpatterns],
    nav=(*pages.NAV,),
    panels=(*pages.PANELS,),
    backoffice_sections=(*pages.SECTIONS,),
    features=rating.FEATURES,
    phase_kinds=rating.PHASE_KINDS,
    process_kinds=rating.PROCESS_KINDS,
    personal_data=registry.PersonalData(
        export=rating.export_personal_data, erase=rating.erase_personal_data
    ),
    demo=KPI_DEMO,
    datasets=_datasets,
    tasks=KPI_TASKS,
    transfer_parts=(_transfer_part(),),
)
