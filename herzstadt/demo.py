"""Load the demo of every registered pillar, in the order their ``DemoLoader``s give (the core's
cities, districts and measures first). Each loader gets the same :class:`~herzstadt.core.registry.
DemoContext`, in which the core's loader leaves the demo cities, so no pillar names a city."""

from __future__ import annotations

from collections.abc import Collection

from django.db import transaction

from herzstadt.core import registry


@transaction.atomic
def load_demo(*, skip: Collection[str] = ()) -> str:
    """Load every pillar's demo, except the pillars named in ``skip`` (tests that need only some)."""
    context = registry.DemoContext()
    parts = []
    for _name, loader in registry.demo_loaders():
        if _name in skip:
            continue
        summary = loader.load(context)
        if summary:
            parts.append(str(summary))
    return "; ".join(parts)
