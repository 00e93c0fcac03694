"""The public compass pages: what they show (values → goals → indicators, traffic lights in words,
Leichte Sprache, a measure's compass, the portfolio and its filters, districts), the exports, that
foreign or private rows stay out, and that the number of queries does not grow with the data."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from herzstadt.compass import read
from tests.compass.ui_factories import assess, make_goal, make_indicator, small_compass
from tests.factories import make_measure

pytestmark = pytest.mark.django_db


def url(name: str, **kwargs) -> str:
    with translation.override("de"):
        return reverse(f"compass:{name}", kwargs=kwargs or None)


def test_german_addresses():
    assert url("home") == "/kompass/"
    assert url("indicator-csv", slug="no2") == "/kompass/indikatoren/no2.csv"
    assert url("indicator-json", slug="no2") == "/kompass/indikatoren/no2.json"


def test_compass_page_shows_values_goals_indicators_and_lights(client, city):
    c = small_compass(city)
    response = client.get(url("home"))
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("Klima und Umwelt", "Saubere Luft", "Weniger Hitze", "NO2-Mittel", "PV-Ertrag"):
        assert text in html
    # 18 ≤ 20 → green, in words and with an icon; the Pfaff-Areal's 42 > 40 → red
    assert "Ziel erreicht" in html or "target reached" in html
    assert 'class="compass-light light-green"' in html and 'class="compass-light light-red"' in html
    assert html.count('role="img"') >= 4  # one trend chart per indicator with values
    assert (c["pv"].name in html and "Weitere Indikatoren" in html) or "Further indicators" in html


def test_compass_page_in_leichte_sprache(client, city):
    small_compass(city)
    client.cookies["herzstadt_ls"] = "1"
    html = client.get(url("home")).content.decode()
    assert "Menschen zuerst" in html


def test_compass_page_queries_do_not_grow(client, city, django_assert_max_num_queries):
    c = small_compass(city)
    client.get(url("home"))
    with django_assert_max_num_queries(30) as few:
        client.get(url("home"))
    for i in range(6):
        make_indicator(city, f"Mehr {i}", goals=[c["air"]], values=[1.0, 2.0, 3.0])
    make_goal(c["climate"], "Noch ein Ziel")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url("home")).status_code == 200


def test_trend_window_is_bounded(city):
    ind = make_indicator(city, values=[float(i) for i in range(50)])
    rows = read.histories([ind.id], read.TREND_POINTS)[ind.id]
    assert len(rows) == read.TREND_POINTS
    assert rows[-1].value == 49.0 and rows[0].value == 50.0 - read.TREND_POINTS


def test_indicator_page_history_table_coverage_and_reference(client, city):
    c = small_compass(city)
    ind = c["no2"]
    ind.reference = "ISO 37120:2018 8.3"
    ind.explanation = "Stickstoffdioxid aus dem Verkehr."
    ind.save()
    response = client.get(url("indicator", slug=ind.slug))
    html = response.content.decode()
    assert response.status_code == 200
    assert "ISO 37120:2018 8.3" in html and "Stickstoffdioxid aus dem Verkehr." in html
    assert "<table" in html and "<title" in html and "<desc" in html
    assert "keine Daten" in html or "no data" in html  # the gap is a row, not dropped
    assert "90 %" in html


def test_private_and_foreign_indicators_are_404(client, city, other_city):
    c = small_compass(city)
    c["no2"].is_public = False
    c["no2"].save()
    assert client.get(url("indicator", slug=c["no2"].slug)).status_code == 404
    assert client.get(url("indicator-csv", slug=c["no2"].slug)).status_code == 404
    foreign = make_indicator(other_city, "Fremd", values=[1.0])
    assert client.get(url("indicator", slug=foreign.slug)).status_code == 404
    assert "Fremd" not in client.get(url("home")).content.decode()


def test_indicator_exports(client, city):
    c = small_compass(city)
    ind = c["no2"]
    response = client.get(url("indicator-csv", slug=ind.slug))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["period_start", "period_end", "value", "coverage", "computed_at"]
    assert [r[2] for r in rows[1:]] == ["30.0", "", "25.0", "18.0"]
    response = client.get(url("indicator-json", slug=ind.slug))
    body = json.loads(b"".join(response.streaming_content))
    assert body["slug"] == ind.slug and body["unit"] == "µg/m³"
    assert [v["value"] for v in body["values"]] == [30.0, None, 25.0, 18.0]
    assert body["light"] == "green"


def test_compass_exports(client, city):
    small_compass(city)
    body = json.loads(client.get(url("export-json")).content)
    assert len(body["indicators"]) == 4
    text = client.get(url("export-csv")).content.decode()
    assert text.splitlines()[0].startswith("slug,name,unit")
    assert len(text.strip().splitlines()) == 5


def test_goal_page_lists_indicators_measures_and_ideas(client, city, process):
    from herzstadt.compass.models import GoalIdea
    from herzstadt.participation.models import Idea

    c = small_compass(city)
    idea = Idea.objects.create(city=city, process=process, title="Mehr Bäume", body="Bitte.")
    hidden = Idea.objects.create(
        city=city, process=process, title="Versteckt", body="x", hidden_at=timezone.now()
    )
    for i in (idea, hidden):
        GoalIdea.objects.create(city=city, goal=c["air"], idea_id=i.pk)
    html = client.get(url("goal", slug=c["air"].slug)).content.decode()
    assert "NO2-Mittel" in html and "Leihräder" in html and "Mehr Bäume" in html
    assert "Versteckt" not in html
    # the idea's page shows the goal
    idea_html = client.get(idea.get_absolute_url()).content.decode()
    assert "Saubere Luft" in idea_html


def test_measure_compass_expected_citizens_and_measured(client, city, make_user):
    from herzstadt.compass.models import Rating

    c = small_compass(city)
    bikes = c["bikes"]
    bikes.start_date = (timezone.now() - dt.timedelta(days=2)).date()
    bikes.save()
    for score in (1, 2):
        Rating.objects.create(
            city=city, measure=bikes, value=c["people"], user=make_user(), score=score
        )
    rows, measured = read.measure_compass(bikes)
    by_name = {r.value.name: r for r in rows}
    assert by_name["Klima und Umwelt"].expected == 2.0
    assert by_name["Der Mensch im Mittelpunkt"].expected == 1.0
    assert by_name["Der Mensch im Mittelpunkt"].citizens == 1.5
    assert by_name["Klima und Umwelt"].citizens is None
    (m,) = measured
    assert m.before == 30.0 and m.after == pytest.approx(21.5)
    assert m.verdict == "better"  # lower is better for NO2
    html = client.get(url("measure", slug=bikes.slug)).content.decode()
    assert 'role="img"' in html and "Weniger Autoverkehr." in html and "<table" in html
    # the panel on the core measure page
    html = client.get(bikes.get_absolute_url()).content.decode()
    assert 'id="compass-title"' in html and "Saubere Luft" in html


def test_measure_panel_absent_without_values(client, city):
    m = make_measure(city, slug="ohne", title="Ohne Kompass")
    html = client.get(m.get_absolute_url()).content.decode()
    assert 'id="compass-title"' not in html


def test_portfolio_and_filters(client, city, django_assert_max_num_queries):
    c = small_compass(city)
    html = client.get(url("portfolio")).content.decode()
    assert "Leihräder" in html and "Bäume" in html and 'role="img"' in html
    html = client.get(url("portfolio"), {"status": "planned"}).content.decode()
    assert "Bäume" in html and "Leihräder" not in html
    html = client.get(url("portfolio"), {"goal": c["air"].slug}).content.decode()
    assert "Leihräder" in html and ">Bäume<" not in html
    html = client.get(
        url("portfolio"), {"value": c["people"].slug, "status": "nonsense"}
    ).content.decode()
    assert "Leihräder" in html and ">Bäume<" not in html
    rows = read.portfolio(city, [c["climate"], c["people"]])
    by_slug = {r.measure.slug: r for r in rows}
    assert by_slug["leihraeder"].effect == 1.5
    assert by_slug["leihraeder"].cells == [2.0, 1.0]
    with django_assert_max_num_queries(20) as few:
        client.get(url("portfolio"))
    for i in range(5):
        m = make_measure(city, slug=f"m{i}", title=f"M{i}", budget_eur=1000 * i)
        assess(m, c["air"], 1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url("portfolio"))


def test_districts_comparison(client, city):
    small_compass(city)
    html = client.get(url("districts")).content.decode()
    assert "Pfaff-Areal" in html and "NO2-Mittel" in html
    assert html.count("NO2-Mittel") == 1  # one row for the same indicator in two areas


def test_pages_without_any_compass(client, city):
    for name in ("home", "portfolio", "districts"):
        assert client.get(url(name)).status_code == 200
