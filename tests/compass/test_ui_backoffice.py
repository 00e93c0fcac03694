"""The back-office section "Kompass": who may use it; values, goals (with measure and idea tags),
indicators (formula validated; "compute now"), assessments per measure — all within the city."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from herzstadt.compass import formulas, services
from herzstadt.compass.models import (
    Assessment,
    Goal,
    GoalIdea,
    GoalMeasure,
    Indicator,
    IndicatorValue,
    Value,
)
from tests.compass.ui_factories import make_goal, make_value
from tests.conftest import bo_url, login
from tests.factories import make_measure

pytestmark = pytest.mark.django_db


@pytest.fixture
def valid_formulas(monkeypatch):
    """The formula module's validation (another part builds it): a formula needs a ``kind``."""

    def validate(spec):
        if not isinstance(spec, dict) or "kind" not in spec:
            raise ValidationError("Die Formel braucht eine Art (kind).")
        return spec

    monkeypatch.setattr(formulas, "validate", validate)


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 302),
        ("citizen", 403),
        ("moderator", 403),
        ("staff", 200),
        ("other_staff", 403),
    ],
)
def test_who_may_use_the_section(client, actors, city, actor, expected):
    value = make_value(city)
    measure = make_measure(city)
    login(client, actors[actor])
    for name, kwargs in (
        ("compass", {}),
        ("compass-value", {"pk": value.pk}),
        ("compass-goal-create", {}),
        ("compass-indicator-create", {}),
        ("compass-assess", {"slug": measure.slug}),
    ):
        assert client.get(bo_url(name, **kwargs)).status_code == expected, name
    response = client.post(
        bo_url("compass-value-create"), {"name": "X", "slug": "x", "position": 1}
    )
    assert response.status_code == (302 if expected == 200 else expected)
    assert Value.objects.filter(slug="x").exists() == (expected == 200)


def test_staff_cannot_reach_another_citys_rows(client, actors, city, other_city):
    foreign = make_value(other_city)
    login(client, actors["staff"])
    assert client.get(bo_url("compass-value", pk=foreign.pk)).status_code == 404


def test_goal_with_measure_and_idea_tags(client, actors, city, process, other_city):
    from herzstadt.participation.models import Idea

    value = make_value(city)
    measure = make_measure(city)
    idea = Idea.objects.create(city=city, process=process, title="Idee", body="Text")
    login(client, actors["staff"])
    data = {
        "value": value.pk,
        "title": "Saubere Luft",
        "slug": "luft",
        "position": 1,
        "measures": [measure.pk],
        "ideas": f"{idea.pk}",
    }
    assert client.post(bo_url("compass-goal-create"), data).status_code == 302
    goal = Goal.objects.get(slug="luft")
    assert goal.city == city
    assert list(GoalMeasure.objects.filter(goal=goal).values_list("measure_id", "city_id")) == [
        (measure.pk, city.pk)
    ]
    assert list(GoalIdea.objects.values_list("idea_id", flat=True)) == [idea.pk]
    # an unknown idea number is named, nothing is saved
    response = client.post(
        bo_url("compass-goal", pk=goal.pk), {**data, "ideas": f"{idea.pk}, 999999"}
    )
    assert response.status_code == 400 and "999999" in response.content.decode()
    # removing the tags
    client.post(bo_url("compass-goal", pk=goal.pk), {**data, "measures": [], "ideas": ""})
    assert not GoalMeasure.objects.exists() and not GoalIdea.objects.exists()
    # a foreign value cannot be chosen
    foreign = make_value(other_city)
    response = client.post(
        bo_url("compass-goal-create"), {**data, "slug": "f", "value": foreign.pk}
    )
    assert response.status_code == 400


def test_indicator_formula_is_validated(client, actors, city, valid_formulas):
    login(client, actors["staff"])
    data = {
        "name": "NO2",
        "slug": "no2",
        "unit": "µg/m³",
        "direction": "lower",
        "target": "20",
        "period": "P1D",
        "schedule_minutes": "15",
        "position": "1",
        "is_public": "on",
    }
    for bad, message in (("{nope", "JSON"), ('{"x": 1}', "kind")):
        response = client.post(bo_url("compass-indicator-create"), {**data, "formula": bad})
        assert response.status_code == 400 and message in response.content.decode()
    response = client.post(
        bo_url("compass-indicator-create"),
        {**data, "period": "daily", "formula": '{"kind": "constant"}'},
    )
    assert response.status_code == 400
    response = client.post(
        bo_url("compass-indicator-create"), {**data, "formula": '{"kind": "constant", "value": 3}'}
    )
    assert response.status_code == 302
    ind = Indicator.objects.get(slug="no2")
    assert ind.formula == {"kind": "constant", "value": 3} and ind.city == city
    page = client.get(bo_url("compass-indicator", pk=ind.pk)).content.decode()
    assert json.dumps(ind.formula, indent=2).splitlines()[1].strip() in page.replace("&quot;", '"')


def test_compute_now(client, actors, city, monkeypatch):
    from django.utils import timezone

    ind = Indicator.objects.create(city=city, slug="x", name="X", formula={"kind": "constant"})

    def compute(indicator, now=None):
        now = timezone.now()
        return IndicatorValue.objects.create(
            city=city,
            indicator=indicator,
            period_start=now,
            period_end=now,
            value=4.0,
            coverage=1.0,
            computed_at=now,
        )

    monkeypatch.setattr(services, "compute_indicator", compute)
    login(client, actors["staff"])
    assert client.get(bo_url("compass-indicator-compute", pk=ind.pk)).status_code == 405
    response = client.post(bo_url("compass-indicator-compute", pk=ind.pk), follow=True)
    assert "4.0" in response.content.decode() or "4,0" in response.content.decode()

    def broken(indicator, now=None):
        raise RuntimeError("broker unreachable")

    monkeypatch.setattr(services, "compute_indicator", broken)
    response = client.post(bo_url("compass-indicator-compute", pk=ind.pk), follow=True)
    assert response.status_code == 200 and "broker unreachable" in response.content.decode()


def test_assessment_per_goal_with_reason_and_tags(client, actors, city):
    value = make_value(city)
    air, heat = make_goal(value, "Luft"), make_goal(value, "Hitze")
    measure = make_measure(city)
    login(client, actors["staff"])
    url = bo_url("compass-assess", slug=measure.slug)
    response = client.post(url, {f"score_{air.pk}": "2", f"reason_{air.pk}": ""})
    assert response.status_code == 400 and not Assessment.objects.exists()
    response = client.post(
        url,
        {
            f"score_{air.pk}": "2",
            f"reason_{air.pk}": "Weniger Autos.",
            f"tag_{air.pk}": "on",
            f"score_{heat.pk}": "-1",
            f"reason_{heat.pk}": "Versiegelung.",
        },
    )
    assert response.status_code == 302
    assert {(a.goal_id, a.score, a.reason, a.author_id) for a in Assessment.objects.all()} == {
        (air.pk, 2, "Weniger Autos.", actors["staff"].pk),
        (heat.pk, -1, "Versiegelung.", actors["staff"].pk),
    }
    assert list(GoalMeasure.objects.values_list("goal_id", flat=True)) == [air.pk]
    client.post(url, {f"score_{air.pk}": "", f"score_{heat.pk}": "1", f"reason_{heat.pk}": "Neu."})
    assert list(Assessment.objects.values_list("goal_id", "score")) == [(heat.pk, 1)]
    assert not GoalMeasure.objects.exists()
    response = client.post(url, {f"score_{heat.pk}": "3", f"reason_{heat.pk}": "x"})
    assert response.status_code == 400
