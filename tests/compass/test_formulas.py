"""Every indicator formula against hand-computed values on fixed data: gaps, the energetic mean,
Lden and Lnight on fixed winter and summer dates (local time Europe/Berlin), days above a
threshold, coverage, and the validation of hostile specs."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from django.core.exceptions import ValidationError

from herzstadt.compass import formulas as f
from tests.conftest import DATABASE_INDEPENDENT

pytestmark = DATABASE_INDEPENDENT

UTC = dt.UTC
T0 = dt.datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # a Monday in winter time (UTC+1)
Q = dt.timedelta(minutes=15)
H = dt.timedelta(hours=1)


class FakeSource:
    """Fixed observations: ``data[(type, attribute)] = [(entity id, [(time, value)])]``."""

    def __init__(self, data=None, entities=None):
        self.data = data or {}
        self._entities = entities or {}
        self.calls = []

    def series(self, entity_type, attribute, start, end, district, step):
        self.calls.append((entity_type, attribute, start, end, district, step))
        return [
            (eid, [(t, v) for t, v in points if start <= t < end])
            for eid, points in self.data.get((entity_type, attribute), [])
        ]

    def entities(self, entity_type, district):
        return self._entities.get(entity_type, [])


def agg(method, **extra):
    return {"kind": "aggregate", "entity_type": "T", "attribute": "a", "method": method, **extra}


def gappy():
    """Two entities over one hour of quarter hours: a at 0, 1, 3; b at 0, 2."""
    return FakeSource(
        {
            ("T", "a"): [
                ("a", [(T0, 10.0), (T0 + Q, 20.0), (T0 + 3 * Q, 30.0)]),
                ("b", [(T0, 40.0), (T0 + 2 * Q, 50.0)]),
            ]
        }
    )


@pytest.mark.parametrize(
    ("method", "across", "expected"),
    [
        # intervals (mean over the entities present): 25, 20, 50, 30
        ("avg", "mean", 31.25),
        ("min", "mean", 20.0),
        ("max", "mean", 50.0),
        ("last", "mean", 30.0),
        ("sum", "mean", 125.0),
        ("count", "mean", 5.0),
        # added up over the entities: 50, 20, 50, 30
        ("avg", "sum", 37.5),
        ("max", "sum", 50.0),
    ],
)
def test_aggregates_with_gaps(method, across, expected):
    result = f.compute(agg(method, across=across), T0, T0 + H, gappy())
    assert result.value == pytest.approx(expected)
    # 5 of 2 × 4 expected (entity, quarter hour) pairs
    assert result.coverage == pytest.approx(0.625)
    assert result.details["entities"] == 2
    assert result.details["intervals"] == 4


def test_observations_within_an_interval_are_averaged_and_outside_the_period_ignored():
    source = FakeSource(
        {
            ("T", "a"): [
                (
                    "a",
                    [
                        (T0 - Q, 1000.0),  # before the period
                        (T0, 10.0),
                        (T0 + dt.timedelta(minutes=5), 14.0),  # same quarter hour: mean 12
                        (T0 + Q, 20.0),
                        (T0 + H, 1000.0),  # the end is exclusive
                    ],
                )
            ]
        }
    )
    result = f.compute(agg("avg", interval="PT15M"), T0, T0 + H, source)
    assert result.value == pytest.approx(16.0)
    assert result.coverage == pytest.approx(0.5)


def test_a_period_without_data_has_no_value_and_no_coverage():
    empty = FakeSource()
    assert f.compute(agg("avg"), T0, T0 + H, empty) == f.Result(
        None, 0.0, {"entities": 0, "observations": 0, "intervals": 4}
    )
    # an entity the source knows, but silent: no value, coverage 0
    known = FakeSource({("T", "a"): []}, {"T": [{"id": "x"}]})
    result = f.compute(agg("avg"), T0, T0 + H, known)
    assert result.value is None and result.coverage == 0.0
    # the silent entity lowers the coverage of the others
    with_silent = FakeSource(
        {("T", "a"): [("a", [(T0 + k * Q, 1.0) for k in range(4)])]},
        {"T": [{"id": "a"}, {"id": "x"}]},
    )
    assert f.compute(agg("avg"), T0, T0 + H, with_silent).coverage == pytest.approx(0.5)


def test_non_numeric_values_count_for_presence_only():
    source = FakeSource({("T", "a"): [("a", [(T0, None), (T0 + Q, 4.0)])]})
    result = f.compute(agg("avg"), T0, T0 + H, source)
    assert result.value == 4.0
    assert result.coverage == pytest.approx(0.25)


def test_energetic_mean():
    assert f.energetic_mean([60.0, 70.0]) == pytest.approx(67.4036, abs=1e-4)
    assert f.energetic_mean([55.0, 55.0, 55.0]) == pytest.approx(55.0)
    # two sensors in the same quarter hour are combined energetically, then over time
    source = FakeSource(
        {("T", "a"): [("a", [(T0, 60.0), (T0 + Q, 60.0)]), ("b", [(T0, 70.0), (T0 + Q, 70.0)])]}
    )
    result = f.compute(agg("energetic_mean"), T0, T0 + 2 * Q, source)
    assert result.value == pytest.approx(67.4036, abs=1e-4)
    # the arithmetic mean would be 65
    assert f.compute(agg("avg"), T0, T0 + 2 * Q, source).value == pytest.approx(65.0)


def _hourly_day(local_midnight_utc, day, evening, night):
    """One entity, hourly LAeq over a local day: 06–18 ``day``, 18–22 ``evening``, else ``night``."""
    points = []
    for h in range(24):
        when = local_midnight_utc + h * H
        local = when.astimezone(f.LOCAL).hour
        level = day if 6 <= local < 18 else evening if 18 <= local < 22 else night
        points.append((when, level))
    return FakeSource({("T", "a"): [("n", points)]})


def test_lden_and_lnight_in_winter_time():
    start = dt.datetime(2026, 1, 14, 23, 0, tzinfo=UTC)  # 15 Jan 2026, 00:00 CET
    source = _hourly_day(start, day=60.0, evening=55.0, night=50.0)
    spec = agg("lden", interval="PT1H")
    result = f.compute(spec, start, start + 24 * H, source)
    # (12·10^6 + 4·10^6 + 8·10^6) / 24 = 10^6
    assert result.value == pytest.approx(60.0)
    assert result.details["Ld"] == pytest.approx(60.0)
    assert result.details["Le"] == pytest.approx(55.0)
    assert result.details["Ln"] == pytest.approx(50.0)
    assert result.coverage == 1.0
    lnight = f.compute(agg("lnight", interval="PT1H"), start, start + 24 * H, source)
    assert lnight.value == pytest.approx(50.0)


def test_lden_in_summer_time_uses_local_hours():
    start = dt.datetime(2026, 7, 14, 22, 0, tzinfo=UTC)  # 15 Jul 2026, 00:00 CEST
    source = _hourly_day(start, day=65.0, evening=60.0, night=50.0)
    result = f.compute(agg("lden", interval="PT1H"), start, start + 24 * H, source)
    # 10·log10((12·10^6.5 + 4·10^6.5 + 8·10^6) / 24)
    assert result.value == pytest.approx(63.8766, abs=1e-4)
    assert f.lden(65.0, 60.0, 50.0) == pytest.approx(63.8766, abs=1e-4)


def test_lden_needs_all_three_periods():
    start = dt.datetime(2026, 1, 15, 6, 0, tzinfo=UTC)  # 07:00–11:00 CET: day only
    source = _hourly_day(start, 60.0, 55.0, 50.0)
    result = f.compute(agg("lden", interval="PT1H"), start, start + 4 * H, source)
    assert result.value is None
    assert f.compute(agg("lnight", interval="PT1H"), start, start + 4 * H, source).value is None


def _daily(start, per_day):
    """Hourly values of one entity: ``per_day`` is a list of 24-value lists (None: missing)."""
    points = []
    for d, values in enumerate(per_day):
        for h, v in enumerate(values):
            if v is not None:
                points.append((start + dt.timedelta(days=d) + h * H, v))
    return FakeSource({("T", "a"): [("s", points)]})


LOCAL_MIDNIGHT = dt.datetime(2026, 1, 9, 23, 0, tzinfo=UTC)  # 10 Jan 2026, 00:00 CET


def test_days_above_counts_valid_whole_days_with_a_mean_above_the_threshold():
    source = _daily(
        LOCAL_MIDNIGHT,
        [
            [60.0] * 24,  # above
            [50.0] * 24,  # exactly the limit: not above
            [80.0] * 12 + [None] * 12,  # half the day missing: not counted (< 75 %)
        ],
    )
    spec = agg("days_above", interval="PT1H", threshold=50.0)
    result = f.compute(spec, LOCAL_MIDNIGHT, LOCAL_MIDNIGHT + dt.timedelta(days=3), source)
    assert result.value == 1.0
    assert result.details["days"] == 3
    assert result.details["valid_days"] == 2
    # 60 of 72 hours, but only 2 of 3 days usable
    assert result.coverage == pytest.approx(2 / 3)
    # with a lower bar for a day's coverage, the third day counts too
    lenient = agg("days_above", interval="PT1H", threshold=50.0, day_coverage=0.5)
    assert (
        f.compute(lenient, LOCAL_MIDNIGHT, LOCAL_MIDNIGHT + dt.timedelta(days=3), source).value
        == 2.0
    )


def test_days_above_ignores_partial_days_at_the_edges():
    source = _daily(LOCAL_MIDNIGHT, [[60.0] * 24, [60.0] * 24])
    start = LOCAL_MIDNIGHT + 6 * H  # the first day is cut
    result = f.compute(
        agg("days_above", interval="PT1H", threshold=50.0),
        start,
        start + dt.timedelta(days=1, hours=18),
        source,
    )
    assert result.details["days"] == 1
    assert result.value == 1.0


def test_hot_days_and_tropical_nights():
    day1 = [20.0] * 12 + [31.0] + [25.0] * 11
    day2 = [22.0] * 14 + [30.0] + [21.0] * 9
    day3 = [21.0] * 14 + [29.9] + [19.5] * 9
    source = _daily(LOCAL_MIDNIGHT, [day1, day2, day3])
    end = LOCAL_MIDNIGHT + dt.timedelta(days=3)
    hot = f.compute(
        agg("daily_max_above", interval="PT1H", threshold=30.0), LOCAL_MIDNIGHT, end, source
    )
    assert hot.value == 2.0  # 31 and 30 (at least 30); not 29.9
    # whole nights 18–06 inside the period: 10/11 and 11/12 January
    nights = f.compute(
        agg("nightly_min_above", interval="PT1H", threshold=20.0), LOCAL_MIDNIGHT, end, source
    )
    assert nights.details["days"] == 2
    # night 1: 18–24 on day 1 (25) and 0–6 on day 2 (22): min 22 → tropical;
    # night 2: 18–24 on day 2 (21) and 0–6 on day 3 (21): min 21 → tropical
    assert nights.value == 2.0
    day3_cold = [19.0] * 6 + [21.0] * 18
    cold = _daily(LOCAL_MIDNIGHT, [day1, day2, day3_cold])
    assert (
        f.compute(
            agg("nightly_min_above", interval="PT1H", threshold=20.0), LOCAL_MIDNIGHT, end, cold
        ).value
        == 1.0
    )


def test_increase_of_a_meter_reading_survives_a_reset():
    source = FakeSource(
        {
            ("T", "a"): [
                ("m1", [(T0, 100.0), (T0 + Q, 110.0), (T0 + 2 * Q, 105.0), (T0 + 3 * Q, 120.0)]),
                ("m2", [(T0, 0.0), (T0 + 3 * Q, 5.0)]),
            ]
        }
    )
    assert f.compute(agg("increase", across="sum"), T0, T0 + H, source).value == pytest.approx(30.0)
    assert f.compute(agg("increase"), T0, T0 + H, source).value == pytest.approx(15.0)


def test_share_present():
    source = FakeSource(
        {
            ("P", "status"): [
                ("a", [(T0 + k * Q, None) for k in range(4)]),  # text values: present
                ("b", [(T0, None), (T0 + 2 * Q, None)]),
            ]
        },
        {"P": [{"id": "a"}, {"id": "b"}, {"id": "c"}]},
    )
    spec = {"kind": "share_present", "entity_type": "P", "attribute": "status", "scale": 100}
    result = f.compute(spec, T0, T0 + H, source)
    assert result.value == pytest.approx(50.0)  # 6 of 12
    assert result.coverage == 1.0


def test_inventory_and_match():
    entities = {
        "EV": [
            {"id": "1", "capacity": 10, "kind": "x"},
            {"id": "2", "capacity": {"type": "Property", "value": 2}, "kind": "y"},
            {"id": "3", "capacity": "many", "kind": "y"},
        ]
    }
    source = FakeSource(entities=entities)
    total = {"kind": "inventory", "entity_type": "EV", "attribute": "capacity"}
    result = f.compute(total, T0, T0 + H, source)
    assert result.value == 12.0
    assert result.coverage == pytest.approx(2 / 3)
    count = {"kind": "inventory", "entity_type": "EV"}
    assert f.compute(count, T0, T0 + H, source).value == 3.0
    only_y = {**total, "match": {"kind": "y"}}
    assert f.compute(only_y, T0, T0 + H, source).value == 2.0
    assert f.compute(total, T0, T0 + H, FakeSource()).value is None


def test_match_filters_series():
    source = FakeSource(
        {
            ("M", "total"): [
                ("heat", [(T0, 0.0), (T0 + Q, 100.0)]),
                ("power", [(T0, 0.0), (T0 + Q, 7.0)]),
            ]
        },
        {"M": [{"id": "heat", "meterType": "Heat"}, {"id": "power", "meterType": "Electricity"}]},
    )
    spec = {
        "kind": "aggregate",
        "entity_type": "M",
        "attribute": "total",
        "method": "increase",
        "across": "sum",
        "match": {"meterType": "Electricity"},
    }
    assert f.compute(spec, T0, T0 + 2 * Q, source).value == 7.0


def test_combinations():
    source = gappy()
    const = lambda v: {"kind": "constant", "value": v}  # noqa: E731
    ratio = {"kind": "ratio", "numerator": agg("avg"), "denominator": const(125.0), "scale": 100}
    result = f.compute(ratio, T0, T0 + H, source)
    assert result.value == pytest.approx(25.0)  # 31.25 / 125 × 100
    assert result.coverage == pytest.approx(0.625)  # the least of the parts
    assert (
        f.compute(
            {"kind": "ratio", "numerator": const(1), "denominator": const(0)}, T0, T0 + H, source
        ).value
        is None
    )
    per_capita = {"kind": "per_capita", "formula": const(16), "population": 3200}
    assert f.compute(per_capita, T0, T0 + H, source).value == pytest.approx(5.0)  # per 1,000
    diff = {"kind": "difference", "minuend": const(3), "subtrahend": const(5), "floor": 0}
    assert f.compute(diff, T0, T0 + H, source).value == 0.0
    total = {"kind": "sum", "terms": [const(1), const(2), agg("max")]}
    assert f.compute(total, T0, T0 + H, source).value == pytest.approx(53.0)
    mean = {"kind": "mean", "terms": [const(1), const(3)]}
    assert f.compute(mean, T0, T0 + H, source).value == 2.0
    missing = {"kind": "sum", "terms": [const(1), agg("avg", entity_type="Nothing")]}
    assert f.compute(missing, T0, T0 + H, source).value is None


def test_the_source_is_asked_for_the_sampling_interval_and_district():
    source = gappy()
    f.compute(agg("avg", interval="PT1H", district="pfaff-areal"), T0, T0 + H, source)
    assert source.calls[0][4:] == ("pfaff-areal", H)


def test_validate_fills_in_defaults():
    assert f.validate(agg("avg")) == {
        "kind": "aggregate",
        "entity_type": "T",
        "attribute": "a",
        "method": "avg",
        "interval": "PT15M",
        "across": "mean",
    }
    spec = f.validate(agg("days_above", threshold=50))
    assert spec["day_coverage"] == 0.75 and spec["threshold"] == 50.0
    assert (
        f.validate(
            {"kind": "per_capita", "formula": {"kind": "constant", "value": 1}, "population": 10}
        )["per"]
        == 1000.0
    )


@pytest.mark.parametrize(
    "spec",
    [
        None,
        [],
        "avg",
        {"kind": "python"},
        {**agg("avg"), "extra": 1},
        agg("median"),
        agg("avg", across="product"),
        agg("avg", interval="PT10S"),
        agg("avg", interval="P2D"),
        agg("avg", interval="every hour"),
        agg("avg", entity_type="Air Quality"),
        agg("avg", attribute="no2;drop"),
        agg("avg", attribute=""),
        agg("avg", district="../etc"),
        agg("avg", threshold=5),
        agg("days_above"),
        agg("days_above", threshold=float("nan")),
        agg("days_above", threshold=float("inf")),
        agg("days_above", threshold=True),
        agg("days_above", threshold=1, day_coverage=0),
        agg("avg", scale="2"),
        agg("avg", match={"meterType": ["x"]}),
        agg("avg", match={}),
        {"kind": "constant", "value": 1e300},
        {"kind": "per_capita", "formula": {"kind": "constant", "value": 1}, "population": 0},
        {"kind": "ratio", "numerator": {"kind": "constant", "value": 1}},
        {"kind": "sum", "terms": []},
        {"kind": "sum", "terms": [{"kind": "constant", "value": 1}] * 11},
        {"kind": "inventory", "entity_type": "T", "method": "sum"},
    ],
)
def test_validate_refuses(spec):
    with pytest.raises(ValidationError):
        f.validate(spec)


def test_validate_refuses_deep_and_large_specs():
    node = {"kind": "constant", "value": 1}
    for _ in range(6):
        node = {"kind": "mean", "terms": [node]}
    with pytest.raises(ValidationError):
        f.validate(node)
    wide = {
        "kind": "sum",
        "terms": [{"kind": "sum", "terms": [{"kind": "constant", "value": 1}] * 10}] * 4,
    }
    with pytest.raises(ValidationError):
        f.validate(wide)


def test_compute_refuses_naive_times_and_overlong_periods():
    with pytest.raises(ValueError):
        f.compute(agg("avg"), T0.replace(tzinfo=None), T0 + H, gappy())
    with pytest.raises(ValidationError):
        f.compute(agg("avg"), T0, T0 + dt.timedelta(days=400), gappy())
    with pytest.raises(ValidationError):
        f.compute(agg("avg", interval="PT1M"), T0, T0 + dt.timedelta(days=60), gappy())


def test_parse_duration():
    assert f.parse_duration("PT15M") == Q
    assert f.parse_duration("P1D") == dt.timedelta(days=1)
    assert f.parse_duration("P1Y") == dt.timedelta(days=365)
    assert f.parse_duration("P1W") == dt.timedelta(days=7)
    assert f.parse_duration("P1DT6H") == dt.timedelta(days=1, hours=6)
    for bad in ("P", "PT", "1D", "P1DT", "PT1S", "P-1D", None):
        with pytest.raises(ValidationError):
            f.parse_duration(bad)


def test_describe():
    text = f.describe(
        {"kind": "ratio", "numerator": agg("avg"), "denominator": {"kind": "constant", "value": 2}}
    )
    assert "a" in text and "T" in text and "÷" in text
    assert f.describe({"kind": "nope"})
    matched = f.describe({"kind": "inventory", "entity_type": "M", "match": {"meterType": "Heat"}})
    assert "[meterType = Heat]" in matched
    assert not math.isnan(f.lden(50, 50, 50))


def test_entity_types():
    spec = f.validate(
        {
            "kind": "ratio",
            "numerator": agg("avg"),
            "denominator": {"kind": "inventory", "entity_type": "EV"},
        }
    )
    assert f.entity_types(spec) == {"T": {"a"}, "EV": set()}
