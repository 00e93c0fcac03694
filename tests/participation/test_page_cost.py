"""Pages whose cost does not grow with the data (issue 10, finding 11): the same number of queries and
about the same HTML for 50 and for 500 ideas; the GeoJSON of the map is one query, cached, with an ETag."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from herzstadt.participation.models import Category, Idea
from tests.conftest import login

pytestmark = pytest.mark.django_db


def add_ideas(process, author, n: int, point) -> None:
    """``n`` ideas: every other one with a point, each fifth in a category, each tenth hidden."""
    categories = list(Category.objects.filter(process=process))
    start = Idea.objects.filter(process=process).count()
    Idea.objects.bulk_create(
        Idea(
            city=process.city,
            process=process,
            author=author,
            title=f"Idee {start + i}",
            body="Eine Idee für das Quartier. " * 5,
            lon=point[0] if i % 2 else None,
            lat=point[1] if i % 2 else None,
            category=categories[i % len(categories)] if i % 5 == 0 else None,
            hidden_at=timezone.now() if i % 10 == 9 else None,
            support_count=i % 7,
        )
        for i in range(n)
    )


def measure(client, path: str) -> tuple[int, int, bytes]:
    """(queries, bytes, body) of one GET (after a first GET that fills the per-worker caches)."""
    client.get(path)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(queries), len(response.content), response.content


@pytest.mark.parametrize("signed_in", [False, True])
def test_process_page_costs_the_same_for_50_and_500_ideas(
    client, process, make_user, point_inside, signed_in
):
    author = make_user()
    login(client, make_user() if signed_in else None)
    pages = [
        process.get_absolute_url(),
        process.get_absolute_url() + "?page=2",
        process.get_absolute_url() + "?status=received&sort=supports",
        "/beteiligung/",
    ]
    add_ideas(process, author, 50, point_inside)
    small = {page: measure(client, page) for page in pages}
    add_ideas(process, author, 450, point_inside)
    large = {page: measure(client, page) for page in pages}
    for page in pages:
        assert large[page][0] == small[page][0], (page, small[page][0], large[page][0])
        assert large[page][0] <= 20, page
        # the page shows 20 ideas, whatever the total: only numbers (counts, page links) differ
        assert abs(large[page][1] - small[page][1]) < 400, (page, small[page][1], large[page][1])
    html = large[process.get_absolute_url()][2].decode()
    assert html.count('class="card idea-card"') == 20
    assert "Idee 498" in html and "Idee 477" in html and "Idee 476" not in html  # one page
    assert "450 Ideen" in large["/beteiligung/"][2].decode()  # 500 minus the 50 hidden ones


def test_map_data_on_the_page_is_only_the_district(client, process, make_user, point_inside):
    add_ideas(process, make_user(), 30, point_inside)
    response = client.get(process.get_absolute_url())
    data = response.context["map_data"]
    assert [f["properties"].get("kind") for f in data["features"]] != []
    assert all(f["properties"].get("kind") != "idea" for f in data["features"])
    assert response.context["ideas_geojson_url"] in response.content.decode()


def test_ideas_geojson_is_one_query_cached_and_has_an_etag(
    client, process, make_user, point_inside
):
    add_ideas(process, make_user(), 40, point_inside)
    path = f"/api/v1/processes/{process.slug}/ideas.geojson"
    with CaptureQueriesContext(connection) as queries:
        first = client.get(path)
    # the city, the process, the ideas (the city is then cached)
    assert len(queries) == 3, [q["sql"] for q in queries]
    data = json.loads(first.content)
    visible_with_point = Idea.objects.filter(
        process=process, hidden_at__isnull=True, lon__isnull=False
    )
    assert len(data["features"]) == visible_with_point.count() == 16
    feature = data["features"][0]
    newest = visible_with_point.order_by("-created_at", "-id").first()
    assert feature["properties"]["url"] == newest.get_absolute_url()
    assert feature["properties"]["status_label"] == "eingegangen"
    etag = first["ETag"]
    with CaptureQueriesContext(connection) as queries:
        again = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert len(queries) == 1  # the process; the ideas come from the cache
    # a new idea clears the cache: a new ETag, the new point
    add_ideas(process, make_user(), 2, point_inside)
    Idea.objects.filter(process=process).latest("id").save()
    changed = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert len(json.loads(changed.content)["features"]) == 17


def test_city_is_resolved_from_the_cache(client, process):
    client.get("/beteiligung/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/beteiligung/")
    assert not any('"core_city"' in q["sql"] for q in queries)
    # saving the city clears the cache: the page shows the new name at once
    process.city.name = "Lautern"
    process.city.save()
    assert "Lautern" in client.get("/beteiligung/").content.decode()
