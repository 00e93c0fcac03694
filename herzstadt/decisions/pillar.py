"""The decisions pillar's one registration (its parts fill it in as they are built)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from herzstadt.core import registry
from herzstadt.decisions import results_urls
from herzstadt.decisions.eligible import urls as eligible


def _load_demo(context: Any) -> Any:
    from herzstadt.decisions.demo import load_demo

    return load_demo(context)


PILLAR = registry.Pillar(
    name="decisions",
    label=_("Decisions"),
    urls=[*eligible.urlpatterns, *results_urls.urlpatterns],
    backoffice_urls=[*eligible.backoffice_urlpatterns, *results_urls.backoffice_urlpatterns],
    url_order=50,
    panels=(*results_urls.PANELS,),
    tasks=(*results_urls.TASKS,),
    backoffice_sections=(*eligible.SECTIONS,),
    demo=registry.DemoLoader(load=_load_demo, order=60),
)
