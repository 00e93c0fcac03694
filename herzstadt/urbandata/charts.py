"""Accessible, server-rendered SVG charts of a measured quantity over time (no JavaScript).

:func:`line_chart` turns a series of :class:`Point` (the start of a period, its mean and, for daily
values, its minimum and maximum) into a :class:`Chart`: coordinates for a line (the mean), a band
(minimum to maximum), axes with labels in the page's number and date formats, dashed lines for
reference values (e.g. an EU limit value) and the rows of the table that
``urbandata/_chart.html`` offers as the chart's text alternative.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.utils import formats, timezone
from django.utils.translation import pgettext

from herzstadt.core.templatetags.numbers import format_number

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 24, 36


@dataclass(frozen=True)
class Point:
    start: dt.datetime
    avg: float
    min: float | None = None
    max: float | None = None
    #: how many sources (entities) the values aggregate
    sources: int = 1


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str


@dataclass(frozen=True)
class Row:
    when: str
    avg: str
    min: str
    max: str


@dataclass(frozen=True)
class RefLine:
    y: float
    label: str


@dataclass
class Chart:
    title: str
    desc: str
    unit: str
    daily: bool
    width: int = WIDTH
    height: int = HEIGHT
    line: str = ""  # SVG path of the mean
    band: str = ""  # SVG polygon points, minimum to maximum
    dots: list[tuple[float, float]] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    refs: list[RefLine] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.rows

    @property
    def plot_left(self) -> int:
        return LEFT

    @property
    def plot_right(self) -> int:
        return self.width - RIGHT

    @property
    def plot_bottom(self) -> int:
        return self.height - BOTTOM


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 × 10ⁿ apart) covering ``low``…``high``."""
    if high <= low:
        high = low + 1
    raw = (high - low) / max(1, count - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value < high + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _time_label(when: dt.datetime, daily: bool) -> str:
    local = timezone.localtime(when)
    if daily:
        # e.g. "21.11." in German, "11/21" in English
        return formats.date_format(local, pgettext("chart axis: day", "n/j"))
    return formats.time_format(local, "H:i")


def _row_label(when: dt.datetime, daily: bool) -> str:
    local = timezone.localtime(when)
    if daily:
        return formats.date_format(local, "SHORT_DATE_FORMAT")
    return formats.date_format(local, "SHORT_DATETIME_FORMAT")


def line_chart(
    points: list[Point],
    *,
    title: str,
    unit: str,
    start: dt.datetime,
    end: dt.datetime,
    daily: bool,
    refs: list[tuple[float, str]] | None = None,
    decimals: int | None = None,
) -> Chart:
    """The chart of ``points`` between ``start`` and ``end`` (x: time, y: value in ``unit``)."""
    points = sorted((p for p in points if start <= p.start <= end), key=lambda p: p.start)
    chart = Chart(title=title, desc="", unit=unit, daily=daily)
    span = (end - start).total_seconds() or 1.0
    x0, x1 = LEFT, WIDTH - RIGHT
    y0, y1 = HEIGHT - BOTTOM, TOP

    def fmt(v: float | None) -> str:
        return "" if v is None else format_number(v, decimals)

    chart.rows = [
        Row(_row_label(p.start, daily), fmt(p.avg), fmt(p.min), fmt(p.max)) for p in points
    ]
    values = [p.avg for p in points]
    values += [p.min for p in points if p.min is not None]
    values += [p.max for p in points if p.max is not None]
    ref_values = [(v, label) for v, label in refs or ()]
    if not points:
        chart.desc = pgettext("chart", "No values in this period.")
        return chart
    low = min([*values, 0.0]) if min(values) >= 0 else min(values)
    high = max(values)
    # a reference is drawn only when it is within reach of the values (not 200 over values of 20)
    shown_refs = [(v, label) for v, label in ref_values if v <= high * 1.5]
    high = max([high, *(v for v, _l in shown_refs)])
    ticks = nice_ticks(low, high)
    lo, hi = ticks[0], ticks[-1]

    def x(when: dt.datetime) -> float:
        return round(x0 + (x1 - x0) * (when - start).total_seconds() / span, 1)

    def y(value: float) -> float:
        return round(y0 - (y0 - y1) * (value - lo) / ((hi - lo) or 1), 1)

    coords = [(x(p.start), y(p.avg)) for p in points]
    chart.dots = coords
    chart.line = "M" + " L".join(f"{a:g},{b:g}" for a, b in coords)
    if daily and all(p.min is not None and p.max is not None for p in points):
        upper = [f"{x(p.start):g},{y(p.max):g}" for p in points if p.max is not None]
        lower = [f"{x(p.start):g},{y(p.min):g}" for p in reversed(points) if p.min is not None]
        chart.band = " ".join(upper + lower)
    chart.y_ticks = [Tick(y(v), format_number(v)) for v in ticks]
    step = dt.timedelta(days=5) if daily else dt.timedelta(hours=6)
    first = timezone.localtime(start)
    if daily:
        first = first.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    else:
        first = first.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
        while first.hour % 6:
            first += dt.timedelta(hours=1)
    when = first
    while when <= end:
        chart.x_ticks.append(Tick(x(when), _time_label(when, daily)))
        when += step
    chart.refs = [RefLine(y(v), label) for v, label in shown_refs]
    lowest = min(points, key=lambda p: p.avg)
    highest = max(points, key=lambda p: p.avg)
    chart.desc = pgettext(
        "chart",
        "%(n)s values from %(start)s to %(end)s; lowest %(low)s %(unit)s (%(low_when)s), "
        "highest %(high)s %(unit)s (%(high_when)s), latest %(last)s %(unit)s.",
    ) % {
        "n": format_number(len(points)),
        "start": _row_label(points[0].start, daily),
        "end": _row_label(points[-1].start, daily),
        "low": fmt(lowest.avg),
        "low_when": _row_label(lowest.start, daily),
        "high": fmt(highest.avg),
        "high_when": _row_label(highest.start, daily),
        "last": fmt(points[-1].avg),
        "unit": unit,
    }
    return chart
