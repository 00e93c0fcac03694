"""Load the demo of every pillar, in order: the core (cities, districts, measures) first.

A pillar takes part by giving its AppConfig a ``load_demo()`` method that returns a short summary;
``demo_order`` (default 100) orders the pillars. The core's data is always loaded first.
"""

from __future__ import annotations

from django.apps import apps
from django.db import transaction


@transaction.atomic
def load_demo() -> str:
    from herzstadt.core.demo import load_demo as load_core

    parts = [str(load_core())]
    pillars = [c for c in apps.get_app_configs() if callable(getattr(c, "load_demo", None))]
    for config in sorted(pillars, key=lambda c: getattr(c, "demo_order", 100)):
        summary = config.load_demo()
        if summary:
            parts.append(str(summary))
    return "; ".join(parts)
