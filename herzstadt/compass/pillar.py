"""The compass pillar's one registration (its parts fill it in as they are built)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

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
    demo=KPI_DEMO,
    datasets=_datasets,
    tasks=KPI_TASKS,
    transfer_parts=(_transfer_part(),),
)
