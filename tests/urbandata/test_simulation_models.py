"""The simulation models: shapes (daily and weekly patterns, the sun), bounds and determinism."""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from pathlib import Path

import pytest

from herzstadt.urbandata.simulation import district
from herzstadt.urbandata.simulation import models as m

UTC = dt.UTC
SNAPSHOT = Path(__file__).resolve().parents[2] / "herzstadt/urbandata/demo/pfaff-areal.jsonld"
# Monday 2026-11-30 and the days around it; Europe/Berlin is UTC+1 in winter, UTC+2 in summer
MONDAY = dt.datetime(2026, 11, 30, tzinfo=UTC)
SATURDAY = dt.datetime(2026, 11, 28, tzinfo=UTC)
SUNDAY = dt.datetime(2026, 11, 29, tzinfo=UTC)


def at(day: dt.datetime, local_hour: float, offset: int = 1) -> dt.datetime:
    return day + dt.timedelta(hours=local_hour - offset)


def days(start: dt.datetime, n: int):
    return [start + dt.timedelta(days=i) for i in range(n)]


# --------------------------------------------------------------------------- the sun and PV
@pytest.mark.parametrize(
    ("day", "noon_elevation"),
    [
        (dt.datetime(2026, 6, 21, tzinfo=UTC), 90 - 49.44 + 23.44),
        (dt.datetime(2026, 12, 21, tzinfo=UTC), 90 - 49.44 - 23.44),
        (dt.datetime(2026, 3, 20, tzinfo=UTC), 90 - 49.44),
    ],
)
def test_the_sun_culminates_at_the_right_height_near_local_solar_noon(day, noon_elevation):
    samples = [(m.solar_elevation(day + dt.timedelta(minutes=k)), k) for k in range(0, 1440, 2)]
    highest, minute = max(samples)
    assert highest == pytest.approx(noon_elevation, abs=0.6)
    # solar noon at 7.77° E: 12:00 UTC − 31 min, ± the equation of time (< 17 min)
    assert 11 * 60 + 29 - 17 <= minute <= 11 * 60 + 29 + 17
    assert m.solar_elevation(day) < 0  # midnight UTC


def test_pv_is_zero_at_night_and_peaks_near_noon():
    for day in days(dt.datetime(2026, 6, 1, tzinfo=UTC), 5) + days(MONDAY, 5):
        series = [(day + dt.timedelta(minutes=k), k) for k in range(0, 1440, 15)]
        powers = [(m.pv_output(t, 11, 100.0, "roof").active_power, k, t) for t, k in series]
        for power, _k, t in powers:
            assert 0.0 <= power <= 100.0
            if m.solar_elevation(t) <= 0:
                assert power == 0.0
        peak, minute, _t = max(powers)
        assert peak > 0
        assert 9 * 60 <= minute <= 14 * 60  # UTC; local solar noon is 11:29 UTC


def test_pv_yields_more_in_june_than_in_december():
    def daily_kwh(day: dt.datetime) -> float:
        return sum(
            m.pv_output(day + dt.timedelta(minutes=k), 11, 100.0).active_power / 4
            for k in range(0, 1440, 15)
        )

    june = statistics.mean(daily_kwh(d) for d in days(dt.datetime(2026, 6, 10, tzinfo=UTC), 10))
    december = statistics.mean(
        daily_kwh(d) for d in days(dt.datetime(2026, 12, 10, tzinfo=UTC), 10)
    )
    # a German roof: a few hundred kWh per 100 kWp on a June day, a tenth of it in December
    assert 200 < june < 800
    assert december < june / 3


# --------------------------------------------------------------------------- weather
def test_temperature_follows_the_season_and_the_day():
    def mean_temp(start: dt.datetime) -> float:
        return statistics.mean(
            m.weather(t, 11).temperature
            for day in days(start, 30)
            for t in (day + dt.timedelta(hours=h) for h in range(0, 24, 3))
        )

    january, july = (
        mean_temp(dt.datetime(2026, 1, 5, tzinfo=UTC)),
        mean_temp(dt.datetime(2026, 7, 5, tzinfo=UTC)),
    )
    assert -4 < january < 6 and 14 < july < 24 and july - january > 10
    # afternoons are warmer than the early morning (on average over a month)
    afternoon = statistics.mean(
        m.weather(at(d, 15, 2), 11).temperature
        for d in days(dt.datetime(2026, 7, 1, tzinfo=UTC), 30)
    )
    morning = statistics.mean(
        m.weather(at(d, 5, 2), 11).temperature
        for d in days(dt.datetime(2026, 7, 1, tzinfo=UTC), 30)
    )
    assert afternoon - morning > 3


def test_weather_values_stay_within_physical_bounds():
    for k in range(0, 60 * 24 * 40, 97):
        w = m.weather(MONDAY + dt.timedelta(minutes=k), 3)
        assert -25 < w.temperature < 40
        assert 0.3 <= w.relative_humidity <= 0.99
        assert w.dew_point <= w.temperature + 1e-9
        assert 960 < w.pressure < 1010
        assert w.pressure_tendency in ("raising", "falling", "steady")
        assert 0 <= w.wind_speed <= 14 and w.gust_speed >= w.wind_speed
        assert 0 <= w.wind_direction < 360
        assert 0 <= w.precipitation < 10 and 0 <= w.cloud_cover <= 1
        assert 0 <= w.solar_radiation < 1100


# --------------------------------------------------------------------------- traffic, air, noise
def test_traffic_has_weekday_rush_hours_and_quiet_nights_and_sundays():
    morning = m.traffic_demand(at(MONDAY, 7.6))
    evening = m.traffic_demand(at(MONDAY, 17.0))
    midday = m.traffic_demand(at(MONDAY, 10.0))
    night = m.traffic_demand(at(MONDAY, 3.0))
    assert morning > midday and evening > midday and midday > 3 * night
    assert m.traffic_demand(at(SUNDAY, 7.6)) < morning / 3
    assert m.traffic_demand(at(SATURDAY, 13.0)) > m.traffic_demand(at(SUNDAY, 13.0))
    # summer time: the rush hour stays at 07:36 local, which is 05:36 UTC
    june = dt.datetime(2026, 6, 15, tzinfo=UTC)  # a Monday
    assert m.traffic_demand(at(june, 7.6, offset=2)) == pytest.approx(morning, abs=0.02)


def test_no2_peaks_with_the_traffic_and_busy_streets_breathe_worse():
    def mean_no2(hour: float, exposure: float) -> float:
        weekdays = [d for d in days(dt.datetime(2026, 11, 2, tzinfo=UTC), 28) if d.weekday() < 5]
        return statistics.mean(m.air_quality(at(d, hour), 11, "s", exposure).no2 for d in weekdays)

    assert mean_no2(7.6, 1.0) > 1.5 * mean_no2(3.0, 1.0)
    assert mean_no2(17.0, 1.0) > 1.5 * mean_no2(3.0, 1.0)
    assert mean_no2(7.6, 1.0) > 1.5 * mean_no2(7.6, 0.2)


def test_air_quality_magnitudes_are_those_of_a_german_city():
    for k in range(0, 60 * 24 * 30, 61):
        q = m.air_quality(MONDAY + dt.timedelta(minutes=k), 11, "s", 1.0)
        assert 2 <= q.no2 < 200  # 1-hour limit 200 µg/m³
        assert 3 <= q.pm10 < 80 and q.pm25 < q.pm10
        assert 2 <= q.o3 < 180


def test_noise_is_quieter_at_night_and_lamax_above_laeq():
    day = m.noise_level(at(MONDAY, 11), 11, "n", 66.8)
    night = m.noise_level(at(MONDAY, 3), 11, "n", 66.8)
    assert 60 < day.laeq < 75 and day.laeq - night.laeq > 7
    assert night.laeq > 35  # never below the background
    for k in range(0, 1440, 15):
        n = m.noise_level(MONDAY + dt.timedelta(minutes=k), 11, "n", 52.6)
        assert n.laeq + 10 < n.lamax < n.laeq + 19


def test_traffic_flow_is_consistent():
    for k in range(0, 1440, 15):
        f = m.traffic_flow(MONDAY + dt.timedelta(minutes=k), 11, "road", 280, 45)
        assert 0 <= f.intensity <= 280 * 1.25
        assert 5 <= f.average_speed <= 48 and 0 <= f.occupancy <= 1
        assert f.average_headway == pytest.approx(900 / f.intensity if f.intensity else 900)


# --------------------------------------------------------------------------- parking, EV, bikes
def test_parking_fills_on_weekday_mornings_and_empties_at_night():
    def occ(day, hour):
        return m.parking_occupancy(at(day, hour), 11, "garage", (6, 24))

    assert occ(MONDAY, 11.5) > 0.7 and occ(MONDAY, 3) < 0.45
    assert occ(SUNDAY, 11.5) < occ(MONDAY, 11.5) - 0.2
    assert occ(SATURDAY, 14) > occ(SUNDAY, 14)
    share = statistics.mean(
        m.spot_occupied(at(d, 11.5) + dt.timedelta(minutes=j), 11, f"spot-{i}", 0.8)
        for d in days(MONDAY, 5)
        for i in range(20)
        for j in (0, 50, 100)
    )
    assert 0.65 < share < 0.95  # the spaces follow the car park's occupancy


def test_ev_charging_sessions_are_bounded():
    for k in range(0, 1440 * 3, 10):
        c = m.ev_charging(MONDAY + dt.timedelta(minutes=k), 11, "ev", 10, 22.0)
        assert 0 <= c.available <= 10 and c.sessions == 10 - c.available
        assert 0 <= c.power <= c.sessions * 22.0 + 1e-9
        if c.sessions == 0:
            assert c.power == 0


def test_bikes_leave_residential_stations_in_the_morning():
    def share(hour, role):
        weekdays = [d for d in days(dt.datetime(2026, 11, 2, tzinfo=UTC), 28) if d.weekday() < 5]
        return statistics.mean(m.bike_share(at(d, hour), 11, f"b{role}", role) for d in weekdays)

    assert share(12, 1.0) < share(6, 1.0) - 0.2  # residents rode away
    assert share(12, -1.0) > share(6, -1.0) + 0.2  # commuters arrived
    assert share(22, 1.0) > share(12, 1.0) + 0.2  # and came back


# --------------------------------------------------------------------------- metering
def test_the_heat_meter_counts_up_like_the_integral_of_its_power():
    anchor = dt.datetime(2026, 11, 21, 9, 45, tzinfo=UTC)
    assert m.heat_fed_in(anchor, anchor, 1000.0) == pytest.approx(1000.0)
    values = [m.heat_fed_in(anchor + dt.timedelta(hours=h), anchor, 0) for h in range(-48, 48)]
    assert all(b > a for a, b in itertools.pairwise(values))
    t = anchor + dt.timedelta(days=3, hours=5)
    numeric = sum(m.heat_power(t + dt.timedelta(minutes=i + 0.5)) / 60 for i in range(60))
    assert m.heat_fed_in(t + dt.timedelta(hours=1), anchor, 0) - m.heat_fed_in(
        t, anchor, 0
    ) == pytest.approx(numeric, rel=1e-3)
    january = m.heat_power(dt.datetime(2027, 1, 22, 12, tzinfo=UTC))
    july = m.heat_power(dt.datetime(2026, 7, 22, 12, tzinfo=UTC))
    assert january > 4 * july > 0


# --------------------------------------------------------------------------- determinism
def test_the_same_seed_and_time_give_the_same_values_and_another_seed_others():
    entities = district.load_snapshot(SNAPSHOT)
    t = dt.datetime(2026, 11, 30, 8, 7, 30, tzinfo=UTC)
    assert district.fragments(entities, t, 5) == district.fragments(entities, t, 5)
    assert district.fragments(entities, t, 5) != district.fragments(entities, t, 6)
    later = district.fragments(entities, t + dt.timedelta(minutes=20), 5)
    assert later != district.fragments(entities, t, 5)


def test_noise_helpers_are_smooth_and_uniform():
    values = [m.unit(1, "k", i) for i in range(5000)]
    assert all(0 <= v < 1 for v in values) and 0.47 < statistics.mean(values) < 0.53
    t = MONDAY
    for k in range(200):
        a = m.smooth(1, "s", t + dt.timedelta(seconds=10 * k), 600)
        b = m.smooth(1, "s", t + dt.timedelta(seconds=10 * k + 10), 600)
        assert -1 <= a <= 1 and abs(a - b) < 0.1
