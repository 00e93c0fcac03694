"""The compass's SVG chart geometry: gaps break the line, the target line, radar positions for
−2 … +2, scatter placement, label wrapping."""

from __future__ import annotations

import datetime as dt

from herzstadt.compass import charts
from tests.conftest import DATABASE_INDEPENDENT

pytestmark = DATABASE_INDEPENDENT

T0 = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def _pts(values):
    return [(T0 + dt.timedelta(days=i), v) for i, v in enumerate(values)]


def test_line_chart_breaks_at_gaps_and_draws_the_target():
    c = charts.line_chart(_pts([10.0, 20.0, None, 30.0, 40.0]), target=25.0)
    assert not c.empty
    assert len(c.paths) == 2 and len(c.dots) == 4
    assert c.plot_top <= c.target_y <= c.plot_bottom
    ys = [y for _x, y in c.dots]
    assert ys == sorted(ys, reverse=True)  # rising values go up
    assert c.dots[0][0] == c.plot_left and c.dots[-1][0] == c.plot_right


def test_line_chart_without_values_is_empty():
    assert charts.line_chart(_pts([None, None])).empty
    assert charts.line_chart([]).empty


def test_line_chart_with_one_constant_value():
    c = charts.line_chart(_pts([5.0]))
    assert len(c.dots) == 1 and c.y_ticks


def test_radar_positions():
    r = charts.radar_chart(
        ["A", "B", "C", "D"], [("expected", "E", [2, 0, -2, None]), ("citizens", "C", [1, 1, 1, 1])]
    )
    exp, cit = r.series
    # top axis, +2: the full radius above the centre; −2 sits in the centre
    assert exp["dots"][0] == (r.centre, r.centre - r.radius)
    assert exp["dots"][2] == (r.centre, r.centre)
    assert exp["points"] == ""  # a missing score: points only
    assert cit["points"] and len(cit["dots"]) == 4
    assert charts.radar_chart(["A"], [("expected", "E", [None])]).empty


def test_scatter_places_cost_and_effect():
    s = charts.scatter_chart([("a", 0.0, -2.0, "idea"), ("b", 100_000.0, 2.0, "done")])
    a, b = s.dots
    assert a["x"] == s.plot_left and a["y"] == s.plot_bottom
    assert b["y"] == s.plot_top and b["x"] <= s.plot_right
    assert s.plot_top < s.zero_y < s.plot_bottom


def test_labels_wrap_into_two_lines():
    assert charts._wrap("Datenschutz und Selbstbestimmung") == [
        "Datenschutz und",
        "Selbstbestimmung",
    ]
    assert len(charts._wrap("eins zwei drei vier fünf sechs sieben acht neun zehn")) == 2
