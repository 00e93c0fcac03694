"""Load the demo of every registered pillar, in the order their ``DemoLoader``s give (the core's
cities, districts and measures first). Each loader gets the same :class:`~herzstadt.core.registry.
DemoContext`, in which the core's loader leaves the demo cities, so no pillar names a city."""

from __future__ import annotations

from django.db import transaction

from herzstadt.core import registry


@transaction.atomic
def load_demo() -> str:
    context = registry.DemoContext()
    parts = []
    for _name, loader in registry.demo_loaders():
        summary = loader.load(context)
        if summary:
            parts.append(str(summary))
    return "; ".join(parts)
