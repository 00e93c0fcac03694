"""Rows of a small compass for the page tests: values, goals, indicators with computed values,
measures with assessments (no formula is computed: the values are written as the worker would)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from herzstadt.compass.models import Assessment, Goal, GoalMeasure, Indicator, IndicatorValue, Value
from herzstadt.core.models import City, District
from tests.factories import make_measure

_n = itertools.count(1)

FORMULA = {"kind": "constant", "value": 1}


def make_value(city: City, name: str = "Klima und Umwelt", **fields: Any) -> Value:
    n = next(_n)
    return Value.objects.create(city=city, slug=f"wert-{n}", name=name, position=n, **fields)


def make_goal(value: Value, title: str = "Saubere Luft im Pfaff-Areal", **fields: Any) -> Goal:
    n = next(_n)
    return Goal.objects.create(
        city=value.city, value=value, slug=f"ziel-{n}", title=title, position=n, **fields
    )


def make_indicator(
    city: City, name: str = "NO2-Jahresmittel", goals=(), values=(), **fields: Any
) -> Indicator:
    """With ``values`` (floats or None), one per day ending today at noon UTC."""
    n = next(_n)
    fields.setdefault("unit", "µg/m³")
    fields.setdefault("target", 20.0)
    fields.setdefault("warning", 40.0)
    ind = Indicator.objects.create(
        city=city, slug=fields.pop("slug", f"indikator-{n}"), name=name, formula=FORMULA, **fields
    )
    ind.goals.set(goals)
    end = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    rows = []
    for i, v in enumerate(values):
        period_end = end - dt.timedelta(days=len(values) - 1 - i)
        rows.append(
            IndicatorValue(
                city=city,
                indicator=ind,
                period_start=period_end - dt.timedelta(days=1),
                period_end=period_end,
                value=v,
                coverage=0.0 if v is None else 0.9,
                computed_at=period_end,
            )
        )
    IndicatorValue.objects.bulk_create(rows)
    if rows:
        last = rows[-1]
        Indicator.objects.filter(pk=ind.pk).update(
            last_value=last.value,
            last_coverage=last.coverage,
            last_period_end=last.period_end,
            last_computed_at=last.computed_at,
        )
        ind.refresh_from_db()
    return ind


def assess(measure, goal: Goal, score: int, reason: str = "Weil.") -> Assessment:
    return Assessment.objects.create(
        city=measure.city, measure=measure, goal=goal, score=score, reason=reason
    )


def tag(measure, goal: Goal) -> GoalMeasure:
    return GoalMeasure.objects.create(city=measure.city, measure=measure, goal=goal)


def small_compass(city: City) -> dict[str, Any]:
    """Two values, three goals, four indicators (one in the Pfaff-Areal), two assessed measures."""
    pfaff = District.objects.get(city=city, slug="pfaff-areal")
    climate = make_value(city, "Klima und Umwelt")
    people = make_value(city, "Der Mensch im Mittelpunkt", ls_name="Menschen zuerst")
    air = make_goal(climate, "Saubere Luft")
    heat = make_goal(climate, "Weniger Hitze")
    share = make_goal(people, "Teilhabe")
    no2 = make_indicator(city, "NO2-Mittel", goals=[air], values=[30.0, None, 25.0, 18.0])
    no2_pfaff = make_indicator(city, "NO2-Mittel", goals=[air], values=[35.0, 42.0], district=pfaff)
    hot = make_indicator(
        city, "Heiße Tage", goals=[heat], values=[3, 4], unit="Tage", target=2, warning=5
    )
    pv = make_indicator(
        city, "PV-Ertrag", values=[10.0, 12.0], unit="kWh", direction="higher", target=None
    )
    bikes = make_measure(city, slug="leihraeder", title="Leihräder", budget_eur=50000)
    trees = make_measure(city, slug="baeume", title="Bäume", budget_eur=120000, status="planned")
    assess(bikes, air, 2, "Weniger Autoverkehr.")
    assess(bikes, share, 1, "Für alle.")
    assess(trees, heat, 2, "Schatten.")
    tag(bikes, air)
    no2.measures.add(bikes)
    return locals()
