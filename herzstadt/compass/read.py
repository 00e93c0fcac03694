"""What the compass pages read: bounded queries whose number does not grow with the data (one
query per kind of row, windowed histories, aggregates in the database)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, F, Prefetch, Q, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from herzstadt.compass import formulas
from herzstadt.compass.models import (
    Assessment,
    Direction,
    Goal,
    GoalIdea,
    GoalMeasure,
    Indicator,
    IndicatorValue,
    Rating,
    Value,
)
from herzstadt.core.models import City, District, Measure

#: values shown in an indicator's small trend chart (compass page) and on its own page
TREND_POINTS = 30
HISTORY_POINTS = 120
#: measures shown at most on a rating page and in the portfolio
MAX_MEASURES = 200


def describe(indicator: Indicator) -> str:
    """The formula in words, or ``""`` when it cannot be described (e.g. an invalid formula)."""
    try:
        return str(formulas.describe(indicator.formula))
    except (NotImplementedError, ValidationError, KeyError, TypeError, ValueError):
        return ""


def histories(indicator_ids: Iterable[int], points: int) -> dict[int, list[IndicatorValue]]:
    """The newest ``points`` values of each indicator, oldest first, in one query."""
    ids = list(indicator_ids)
    if not ids:
        return {}
    ranked = (
        IndicatorValue.objects.filter(indicator_id__in=ids)
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("indicator_id")], order_by=F("period_end").desc()
            )
        )
        .filter(rank__lte=points)
        .only("indicator_id", "period_start", "period_end", "value", "coverage")
    )
    found: dict[int, list[IndicatorValue]] = defaultdict(list)
    for row in ranked:
        found[row.indicator_id].append(row)
    for rows in found.values():
        rows.sort(key=lambda r: r.period_end)
    return found


def trend(indicator: Indicator, rows: list[IndicatorValue]) -> str:
    """``"better"``, ``"worse"``, ``"same"`` or ``""``: the newest value against the one before."""
    values = [r.value for r in rows if r.value is not None]
    if len(values) < 2:
        return ""
    last, before = values[-1], values[-2]
    if abs(last - before) <= 1e-9 * max(1.0, abs(before)):
        return "same"
    up = last > before
    return "better" if up == (indicator.direction == Direction.HIGHER) else "worse"


def public_indicators(city: City):
    return Indicator.objects.filter(city=city, is_public=True).select_related("district")


@dataclass
class CompassTree:
    values: list[Value]
    goals: dict[int, list[Goal]]
    indicators: dict[int, list[Indicator]]
    unassigned: list[Indicator]
    histories: dict[int, list[IndicatorValue]] = field(default_factory=dict)


def compass_tree(city: City, points: int = TREND_POINTS) -> CompassTree:
    """Values → goals → public indicators, and each indicator's recent values: five queries."""
    values = list(Value.objects.filter(city=city))
    goals = list(Goal.objects.filter(city=city).select_related("district"))
    indicators = list(
        public_indicators(city).prefetch_related(
            Prefetch("goals", queryset=Goal.objects.only("id"))
        )
    )
    by_value: dict[int, list[Goal]] = defaultdict(list)
    for g in goals:
        by_value[g.value_id].append(g)
    by_goal: dict[int, list[Indicator]] = defaultdict(list)
    unassigned = []
    for ind in indicators:
        ids = [g.id for g in ind.goals.all()]
        for gid in ids:
            by_goal[gid].append(ind)
        if not ids:
            unassigned.append(ind)
    hist = histories([i.id for i in indicators], points) if points else {}
    return CompassTree(values, dict(by_value), dict(by_goal), unassigned, hist)


# --- a measure's compass ------------------------------------------------------------------------------
@dataclass
class ValueRow:
    value: Value
    expected: float | None
    expected_n: int
    citizens: float | None
    citizens_n: int
    assessments: list[Assessment]


@dataclass
class MeasuredRow:
    indicator: Indicator
    before: float | None
    before_coverage: float | None
    after: float | None
    after_coverage: float | None

    @property
    def change(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before

    @property
    def verdict(self) -> str:
        """``"better"``, ``"worse"``, ``"same"`` or ``""``."""
        change = self.change
        if change is None:
            return ""
        if abs(change) <= 1e-9 * max(1.0, abs(self.before or 0)):
            return "same"
        return (
            "better" if (change > 0) == (self.indicator.direction == Direction.HIGHER) else "worse"
        )


def measure_compass(measure: Measure) -> tuple[list[ValueRow], list[MeasuredRow]]:
    """Per value of the city: the mean expected effect (staff's assessments of the value's goals)
    and the citizens' mean rating; and the measure's indicators before and after its start (the
    mean of the values whose period ended before the start, and of those that began after it,
    with their mean coverage). Five queries."""
    values = list(Value.objects.filter(city_id=measure.city_id))
    assessments = list(
        Assessment.objects.filter(measure=measure)
        .select_related("goal")
        .order_by("goal__position", "goal__title")
    )
    ratings = {
        row["value_id"]: row
        for row in Rating.objects.filter(measure=measure)
        .values("value_id")
        .annotate(mean=Avg("score"), n=Count("id"))
    }
    by_value: dict[int, list[Assessment]] = defaultdict(list)
    for a in assessments:
        by_value[a.goal.value_id].append(a)
    rows = []
    for v in values:
        mine = by_value.get(v.id, [])
        r = ratings.get(v.id)
        rows.append(
            ValueRow(
                value=v,
                expected=sum(a.score for a in mine) / len(mine) if mine else None,
                expected_n=len(mine),
                citizens=float(r["mean"]) if r else None,
                citizens_n=r["n"] if r else 0,
                assessments=mine,
            )
        )
    indicators = list(measure.compass_indicators.filter(is_public=True))
    measured: list[MeasuredRow] = []
    if indicators:
        start = measure.start_date
        if start is None:
            measured = [MeasuredRow(i, None, None, None, None) for i in indicators]
        else:
            when = timezone.make_aware(dt.datetime.combine(start, dt.time()))
            before = Q(period_end__lte=when, value__isnull=False)
            after = Q(period_start__gte=when, value__isnull=False)
            agg: dict[int, dict[str, Any]] = {
                row["indicator_id"]: dict(row)
                for row in IndicatorValue.objects.filter(indicator__in=indicators)
                .values("indicator_id")
                .annotate(
                    b=Avg("value", filter=before),
                    bc=Avg("coverage", filter=Q(period_end__lte=when)),
                    a=Avg("value", filter=after),
                    ac=Avg("coverage", filter=Q(period_start__gte=when)),
                )
            }
            for ind in indicators:
                row = agg.get(ind.id, {})
                measured.append(
                    MeasuredRow(ind, row.get("b"), row.get("bc"), row.get("a"), row.get("ac"))
                )
    return rows, measured


# --- the portfolio -----------------------------------------------------------------------------------
@dataclass
class PortfolioRow:
    measure: Measure
    effect: float | None
    effect_n: int
    by_value: dict[int, float]
    goals: list[Goal]
    #: the mean per value, in the order of the city's values (``None``: not assessed)
    cells: list[float | None] = field(default_factory=list)


def portfolio(
    city: City,
    values: list[Value],
    status: str = "",
    goal: Goal | None = None,
    value: Value | None = None,
) -> list[PortfolioRow]:
    """The public measures (bounded) with their mean expected effect on all goals and per value,
    and their goal tags; filtered by status, by a goal (tagged or assessed) or by a value.
    Three queries."""
    measures = Measure.objects.filter(city=city, is_public=True).select_related("field_of_action")
    if status:
        measures = measures.filter(status=status)
    if goal is not None:
        measures = measures.filter(
            Q(compass_goals=goal) | Q(compass_assessments__goal=goal)
        ).distinct()
    if value is not None:
        measures = measures.filter(
            Q(compass_goals__value=value) | Q(compass_assessments__goal__value=value)
        ).distinct()
    found = list(measures.order_by("title")[:MAX_MEASURES])
    ids = [m.id for m in found]
    per_value: dict[int, dict[int, float]] = defaultdict(dict)
    totals: dict[int, tuple[float, int]] = {}
    for row in (
        Assessment.objects.filter(measure_id__in=ids)
        .values("measure_id", "goal__value_id")
        .annotate(total=Sum("score"), n=Count("id"))
    ):
        per_value[row["measure_id"]][row["goal__value_id"]] = row["total"] / row["n"]
        t, n = totals.get(row["measure_id"], (0.0, 0))
        totals[row["measure_id"]] = (t + row["total"], n + row["n"])
    tags: dict[int, list[Goal]] = defaultdict(list)
    for gm in (
        GoalMeasure.objects.filter(measure_id__in=ids)
        .select_related("goal")
        .order_by("goal__position", "goal__title")
    ):
        tags[gm.measure_id].append(gm.goal)
    rows = []
    for m in found:
        t, n = totals.get(m.id, (0.0, 0))
        mine = per_value.get(m.id, {})
        rows.append(
            PortfolioRow(
                m, t / n if n else None, n, mine, tags[m.id], [mine.get(v.id) for v in values]
            )
        )
    return rows


# --- districts ---------------------------------------------------------------------------------------
def district_comparison(city: City) -> tuple[list[District], list[dict[str, Any]]]:
    """Columns: the districts that have public indicators (and "whole city" for those without a
    district); rows: indicators grouped by name and unit, each cell the indicator in that district.
    Two queries."""
    indicators = list(public_indicators(city).order_by("position", "name"))
    districts = sorted({i.district for i in indicators if i.district}, key=lambda d: d.name)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for ind in indicators:
        row = rows.setdefault(
            (ind.name, ind.unit), {"name": ind.tr.name, "unit": ind.unit, "cells": {}}
        )
        row["cells"][ind.district_id or 0] = ind
    table = []
    for row in rows.values():
        row["columns"] = [row["cells"].get(d.id) for d in districts] + [row["cells"].get(0)]
        table.append(row)
    return districts, table


def goal_tags_for_idea(city_id: int, idea_id: int) -> list[Goal]:
    return [
        t.goal
        for t in GoalIdea.objects.filter(city_id=city_id, idea_id=idea_id)
        .select_related("goal__value")
        .order_by("goal__value__position", "goal__position")
    ]
