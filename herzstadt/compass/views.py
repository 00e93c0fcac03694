"""The public compass pages (``/kompass/…``): the city's compass, an indicator, a goal, a measure's
compass, the portfolio of measures, the comparison of districts, and the CSV/JSON exports.
Server-rendered; the charts are SVG with a table beside them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from herzstadt.compass import charts, read
from herzstadt.compass.models import Goal, Indicator, IndicatorValue, Value
from herzstadt.core.models import City, Measure, MeasureStatus
from herzstadt.participation import api as participation

#: rows of an indicator's export read from the database at a time
EXPORT_CHUNK = 2000


def _city(request: HttpRequest) -> City:
    city = request.city  # type: ignore[attr-defined]
    if not city:
        raise Http404(_("No city has been set up yet."))
    return city


def _light_label(light: str) -> str:
    return {
        "green": _("target reached"),
        "amber": _("close to the target"),
        "red": _("target missed"),
    }.get(light, _("no assessment"))


def _card(indicator: Indicator, rows: list[IndicatorValue]) -> dict[str, Any]:
    light = indicator.light()
    return {
        "indicator": indicator,
        "light": light,
        "light_label": _light_label(light),
        "trend": read.trend(indicator, rows),
        "chart": charts.line_chart([(r.period_end, r.value) for r in rows], indicator.target),
        "rows": rows,
    }


@require_safe
def compass(request: HttpRequest) -> HttpResponse:
    city = _city(request)
    tree = read.compass_tree(city)
    cards = {
        i.id: _card(i, tree.histories.get(i.id, []))
        for group in (*tree.indicators.values(), tree.unassigned)
        for i in group
    }
    sections = [
        {
            "value": v,
            "goals": [
                {
                    "goal": g,
                    # an indicator may measure several goals: each card's ids are its own
                    "cards": [
                        {**cards[i.id], "uid": f"{g.slug}-{i.slug}"}
                        for i in tree.indicators.get(g.id, [])
                    ],
                }
                for g in tree.goals.get(v.id, [])
            ],
        }
        for v in tree.values
    ]
    lights = [c["light"] for c in cards.values()]
    return render(
        request,
        "compass/compass.html",
        {
            "sections": sections,
            "unassigned": [cards[i.id] for i in tree.unassigned],
            "indicator_total": len(cards),
            "counts": {k: lights.count(k) for k in ("green", "amber", "red", "")},
            "rating_processes": participation.open_processes(city, "compass.rate"),
        },
    )


def _public_indicator(city: City, slug: str) -> Indicator:
    return get_object_or_404(read.public_indicators(city), slug=slug)


@require_safe
def indicator(request: HttpRequest, slug: str) -> HttpResponse:
    city = _city(request)
    ind = _public_indicator(city, slug)
    rows = read.histories([ind.id], read.HISTORY_POINTS).get(ind.id, [])
    card = _card(ind, rows)
    return render(
        request,
        "compass/indicator.html",
        {
            "card": card,
            "indicator": ind,
            "rows_desc": list(reversed(rows)),
            "formula_text": read.describe(ind),
            "goals": list(ind.goals.select_related("value")),
            "measures": list(ind.measures.filter(is_public=True).only("slug", "title", "city_id")),
        },
    )


@require_safe
def goal(request: HttpRequest, slug: str) -> HttpResponse:
    city = _city(request)
    the_goal = get_object_or_404(
        Goal.objects.select_related("value", "district"), city=city, slug=slug
    )
    tree_rows = read.histories(
        [i.id for i in the_goal.indicators.filter(is_public=True)], read.TREND_POINTS
    )
    indicators = list(the_goal.indicators.filter(is_public=True).select_related("district"))
    measures = list(
        Measure.objects.filter(city=city, is_public=True, compass_goals=the_goal).order_by("title")[
            : read.MAX_MEASURES
        ]
    )
    idea_ids = list(the_goal.idea_tags.values_list("idea_id", flat=True)[: read.MAX_MEASURES])
    return render(
        request,
        "compass/goal.html",
        {
            "goal": the_goal,
            "cards": [_card(i, tree_rows.get(i.id, [])) for i in indicators],
            "measures": measures,
            "ideas": participation.published_ideas(city, idea_ids),
        },
    )


def _radar(rows: list[read.ValueRow]) -> charts.RadarChart:
    return charts.radar_chart(
        [str(r.value.tr.name) for r in rows],
        [
            ("expected", _("Expected (city staff)"), [r.expected for r in rows]),
            ("citizens", _("Citizens' rating"), [r.citizens for r in rows]),
        ],
    )


@require_safe
def measure(request: HttpRequest, slug: str) -> HttpResponse:
    city = _city(request)
    the_measure = get_object_or_404(Measure.objects.filter(city=city, is_public=True), slug=slug)
    rows, measured = read.measure_compass(the_measure)
    return render(
        request,
        "compass/measure.html",
        {
            "measure": the_measure,
            "rows": rows,
            "radar": _radar(rows),
            "measured": measured,
            "goal_tags": list(the_measure.compass_goals.order_by("position", "title")),
        },
    )


@require_safe
def portfolio(request: HttpRequest) -> HttpResponse:
    city = _city(request)
    values = list(Value.objects.filter(city=city))
    goals = list(Goal.objects.filter(city=city))
    status = request.GET.get("status", "")
    if status not in MeasureStatus.values:
        status = ""
    the_goal = next((g for g in goals if g.slug == request.GET.get("goal")), None)
    the_value = next((v for v in values if v.slug == request.GET.get("value")), None)
    rows = read.portfolio(city, values, status=status, goal=the_goal, value=the_value)
    scatter = charts.scatter_chart(
        [
            (r.measure.title, float(r.measure.budget_eur), r.effect, r.measure.status)
            for r in rows
            if r.effect is not None and r.measure.budget_eur is not None
        ]
    )
    return render(
        request,
        "compass/portfolio.html",
        {
            "rows": rows,
            "values": values,
            "goals": goals,
            "statuses": MeasureStatus.choices,
            "status": status,
            "the_goal": the_goal,
            "the_value": the_value,
            "scatter": scatter,
            "filtered": bool(status or the_goal or the_value),
        },
    )


@require_safe
def districts(request: HttpRequest) -> HttpResponse:
    city = _city(request)
    columns, table = read.district_comparison(city)
    for row in table:
        row["cells_list"] = [
            {
                "indicator": i,
                "light": i.light() if i else "",
                "label": _light_label(i.light()) if i else "",
            }
            for i in row["columns"]
        ]
    return render(request, "compass/districts.html", {"districts": columns, "table": table})


# --- exports -----------------------------------------------------------------------------------------
def _num(x: float | None) -> Any:
    return None if x is None else round(x, 6)


def _iso(x: Any) -> str | None:
    return x.isoformat() if x else None


def _indicator_json(ind: Indicator) -> dict[str, Any]:
    return {
        "slug": ind.slug,
        "name": ind.name,
        "unit": ind.unit,
        "reference": ind.reference,
        "direction": ind.direction,
        "target": ind.target,
        "warning": ind.warning,
        "period": ind.period,
        "district": ind.district.slug if ind.district else None,
        "value": _num(ind.last_value),
        "coverage": _num(ind.last_coverage),
        "period_end": _iso(ind.last_period_end),
        "light": ind.light() or None,
        "formula": ind.formula,
    }


@require_safe
def compass_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The city's public indicators with their newest values (one row each)."""
    city = _city(request)
    indicators = list(read.public_indicators(city).prefetch_related("goals"))
    if fmt == "json":
        body = {
            "city": city.slug,
            "indicators": [
                {**_indicator_json(i), "goals": [g.slug for g in i.goals.all()]} for i in indicators
            ],
        }
        response = HttpResponse(
            json.dumps(body, ensure_ascii=False, indent=1), content_type="application/json"
        )
    else:
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(
            [
                "slug",
                "name",
                "unit",
                "reference",
                "direction",
                "target",
                "warning",
                "period",
                "district",
                "value",
                "coverage",
                "period_end",
                "light",
                "goals",
            ]
        )
        for i in indicators:
            j = _indicator_json(i)
            w.writerow(
                [
                    j["slug"],
                    j["name"],
                    j["unit"],
                    j["reference"],
                    j["direction"],
                    j["target"],
                    j["warning"],
                    j["period"],
                    j["district"] or "",
                    j["value"],
                    j["coverage"],
                    j["period_end"] or "",
                    j["light"] or "",
                    " ".join(g.slug for g in i.goals.all()),
                ]
            )
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="kompass-{city.slug}.{fmt}"'
    return response


def _value_rows(ind: Indicator) -> Iterator[tuple[Any, ...]]:
    qs = (
        IndicatorValue.objects.filter(indicator=ind)
        .order_by("period_end")
        .values_list("period_start", "period_end", "value", "coverage", "computed_at")
    )
    yield from qs.iterator(chunk_size=EXPORT_CHUNK)


def _csv_stream(ind: Indicator) -> Iterator[str]:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["period_start", "period_end", "value", "coverage", "computed_at"])
    for start, end, value, coverage, computed in _value_rows(ind):
        w.writerow(
            [
                start.isoformat(),
                end.isoformat(),
                "" if value is None else value,
                coverage,
                computed.isoformat(),
            ]
        )
        if out.tell() > 32_000:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _json_stream(ind: Indicator) -> Iterator[str]:
    head = json.dumps(_indicator_json(ind), ensure_ascii=False)
    yield head[:-1] + ', "values": ['
    first = True
    for start, end, value, coverage, computed in _value_rows(ind):
        item = json.dumps(
            {
                "period_start": start.isoformat(),
                "period_end": end.isoformat(),
                "value": value,
                "coverage": coverage,
                "computed_at": computed.isoformat(),
            }
        )
        yield item if first else "," + item
        first = False
    yield "]}"


@require_safe
def indicator_export(request: HttpRequest, slug: str, fmt: str) -> StreamingHttpResponse:
    """Every computed value of a public indicator, streamed (the memory does not grow with it)."""
    city = _city(request)
    ind = _public_indicator(city, slug)
    if fmt == "json":
        response = StreamingHttpResponse(_json_stream(ind), content_type="application/json")
    else:
        response = StreamingHttpResponse(_csv_stream(ind), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{ind.slug}.{fmt}"'
    return response
