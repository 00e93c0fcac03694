"""Factories for the knowledge tests: profiles of the city's measures and partner measures (what the
network helper's harvester writes)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

_n = itertools.count(1)


@pytest.fixture
def make_profile(city):
    """``make_profile(title=…, **profile_fields)`` → a profile of a new public measure."""
    from herzstadt.knowledge.models import MeasureProfile
    from tests.factories import make_measure

    def make(
        title: str = "Mobilitätsstation",
        summary: str = "Rad, Bus und Carsharing an einem Ort.",
        measure_fields: dict[str, Any] | None = None,
        **fields: Any,
    ) -> MeasureProfile:
        n = next(_n)
        measure = make_measure(
            city, slug=f"massnahme-{n}", title=title, summary=summary, **(measure_fields or {})
        )
        return MeasureProfile.objects.create(measure=measure, **fields)

    return make


@pytest.fixture
def make_partner(city):
    from herzstadt.knowledge.models import Partner

    def make(name: str = "Wolfsburg", **fields: Any) -> Partner:
        n = next(_n)
        return Partner.objects.create(
            city=city,
            base_url=f"https://partner{n}.example",
            remote_slug=name.lower(),
            name=name,
            **fields,
        )

    return make


@pytest.fixture
def make_partner_measure():
    from herzstadt.knowledge.models import PartnerMeasure

    def make(partner, title: str = "Parkplatzsensoren", **fields: Any) -> PartnerMeasure:
        n = next(_n)
        fields.setdefault("summary", "Freie Parkplätze in Echtzeit.")
        fields.setdefault("data", {})
        return PartnerMeasure.objects.create(
            partner=partner,
            remote_id=f"{partner.base_url}/api/v1/network/x/measures/m{n}/",
            url=f"{partner.base_url}/massnahmen/m{n}/",
            title=title,
            **fields,
        )

    return make
