"""The core's own registration: its pages, its API, the main navigation's first entries and the demo
cities (loaded first; they are handed to every other pillar's demo loader)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from herzstadt.core import registry, urls


def _load_demo(context: registry.DemoContext):
    from herzstadt.core.demo import demo_loader

    return demo_loader(context)


PILLAR = registry.Pillar(
    name="core",
    label=_("City, districts and measures"),
    urls=urls.urlpatterns,
    api_urls=urls.api_urlpatterns,
    url_order=1000,  # last: its patterns are the most general
    nav=(
        registry.NavEntry(key="home", label=_("Home"), url_name="core:home", order=0),
        registry.NavEntry(
            key="measures",
            label=_("Measures"),
            url_name="core:measures",
            order=10,
            current=("core:measures", "core:measure"),
        ),
    ),
    demo=registry.DemoLoader(load=_load_demo, order=0),
)
