"""Statistics: exact numbers on a small fixture, survey aggregation, accessible server-side charts."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from herzstadt.participation import services
from herzstadt.participation.backoffice import charts
from herzstadt.participation.backoffice.stats import process_stats, survey_results
from herzstadt.participation.models import Comment, Idea, Question, Support, Survey, SurveyResponse
from tests.conftest import login
from tests.participation.backoffice.conftest import bo_url

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


def at(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2025, 5, day, hour, 0, tzinfo=BERLIN)


@pytest.fixture
def activity(process, make_user):
    anna, bert, carl, dora, eva = (
        make_user(name=n) for n in ("Anna", "Bert", "Carl", "Dora", "Eva")
    )
    idea1 = services.post_idea(anna, process, title="Eins", body="x")
    idea2 = services.post_idea(bert, process, title="Zwei", body="y")
    comment = services.add_comment(carl, idea1, "Gute Idee")
    services.add_comment(anna, idea1, "Danke")  # anna again: still one participant
    services.support(dora, idea1)
    services.support(anna, idea2)
    Idea.objects.filter(pk=idea1.pk).update(created_at=at(1, 0))  # just after midnight, local time
    Idea.objects.filter(pk=idea2.pk).update(created_at=at(3), hidden_at=at(4), hidden_reason="x")
    Comment.objects.filter(idea=idea1).update(created_at=at(3, 23))  # late evening, local time
    Support.objects.filter(idea=idea1).update(created_at=at(1))
    Support.objects.filter(idea=idea2).update(created_at=at(3))
    Comment.objects.filter(pk=comment.pk).update(created_at=at(3, 23))
    survey = Survey.objects.create(city=process.city, process=process, title="U")
    q = Question.objects.create(
        city=process.city, survey=survey, kind="rating", text="Wie?", scale_max=5
    )
    SurveyResponse.objects.create(
        city=process.city, survey=survey, user=eva, answers={str(q.pk): 4}
    )
    SurveyResponse.objects.create(
        city=process.city, survey=survey, token_hash="t1", answers={str(q.pk): 2}
    )
    return {"survey": survey}


def test_process_stats_are_exact(process, activity):
    stats = process_stats(process)
    assert stats["participants"] == 5  # Anna, Bert, Carl, Dora, Eva
    assert stats["anonymous_responses"] == 1 and stats["responses"] == 2
    assert (stats["ideas"], stats["ideas_hidden"], stats["comments"], stats["supports"]) == (
        2,
        1,
        2,
        2,
    )
    assert [(d["day"].day, d["ideas"], d["comments"], d["supports"]) for d in stats["days"]] == [
        (1, 1, 0, 1),
        (2, 0, 0, 0),
        (3, 1, 2, 1),
    ]
    received = next(s for s in stats["by_status"] if s["status"] == "received")
    assert received["count"] == 2


def test_survey_results(process):
    survey = Survey.objects.create(city=process.city, process=process, title="S")
    mk = lambda **kw: Question.objects.create(city=process.city, survey=survey, **kw)  # noqa: E731
    single = mk(kind="single", text="Eins?", choices=["a", "b", "c"], position=1)
    multi = mk(kind="multiple", text="Mehrere?", choices=["a", "b"], position=2)
    rating = mk(kind="rating", text="Note?", scale_max=5, position=3)
    text = mk(kind="text", text="Sonst?", position=4)
    s, m, r, t = (str(q.pk) for q in (single, multi, rating, text))
    for answers in (
        {s: "a", m: ["a", "b"], r: 4, t: "Gut"},
        {s: "b", m: ["b"], r: 2, t: " "},
        {s: 0, m: [], r: "5"},
        {s: "weg", r: 9},
    ):
        SurveyResponse.objects.create(city=process.city, survey=survey, answers=answers)
    results = survey_results(survey)
    assert [x["id"] for x in results] == [single.pk, multi.pk, rating.pk, text.pk]
    one, many, rate, free = results
    assert all(x["total"] == 4 for x in results)
    assert one["answered"] == 4
    assert [(c["label"], c["count"], c["percent"]) for c in one["choices"]] == [
        ("a", 2, 50.0),
        ("b", 1, 25.0),
        ("c", 0, 0.0),
        ("weg", 1, 25.0),
    ]
    assert many["answered"] == 2 and [
        (c["label"], c["count"], c["percent"]) for c in many["choices"]
    ] == [
        ("a", 1, 50.0),
        ("b", 2, 100.0),
    ]
    assert rate["answered"] == 3 and rate["mean"] == 3.67
    assert [d["count"] for d in rate["distribution"]] == [0, 1, 0, 1, 1]
    assert free["texts"] == ["Gut"] and free["answered"] == 1
    assert one["mean"] is None and one["texts"] == [] and free["choices"] == []


def test_charts_are_accessible_svg_without_style():
    svg = charts.bar_chart([("<script>", 3), ("b", 1)], chart_id="c1", title="T & t", desc="D")
    assert (
        svg.startswith("<svg")
        and 'role="img"' in svg
        and 'aria-labelledby="c1-title c1-desc"' in svg
    )
    assert '<title id="c1-title">T &amp; t</title>' in svg and '<desc id="c1-desc">D</desc>' in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "style=" not in svg
    line = charts.line_chart(
        ["1.5.", "2.5."],
        [("Ideen", [1, 3]), ("Kommentare", [0, 2])],
        chart_id="c2",
        title="T",
        desc="D",
    )
    assert (
        "style=" not in line and line.count("<polyline") == 2 and 'stroke-dasharray="6 4"' in line
    )
    assert charts.nice_max(7) == 10 and charts.nice_max(0) == 1 and charts.nice_max(3) == 5


def _axis_labels(svg: str) -> list[str]:
    import re

    return re.findall(r'text-anchor="end">([^<]*)</text>', svg)


def test_count_axes_are_whole_numbers_in_the_pages_language():
    """Issue 10: the axis said "2.5 / 7.5" (half an idea, English decimals) on a German page."""
    assert [charts.whole_axis(v) for v in (0, 1, 3, 7, 10, 31, 90, 1203)] == [
        (1, 1),
        (1, 1),
        (3, 1),
        (8, 2),
        (10, 5),
        (40, 10),
        (100, 25),
        (1500, 500),
    ]
    with translation.override("de"):
        line = charts.line_chart(
            ["1.5.", "2.5."],
            [("Ideen", [1, 9]), ("Kommentare", [0, 2])],
            chart_id="c3",
            title="T",
            desc="D",
        )
        big = charts.line_chart(["1.5."], [("Ideen", [1203])], chart_id="c4", title="T", desc="D")
        bars = charts.bar_chart([("a", 2.5), ("b", 1203)], chart_id="c5", title="T", desc="D")
    assert _axis_labels(line) == ["0", "5", "10"]
    assert _axis_labels(big) == ["0", "500", "1.000", "1.500"]
    assert ">2,5</text>" in bars and ">1.203</text>" in bars
    with translation.override("en"):
        bars = charts.bar_chart([("a", 2.5), ("b", 1203)], chart_id="c5", title="T", desc="D")
    assert ">2.5</text>" in bars and ">1,203</text>" in bars


def test_statistics_page(client, process, activity, actors):
    login(client, actors["staff"])
    response = client.get(bo_url("statistics", slug=process.slug))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('role="img"') >= 3  # per day, by status, the rating question
    assert not re.search(r"<svg[^>]*style=", html) and " style=" not in html
    assert '<span class="stat-number">5</span>' in html
    assert "<table" in html and "<caption" in html
    assert "3,0" in html or "3.0" in html  # mean of the rating (4 + 2) / 2
