"""Plain-language values and the SVG charts: pure functions, no database."""

import datetime as dt

import pytest
from django.utils import translation

from herzstadt.urbandata import charts, plain

UTC = dt.UTC


@pytest.fixture(autouse=True)
def german():
    with translation.override("de"):
        yield


def test_units_in_words_and_german_numbers():
    no2 = plain.quantity("AirQualityObserved", "no2")
    assert (
        plain.format_value(34.25, no2, "GQ") == "34,2 µg/m³"
        or plain.format_value(34.25, no2, "GQ") == "34,3 µg/m³"
    )
    assert plain.format_value(1486320, None, "KWH") == "1.486.320 kWh"
    assert plain.format_value(47.8, None, "KWT") == "47,8 kW"
    humidity = plain.quantity("WeatherObserved", "relativeHumidity")
    assert plain.format_value(0.86, humidity, "C62") == "86 %"
    assert str(plain.unit_of("GQ").words) == "Mikrogramm pro Kubikmeter"
    assert str(plain.unit_of("P1").words) == "Prozent"
    assert plain.unit_of("XYZ").symbol == "XYZ"  # unknown codes are shown as they are


def test_time_in_plain_language():
    now = dt.datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert plain.ago(now - dt.timedelta(seconds=20), now) == "gerade eben"
    assert plain.ago(now - dt.timedelta(minutes=5), now) == "vor 5 Minuten"
    assert plain.ago(now - dt.timedelta(minutes=1), now) == "vor 1 Minute"
    assert plain.ago(now - dt.timedelta(hours=3), now) == "vor 3 Stunden"
    assert plain.ago(now - dt.timedelta(days=9), now) == "vor 9 Tagen"
    # the city's time zone (Europe/Berlin, UTC+1 in November)
    assert "13:00" in plain.absolute(now) and "21. November 2026" in plain.absolute(now)
    assert plain.parse_time("2026-11-21T09:30:00Z/2026-11-21T09:45:00Z") == dt.datetime(
        2026, 11, 21, 9, 45, tzinfo=UTC
    )
    assert plain.parse_time("gestern") is None and plain.parse_time(None) is None


def test_comparison_with_eu_limits_and_noise_thresholds():
    no2 = plain.quantity("AirQualityObserved", "no2")
    below = plain.compare(no2, 34.2, None, None)
    assert below[0].level == "ok"
    assert below[0].text == "Unter 200 µg/m³ (EU-Grenzwert für das Stundenmittel)."
    assert any("40 µg/m³" in c.text and c.level == "info" for c in below)
    assert plain.compare(no2, 230, None, None)[0].level == "high"
    pm10 = plain.quantity("AirQualityObserved", "pm10")
    assert plain.compare(pm10, 51, None, None)[0].level == "high"
    assert plain.compare(pm10, 50, None, None)[0].level == "ok"
    noise = plain.quantity("NoiseLevelObserved", "LAeq")
    day = dt.datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    night = dt.datetime(2026, 11, 21, 23, 30, tzinfo=UTC)  # 00:30 in Kaiserslautern
    assert [c.level for c in plain.compare(noise, 55, day, None)] == ["ok"]
    assert [c.level for c in plain.compare(noise, 55, night, None)] == ["high"]
    assert "49 dB(A)" in plain.compare(noise, 55, night, None)[0].text
    parking = plain.quantity("OffStreetParking", "availableSpotNumber")
    share = plain.compare(parking, 131, None, 320)
    assert share[0].level == "share" and share[0].text == "131 von 320 Stellplätzen (41 %)."


def test_reading_of_an_entity():
    entity = {
        "totalSpotNumber": {"type": "Property", "value": 48},
        "availableSpotNumber": {
            "type": "Property",
            "value": 17,
            "observedAt": "2026-11-21T09:40:00Z",
            "unitCode": "C62",
        },
    }
    r = plain.reading(
        "OffStreetParking", "availableSpotNumber", entity["availableSpotNumber"], entity
    )
    assert r.text == "17" and r.when == dt.datetime(2026, 11, 21, 9, 40, tzinfo=UTC)
    assert r.comparisons[0].text == "17 von 48 Stellplätzen (35 %)."
    # not a quantity worth showing, not a number
    assert plain.reading("OffStreetParking", "name", {"value": "x"}, entity) is None
    assert plain.reading("AirQualityObserved", "no2", {"value": "high"}, entity) is None
    assert plain.reading("AirQualityObserved", "no2", {"value": True}, entity) is None


def test_nice_ticks():
    assert charts.nice_ticks(0, 37) == [0, 10, 20, 30, 40]
    assert charts.nice_ticks(0, 200) == [0, 50, 100, 150, 200]
    assert charts.nice_ticks(3, 3) == [3, 3.25, 3.5, 3.75, 4] or charts.nice_ticks(3, 3)[0] <= 3


def test_chart_maps_values_to_coordinates():
    start = dt.datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    end = start + dt.timedelta(hours=24)
    points = [
        charts.Point(start, 0.0),
        charts.Point(start + dt.timedelta(hours=12), 20.0),
        charts.Point(end, 40.0),
    ]
    chart = charts.line_chart(
        points, title="NO₂", unit="µg/m³", start=start, end=end, daily=False, refs=[(40, "EU")]
    )
    left, right = charts.LEFT, charts.WIDTH - charts.RIGHT
    bottom, top = charts.HEIGHT - charts.BOTTOM, charts.TOP
    assert chart.dots[0] == (left, bottom)  # start, 0 → left bottom
    assert chart.dots[2] == (right, top)  # end, 40 (top tick) → right top
    assert chart.dots[1] == ((left + right) / 2, (bottom + top) / 2)
    assert chart.line.startswith(f"M{left},{bottom}")
    assert [t.label for t in chart.y_ticks] == ["0", "10", "20", "30", "40"]
    # time axis every 6 hours in the city's time (13:00 UTC+1 is the first point)
    assert [t.label for t in chart.x_ticks] == ["18:00", "00:00", "06:00", "12:00"]
    assert chart.refs[0].y == top and chart.refs[0].label == "EU"
    assert len(chart.rows) == 3 and chart.rows[1].avg == "20"
    assert "niedrigster Wert 0 µg/m³" in chart.desc and "höchster Wert 40 µg/m³" in chart.desc


def test_daily_chart_has_a_band_german_dates_and_decimal_commas():
    start = dt.datetime(2026, 10, 22, 0, 0, tzinfo=UTC)
    end = start + dt.timedelta(days=30)
    points = [
        charts.Point(start + dt.timedelta(days=d), 10.5 + d, 5.25 + d, 20.75 + d) for d in range(30)
    ]
    chart = charts.line_chart(
        points, title="PM10", unit="µg/m³", start=start, end=end, daily=True, refs=[(500, "far")]
    )
    assert chart.band and len(chart.band.split()) == 60
    assert chart.x_ticks[0].label == "23.10."
    assert chart.rows[0].when == "22.10.2026" and chart.rows[0].avg == "10,5"
    assert chart.rows[0].min == "5,2" or chart.rows[0].min == "5,3"
    assert chart.refs == []  # a limit far above the values is not drawn (it would flatten them)


def test_empty_chart():
    start = dt.datetime(2026, 11, 20, tzinfo=UTC)
    chart = charts.line_chart(
        [], title="x", unit="", start=start, end=start + dt.timedelta(days=1), daily=False
    )
    assert chart.empty and not chart.line
