"""Participation's registration: its pages and API, the main-menu entry, its sections on the core's
pages and in the back office, and its demo process."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from herzstadt.core import registry
from herzstadt.participation import notifications, panels, personal_data, phases, urls
from herzstadt.participation.backoffice import urls as backoffice_urls


def _load_demo(context: registry.DemoContext) -> str:
    from herzstadt.participation.demo import demo_loader

    return demo_loader(context)


PILLAR = registry.Pillar(
    name="participation",
    label=_("Participation"),
    urls=urls.urlpatterns,
    api_urls=urls.api_urlpatterns,
    backoffice_urls=backoffice_urls.urlpatterns,
    url_order=20,
    nav=(
        registry.NavEntry(
            key="participation",
            label=_("Participation"),
            url_name="participation:processes",
            order=20,
            current=("participation:*",),
        ),
    ),
    panels=(
        registry.Panel(page="home", render=panels.home_panel, order=10),
        registry.Panel(page="district", render=panels.district_panel, order=20),
        registry.Panel(page="measure", render=panels.measure_panel, order=20),
    ),
    demo=registry.DemoLoader(load=_load_demo, order=30),
    notification_kinds=notifications.KINDS,
    features=phases.FEATURES,
    phase_kinds=phases.PHASE_KINDS,
    process_kinds=phases.PROCESS_KINDS,
    personal_data=registry.PersonalData(export=personal_data.export, erase=personal_data.erase),
)
