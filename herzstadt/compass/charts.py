"""Small server-rendered SVG charts of the compass: a line chart of an indicator's values, a radar
chart of a measure's compass, a scatter of the portfolio. Each function returns plain data (numbers
already placed in the chart's coordinates); the templates ``compass/_line_chart.html``,
``_radar_chart.html`` and ``_scatter_chart.html`` draw it with ``role="img"``, ``<title>`` and
``<desc>``, and every chart is shown beside a table with the same numbers.

The compass draws its own charts: urban data's chart module belongs to another pillar.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import formats
from django.utils.timezone import localtime


def _fmt(x: float, digits: int = 1) -> str:
    return formats.number_format(round(x, digits), digits, use_l10n=True)


def _nice_ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    """About ``n`` round numbers spanning ``[lo, hi]``."""
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    v = start
    while v <= hi + step * 0.001:
        ticks.append(round(v, 10))
        v += step
    return ticks


@dataclass
class LineChart:
    width: int = 640
    height: int = 220
    plot_left: int = 56
    plot_right: int = 628
    plot_top: int = 14
    plot_bottom: int = 186
    paths: list[str] = field(default_factory=list)
    dots: list[tuple[float, float]] = field(default_factory=list)
    y_ticks: list[dict[str, Any]] = field(default_factory=list)
    x_ticks: list[dict[str, Any]] = field(default_factory=list)
    target_y: float | None = None
    empty: bool = True


def line_chart(
    points: Sequence[tuple[dt.datetime, float | None]], target: float | None = None
) -> LineChart:
    """``points`` (period end, value or ``None`` for a period without data) in time order; a gap
    breaks the line."""
    chart = LineChart()
    values = [v for _t, v in points if v is not None]
    if not values:
        return chart
    chart.empty = False
    lo, hi = min(values), max(values)
    if target is not None:
        lo, hi = min(lo, target), max(hi, target)
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    ticks = _nice_ticks(lo, hi)
    lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])
    t0 = points[0][0].timestamp()
    t1 = points[-1][0].timestamp()
    span = (t1 - t0) or 1.0
    w = chart.plot_right - chart.plot_left
    h = chart.plot_bottom - chart.plot_top

    def x(t: dt.datetime) -> float:
        if t1 == t0:
            return chart.plot_left + w / 2
        return round(chart.plot_left + (t.timestamp() - t0) / span * w, 1)

    def y(v: float) -> float:
        return round(chart.plot_bottom - (v - lo) / (hi - lo) * h, 1)

    chart.y_ticks = [{"pos": y(t), "label": _fmt(t, 1 if abs(t) < 10 else 0)} for t in ticks]
    segment: list[str] = []
    for t, v in points:
        if v is None:
            if segment:
                chart.paths.append("M" + " L".join(segment))
            segment = []
            continue
        segment.append(f"{x(t)},{y(v)}")
        chart.dots.append((x(t), y(v)))
    if segment:
        chart.paths.append("M" + " L".join(segment))
    if target is not None:
        chart.target_y = y(target)
    picks = {0, len(points) - 1, (len(points) - 1) // 2}
    chart.x_ticks = [
        {"pos": x(points[i][0]), "label": formats.date_format(localtime(points[i][0]), "d.m.")}
        for i in sorted(picks)
    ]
    return chart


def _wrap(label: str, width: int = 18) -> list[str]:
    """A label in at most two lines of about ``width`` characters (the table has it whole)."""
    words, lines, line = label.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    if len(lines) > 2:
        lines = [lines[0], " ".join(lines[1:])]
    return [x if len(x) <= width + 4 else x[: width + 3] + "…" for x in lines]


@dataclass
class RadarChart:
    size: int = 360
    centre: float = 180
    radius: float = 120
    axes: list[dict[str, Any]] = field(default_factory=list)
    rings: list[dict[str, Any]] = field(default_factory=list)
    series: list[dict[str, Any]] = field(default_factory=list)
    empty: bool = True


SCORE_MIN, SCORE_MAX = -2.0, 2.0


def radar_chart(
    labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[float | None]]]
) -> RadarChart:
    """One axis per label (a value of the city), scores −2 … +2 outwards; ``series`` are
    ``(key, label, scores)``. A series with a missing score is drawn as points only."""
    chart = RadarChart()
    n = len(labels)
    if n == 0:
        return chart
    c, r = chart.centre, chart.radius

    def pos(i: int, score: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * i / n
        d = (score - SCORE_MIN) / (SCORE_MAX - SCORE_MIN) * r
        return round(c + d * math.cos(angle), 1), round(c + d * math.sin(angle), 1)

    for i, label in enumerate(labels):
        ex, ey = pos(i, SCORE_MAX)
        lx, ly = pos(i, SCORE_MAX + 0.55)
        anchor = "middle" if abs(lx - c) < 8 else ("start" if lx > c else "end")
        lines = _wrap(label)
        chart.axes.append(
            {
                "x2": ex,
                "y2": ey,
                "lx": lx,
                "ly": round(ly - 7 * (len(lines) - 1), 1),
                "anchor": anchor,
                "lines": lines,
            }
        )
    for score in (-2, -1, 0, 1, 2):
        pts = " ".join(f"{x},{y}" for x, y in (pos(i, score) for i in range(n)))
        lx, ly = pos(0, score)
        chart.rings.append(
            {"points": pts, "label": f"{score:+d}" if score else "0", "lx": lx + 4, "ly": ly}
        )
    for key, label, scores in series:
        placed = [pos(i, s) for i, s in enumerate(scores) if s is not None]
        if not placed:
            continue
        chart.empty = False
        complete = len(placed) == n and n > 2
        chart.series.append(
            {
                "key": key,
                "label": label,
                "points": " ".join(f"{x},{y}" for x, y in placed) if complete else "",
                "dots": placed,
            }
        )
    return chart


@dataclass
class ScatterChart:
    width: int = 640
    height: int = 300
    plot_left: int = 64
    plot_right: int = 624
    plot_top: int = 14
    plot_bottom: int = 262
    zero_y: float = 0
    dots: list[dict[str, Any]] = field(default_factory=list)
    x_ticks: list[dict[str, Any]] = field(default_factory=list)
    y_ticks: list[dict[str, Any]] = field(default_factory=list)
    empty: bool = True


def scatter_chart(points: Sequence[tuple[str, float, float, str]]) -> ScatterChart:
    """``points``: ``(label, cost in €, expected effect −2 … +2, status)``."""
    chart = ScatterChart()
    if not points:
        return chart
    chart.empty = False
    top = max(p[1] for p in points) or 1.0
    xt = _nice_ticks(0, top)
    hi = max(top, xt[-1])
    w = chart.plot_right - chart.plot_left
    h = chart.plot_bottom - chart.plot_top

    def x(v: float) -> float:
        return round(chart.plot_left + v / hi * w, 1)

    def y(v: float) -> float:
        return round(chart.plot_bottom - (v - SCORE_MIN) / (SCORE_MAX - SCORE_MIN) * h, 1)

    chart.zero_y = y(0)
    chart.x_ticks = [{"pos": x(t), "label": _fmt(t / 1000, 0)} for t in xt]
    chart.y_ticks = [{"pos": y(t), "label": f"{t:+d}" if t else "0"} for t in (-2, -1, 0, 1, 2)]
    for label, cost, effect, status in points:
        chart.dots.append({"x": x(cost), "y": y(effect), "label": label, "status": status})
    return chart
