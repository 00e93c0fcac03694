"""The charts' history reader: the aggregated temporal representation (ETSI GS CIM 009) into points,
and the in-process call of the broker's temporal route."""

import datetime as dt

import pytest

from herzstadt.ngsi import subscriptions
from herzstadt.ngsi.routes import ROUTER
from herzstadt.urbandata import history

NO2 = "https://smartdatamodels.org/dataModel.Environment/no2"
UTC = dt.UTC


def test_points_from_the_aggregated_representation():
    body = [
        {
            "id": "urn:ngsi-ld:AirQualityObserved:a",
            "type": "AirQualityObserved",
            NO2: {
                "type": "Property",
                "avg": [
                    [20.0, "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z"],
                    [30.0, "2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z"],
                ],
                "min": [
                    [10.0, "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z"],
                    [12.0, "2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z"],
                ],
                "max": [
                    [40.0, "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z"],
                    [44.0, "2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z"],
                ],
            },
        },
        {
            "id": "urn:ngsi-ld:AirQualityObserved:b",
            "type": "AirQualityObserved",
            NO2: {
                "type": "Property",
                "avg": [[40.0, "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z"]],
                "min": [[5.0, "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z"]],
                "max": [[50.0, "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z"]],
            },
        },
        {"id": "urn:x", "type": "X", NO2: {"avg": [["high", "2026-11-20T00:00:00Z"], [1.0]]}},
    ]
    points = history.points_from_aggregated(body, NO2)
    assert points == [
        history.Point(dt.datetime(2026, 11, 20, tzinfo=UTC), 30.0, 5.0, 50.0, sources=2),
        history.Point(dt.datetime(2026, 11, 21, tzinfo=UTC), 30.0, 12.0, 44.0, sources=1),
    ]
    # hourly: avg only; one entity as a dict
    one = {NO2: {"avg": [[7, "2026-11-21T10:00:00Z", "2026-11-21T11:00:00Z"]]}}
    assert history.points_from_aggregated(one, NO2) == [
        history.Point(dt.datetime(2026, 11, 21, 10, tzinfo=UTC), 7.0, None, None)
    ]
    assert history.points_from_aggregated([], NO2) == []


@pytest.mark.django_db
def test_reader_asks_the_brokers_temporal_route(city):
    start = dt.datetime(2026, 11, 20, tzinfo=UTC)
    end = start + dt.timedelta(days=30)
    found = ROUTER.match("temporal/entities")
    assert found is not None and "GET" in found[0].methods
    answer = history.temporal_reader(
        city.ngsi_tenant, ["urn:ngsi-ld:AirQualityObserved:nothing"], NO2, start, end, True
    )
    if found[0].methods["GET"].handler is subscriptions.not_implemented:
        assert answer is None  # 501 until the temporal API is merged: "no history yet"
    else:
        assert answer == []  # the temporal API: no instances of an unknown entity
    assert history.temporal_reader(city.ngsi_tenant, [], NO2, start, end, True) is None
