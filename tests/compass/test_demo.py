"""The demo compass: loads with the other pillars' demo data, and over the simulated Pfaff-Areal
(a backfilled history) at least 15 indicators have values that move with the simulation."""

from __future__ import annotations

import datetime as dt

import pytest

from herzstadt.compass import services
from herzstadt.compass.demo import ASSESSMENTS, INDICATORS
from herzstadt.compass.models import Assessment, Goal, Indicator, IndicatorValue, Rating, Value
from herzstadt.core.models import Measure


@pytest.mark.django_db
def test_the_demo_compass_computes_live_indicators(demo, capsys):
    from herzstadt.urbandata.broker import get_broker
    from herzstadt.urbandata.demo import DEMO_FILES
    from herzstadt.urbandata.simulation import backfill, district

    city = demo
    assert Value.objects.filter(city=city).count() == 6
    assert Goal.objects.filter(city=city).count() >= 7
    assert Indicator.objects.filter(city=city).count() == len(INDICATORS) >= 15
    # every demo measure of the city has an assessment
    measures = Measure.objects.filter(city=city)
    assessed = set(Assessment.objects.filter(city=city).values_list("measure__slug", flat=True))
    assert {m.slug for m in measures} <= assessed | (
        set(m.slug for m in measures) - set(ASSESSMENTS)
    )
    assert assessed == set(ASSESSMENTS) & {m.slug for m in measures}
    assert Rating.objects.filter(city=city).exists()
    # the worker's first round recomputes them (after the demo's backfill)
    assert all(i.last_computed_at is None for i in Indicator.objects.filter(city=city))

    # two days of simulated history, as `herzstadt demo` backfills (30 days there)
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    snapshot = district.load_snapshot(DEMO_FILES["kaiserslautern"])
    backfill.backfill(get_broker(), city.ngsi_tenant, snapshot, now, days=2)
    services.compute_city(city, now)
    with_value = Indicator.objects.filter(city=city, last_value__isnull=False)
    missing = set(
        Indicator.objects.filter(city=city, last_value__isnull=True).values_list("slug", flat=True)
    )
    assert with_value.count() >= 15, missing
    no2 = Indicator.objects.get(city=city, slug="no2-mittel")
    assert no2.last_coverage > 0.9
    assert 0 < no2.last_value < 200
    # an hour later (a new rolling window over the simulated data) the values move
    later = now - dt.timedelta(hours=5)
    moved = 0
    # (the non-public ones describe personal data: the source refuses them, see test_sources)
    for indicator in Indicator.objects.filter(city=city, period="P1D", is_public=True):
        before = services.compute_period(indicator, later - dt.timedelta(days=1), later).value
        if (
            before is not None
            and indicator.last_value is not None
            and abs(before - indicator.last_value) > 1e-9
        ):
            moved += 1
    assert moved >= 5
    assert IndicatorValue.objects.filter(city=city).count() >= 15
