"""/dcat/catalog and the measures' RDF (helper: dcat)."""

from __future__ import annotations

from typing import Any

urlpatterns: list[Any] = []


def datasets(city: Any) -> list[Any]:
    """The knowledge pillar's own datasets (the measure catalogue) for the DCAT catalogue."""
    return []
