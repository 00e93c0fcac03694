"""Urban data's registration: the NGSI-LD API mounted at /ngsi-ld/, the district panel, the demo
snapshot and one open-data dataset per entity type a city publishes."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from herzstadt.core import registry
from herzstadt.urbandata import datasets, panels
from herzstadt.urbandata.broker import ngsi_application


def _load_demo(context: registry.DemoContext) -> str:
    from herzstadt.urbandata.demo import demo_loader

    return demo_loader(context)


PILLAR = registry.Pillar(
    name="urbandata",
    label=_("Urban data"),
    asgi_mounts=(registry.AsgiMount(prefix=datasets.NGSI_LD_PREFIX, factory=ngsi_application),),
    panels=(registry.Panel(page="district", render=panels.district_panel, order=50),),
    demo=registry.DemoLoader(load=_load_demo, order=20),
    datasets=datasets.datasets,
)
