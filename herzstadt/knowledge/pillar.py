"""The knowledge pillar's one registration: composed from its parts — the catalogue and profiles
(``urls``), the city network (``network/``) and the DCAT-AP.de catalogue (``dcat/``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from herzstadt.core import registry
from herzstadt.knowledge import urls as catalogue
from herzstadt.knowledge.dcat import urls as dcat
from herzstadt.knowledge.network import urls as network


def _load_demo(context: Any) -> Any:
    from herzstadt.knowledge.demo import load_profiles
    from herzstadt.knowledge.network.demo import load_partners

    report = load_profiles(context)
    load_partners(context)
    return report


PILLAR = registry.Pillar(
    name="knowledge",
    label=_("Knowledge transfer"),
    urls=[*catalogue.urlpatterns, *network.urlpatterns, *dcat.urlpatterns],
    api_urls=[*network.api_urlpatterns],
    backoffice_urls=[*catalogue.backoffice_urlpatterns, *network.backoffice_urlpatterns],
    url_order=60,
    nav=(*catalogue.NAV, *network.NAV),
    panels=(*catalogue.PANELS, *network.PANELS),
    backoffice_sections=(*catalogue.SECTIONS, *network.SECTIONS),
    demo=registry.DemoLoader(load=_load_demo, order=40),
    datasets=dcat.datasets,
    tasks=(*network.TASKS,),
)
