"""Accessible charts as inline SVG, drawn on the server (no JavaScript, no chart library).

Each chart is an ``<svg role="img">`` named by its ``<title>`` and described by its ``<desc>``; the page
shows the same numbers in a ``<table>`` next to it. The content security policy forbids inline style
attributes, so everything is drawn with SVG presentation attributes (``fill=``, ``stroke=``); colours
come with a second cue (line dash and marker shape) for people who cannot tell them apart.
Every text is escaped.
"""

from __future__ import annotations

import math

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from herzstadt.core.templatetags.numbers import format_number

INK = "#1b1b1f"
MUTED = "#4a4a55"
GRID = "#cfcfd6"
#: Series colours (each >= 4.5:1 on white) with a dash pattern and a marker shape as second cue.
SERIES = [
    ("#8a1538", "", "circle"),
    ("#1d4f91", "6 4", "square"),
    ("#1f6b35", "2 3", "triangle"),
    ("#8a4b00", "10 3 2 3", "diamond"),
]
FONT = 'font-family="system-ui, sans-serif"'


def nice_max(value: float) -> float:
    """A round upper end for an axis: 1, 2, 2.5, 5 or 10 times a power of ten, at least ``value``."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def whole_axis(value: float, max_steps: int = 4) -> tuple[int, int]:
    """(top, step) of an axis of counts: whole-number steps (1, 2, 5, 10, 20, 25, 50, …), at most
    ``max_steps`` of them, the top at least ``value`` — never "2.5 ideas"."""
    step = 1
    while step * max_steps < value:
        power = 10 ** math.floor(math.log10(step))
        for factor in (2, 2.5, 5, 10):
            candidate = factor * power
            if candidate > step and float(candidate).is_integer():
                step = int(candidate)
                break
    return max(step, step * math.ceil(value / step)), step


def _fmt(value: float) -> str:
    """A number in the active language ("2,5" in German), grouped ("1.203")."""
    return format_number(value)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _open(chart_id: str, width: int, height: int, title: str, desc: str) -> list[str]:
    cid = escape(chart_id)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{cid}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="{cid}-title {cid}-desc">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(desc)}</desc>',
    ]


def bar_chart(
    items: list[tuple[str, float]], *, chart_id: str, title: str, desc: str, unit: str = ""
) -> SafeString:
    """Horizontal bars, one per ``(label, value)``, labelled with their value (and ``unit``)."""
    row, label_w, bar_w, pad = 30, 220, 340, 8
    width = label_w + bar_w + 90
    height = pad * 2 + row * max(len(items), 1)
    top = nice_max(max((v for _l, v in items), default=0))
    out = _open(chart_id, width, height, title, desc)
    out.append(f'<g {FONT} font-size="13" fill="{INK}">')
    for i, (label, value) in enumerate(items):
        y = pad + i * row
        length = bar_w * value / top if top else 0
        out.append(
            f'<text x="{label_w - 8}" y="{y + 19}" text-anchor="end">{escape(_clip(str(label), 30))}</text>'
        )
        out.append(
            f'<rect x="{label_w}" y="{y + 5}" width="{_num(length)}" height="{row - 10}" '
            f'fill="{SERIES[0][0]}"/>'
        )
        out.append(
            f'<text x="{_num(label_w + length + 6)}" y="{y + 19}">{escape(_fmt(value) + unit)}</text>'
        )
    out.append(
        f'<line x1="{label_w}" y1="{pad}" x2="{label_w}" y2="{height - pad}" stroke="{MUTED}" stroke-width="1"/>'
    )
    out.append("</g></svg>")
    return mark_safe("".join(out))  # every text above is escaped


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "square":
        return (
            f'<rect x="{_num(x - 3.5)}" y="{_num(y - 3.5)}" width="7" height="7" fill="{colour}"/>'
        )
    if shape == "triangle":
        return (
            f'<polygon points="{_num(x)},{_num(y - 4.5)} {_num(x - 4.5)},{_num(y + 3.5)} '
            f'{_num(x + 4.5)},{_num(y + 3.5)}" fill="{colour}"/>'
        )
    if shape == "diamond":
        return (
            f'<polygon points="{_num(x)},{_num(y - 5)} {_num(x + 5)},{_num(y)} {_num(x)},{_num(y + 5)} '
            f'{_num(x - 5)},{_num(y)}" fill="{colour}"/>'
        )
    return f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3.5" fill="{colour}"/>'


def line_chart(
    labels: list[str],
    series: list[tuple[str, list[float]]],
    *,
    chart_id: str,
    title: str,
    desc: str,
    max_ticks: int = 7,
) -> SafeString:
    """Lines over a shared x axis (e.g. days), with a legend, gridlines and at most ``max_ticks``
    labels on the x axis (the table next to the chart has every value)."""
    left, right, top_pad, bottom = 48, 16, 16, 72
    plot_w, plot_h = 600, 220
    width, height = left + plot_w + right, top_pad + plot_h + bottom
    highest = max((v for _n, values in series for v in values), default=0)
    top: float
    step: float
    if all(float(v).is_integer() for _n, values in series for v in values):
        top, step = whole_axis(highest)  # counts: whole numbers on the axis
    else:
        top = nice_max(highest)
        step = top / 4
    count = len(labels)

    def x_of(i: int) -> float:
        return left + (plot_w / 2 if count == 1 else plot_w * i / (count - 1))

    def y_of(v: float) -> float:
        return top_pad + plot_h - plot_h * v / top

    out = _open(chart_id, width, height, title, desc)
    out.append(f'<g {FONT} font-size="12" fill="{INK}">')
    for k in range(round(top / step) + 1):  # horizontal gridlines and the y axis labels
        value = step * k
        y = y_of(value)
        out.append(
            f'<line x1="{left}" y1="{_num(y)}" x2="{left + plot_w}" y2="{_num(y)}" stroke="{GRID}" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{_num(y + 4)}" text-anchor="end">{escape(_fmt(value))}</text>'
        )
    if count:
        step = max(1, math.ceil(count / max_ticks))
        ticks = list(range(0, count, step))
        if ticks[-1] != count - 1 and count - 1 - ticks[-1] >= step / 2:
            ticks.append(count - 1)
        for i in ticks:
            out.append(
                f'<text x="{_num(x_of(i))}" y="{top_pad + plot_h + 18}" text-anchor="middle">'
                f"{escape(labels[i])}</text>"
            )
    out.append(
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" y2="{top_pad + plot_h}" '
        f'stroke="{MUTED}" stroke-width="1"/>'
    )
    for n, (name, values) in enumerate(series):
        colour, dash, shape = SERIES[n % len(SERIES)]
        points = [(x_of(i), y_of(v)) for i, v in enumerate(values)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        if len(points) > 1:
            path = " ".join(f"{_num(x)},{_num(y)}" for x, y in points)
            out.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"{dash_attr}/>'
            )
        if len(points) <= 62:
            out.extend(_marker(shape, x, y, colour) for x, y in points)
        # legend
        lx, ly = left + n * 160, height - 18
        out.append(
            f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 28}" y2="{ly - 4}" stroke="{colour}" stroke-width="2.5"{dash_attr}/>'
        )
        out.append(_marker(shape, lx + 14, ly - 4, colour))
        out.append(f'<text x="{lx + 34}" y="{ly}">{escape(name)}</text>')
    out.append("</g></svg>")
    return mark_safe("".join(out))  # every text above is escaped
