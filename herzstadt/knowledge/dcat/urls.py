"""/dcat/catalog and the measures' RDF (helper: dcat). Namespace ``knowledge``; the paths are the same
in every language (machine-readable, harvested by GovData and partner cities)."""

from __future__ import annotations

from typing import Any

from django.urls import path, re_path

from herzstadt.knowledge.dcat import views
from herzstadt.knowledge.dcat.measures import datasets as _measure_datasets

_SUFFIX = r"(?:\.(?P<suffix>ttl|rdf|jsonld))?"

urlpatterns: list[Any] = [
    path("dcat/catalog", views.catalog, name="dcat-catalog"),
    re_path(r"^dcat/catalog\.(?P<suffix>ttl|rdf|jsonld)$", views.catalog, name="dcat-catalog-as"),
    path("dcat/measures", views.measures, name="dcat-measures"),
    re_path(
        r"^dcat/measures\.(?P<suffix>ttl|rdf|jsonld)$", views.measures, name="dcat-measures-as"
    ),
    re_path(
        r"^dcat/measures/(?P<slug>[-a-zA-Z0-9_]+)" + _SUFFIX + "$",
        views.measure,
        name="dcat-measure",
    ),
]


def datasets(city: Any) -> list[Any]:
    """The knowledge pillar's own datasets (the measure catalogue) for the DCAT catalogue."""
    return _measure_datasets(city)
