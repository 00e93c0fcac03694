"""The decisions pillar's one registration (its parts fill it in as they are built)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from herzstadt.core import registry
from herzstadt.decisions import results_urls


def _load_demo(context: Any) -> Any:
    from herzstadt.decisions.demo import load_demo

    return load_demo(context)


PILLAR = registry.Pillar(
    name="decisions",
    label=_("Decisions"),
    url_order=50,
    urls=[*results_urls.urlpatterns],
    backoffice_urls=[*results_urls.backoffice_urlpatterns],
    panels=(*results_urls.PANELS,),
    tasks=(*results_urls.TASKS,),
    demo=registry.DemoLoader(load=_load_demo, order=60),
)
