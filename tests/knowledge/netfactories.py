"""Helpers of the network tests: a city with shared measures."""

from __future__ import annotations

import datetime as dt

from herzstadt.core.models import Milestone
from herzstadt.knowledge.models import MeasureProfile
from tests.factories import make_city, make_measure


def shared_measure(city, slug="mobilitaetsstation", title="Mobilitätsstation", shared=True, **kw):
    m = make_measure(city, slug=slug, title=title, **kw)
    MeasureProfile.objects.create(
        measure=m,
        shared=shared,
        phase="pilot",
        problem="Zu viele Autos in der Innenstadt.",
        implementation_steps=["Standorte wählen", "Betreiber ausschreiben"],
        entity_types=["ParkingSpot"],
        cost_investment_eur="120000.00",
    )
    Milestone.objects.create(measure=m, date=dt.date(2024, 3, 1), title="Ausschreibung")
    Milestone.objects.create(measure=m, date=dt.date(2024, 9, 1), title="Eröffnung", done=True)
    return m


def solingen():
    return make_city(slug="solingen", name="Solingen", ags="05122000")
