"""The broker source over the real in-process broker: the Pfaff-Areal snapshot with a day of
simulated history; short names resolve to the tenant's expanded names; values per interval."""

from __future__ import annotations

import datetime as dt

import pytest

from herzstadt.compass import formulas
from herzstadt.compass.sources import BrokerSource
from herzstadt.core.models import District

UTC = dt.UTC


@pytest.fixture
def pfaff(city):
    from herzstadt.urbandata.broker import get_broker
    from herzstadt.urbandata.demo import DEMO_FILES, load_city
    from herzstadt.urbandata.simulation import backfill, district

    now = dt.datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    path = DEMO_FILES["kaiserslautern"]
    load_city(city, path)
    backfill.backfill(get_broker(), city.ngsi_tenant, district.load_snapshot(path), now, days=1)
    return city, now


@pytest.mark.django_db
def test_series_entities_and_share_present_from_the_broker(pfaff):
    city, now = pfaff
    source = BrokerSource(city, District.objects.get(city=city, slug="pfaff-areal"))
    start = now - dt.timedelta(hours=6)
    step = dt.timedelta(minutes=15)
    air = source.series("AirQualityObserved", "no2", start, now, None, step)
    assert len(air) == 4
    for _eid, points in air:
        assert len(points) == 24  # 6 hours of quarter hours
        assert all(isinstance(v, float) for _t, v in points)
        assert points[0][0] == start
    spots = source.series("ParkingSpot", "status", start, now, None, step)
    assert len(spots) == 12
    assert all(len(points) == 24 and all(v is None for _t, v in points) for _e, points in spots), (
        spots[0][1][:3]
    )
    assert len(source.entities("ParkingSpot", None)) == 12
    share = formulas.compute(
        {"kind": "share_present", "entity_type": "ParkingSpot", "attribute": "status"},
        start,
        now,
        source,
    )
    assert share.value == pytest.approx(1.0)
    meters = source.entities("SmartMeteringObservation", None)
    assert {m.get("meterType") for m in meters} == {"Heat", "Electricity"}
    assert source.series("Nothing", "no2", start, now, None, step) == []
    assert source.series("AirQualityObserved", "nothing", start, now, None, step) == []


@pytest.mark.django_db
def test_an_indicator_never_describes_fewer_than_five_sources_of_personal_data(pfaff):
    """A type the city marks as personal data (the energy centre's two meters here) is aggregated
    only over at least K_ANONYMITY sources: else the indicator is not computed."""
    from herzstadt.compass.sources import SourceError
    from herzstadt.urbandata import access
    from herzstadt.urbandata.broker import K_ANONYMITY
    from herzstadt.urbandata.models import K_ANONYMITY as URBANDATA_K

    assert K_ANONYMITY == URBANDATA_K
    city, now = pfaff
    pfaff_district = District.objects.get(city=city, slug="pfaff-areal")
    start = now - dt.timedelta(hours=6)
    meters = {
        "kind": "aggregate",
        "entity_type": "SmartMeteringObservation",
        "attribute": "totalConsumption",
        "method": "increase",
        "interval": "PT15M",
        "across": "sum",
    }
    air = {"kind": "aggregate", "entity_type": "AirQualityObserved", "attribute": "no2",
           "method": "avg", "interval": "PT15M"}  # fmt: skip
    assert formulas.compute(
        formulas.validate(meters), start, now, BrokerSource(city, pfaff_district)
    ).value
    personal = BrokerSource(city, pfaff_district).type_iris("SmartMeteringObservation")
    access.save_settings(city, [], [], personal_types=personal)
    with pytest.raises(SourceError, match="personal data"):
        formulas.compute(formulas.validate(meters), start, now, BrokerSource(city, pfaff_district))
    matched = {**meters, "match": {"meterType": "Heat"}}
    with pytest.raises(SourceError, match="found 1"):
        formulas.compute(formulas.validate(matched), start, now, BrokerSource(city, pfaff_district))
    # other types are not touched
    assert formulas.compute(
        formulas.validate(air), start, now, BrokerSource(city, pfaff_district)
    ).value
