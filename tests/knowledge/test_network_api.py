"""The network API: index, paginated catalogue with ETag/Last-Modified, one record, reports."""

from __future__ import annotations

import orjson
import pytest
from django.utils.http import http_date

from herzstadt.core import registry
from herzstadt.core.models import CityRole
from herzstadt.knowledge.models import Reuse
from herzstadt.knowledge.network import keys
from tests.factories import make_city
from tests.knowledge.netfactories import shared_measure, solingen

pytestmark = pytest.mark.django_db


def _get(client, path, **headers):
    return client.get(path, headers=headers)


@pytest.fixture
def sol():
    city = solingen()
    shared_measure(city)
    shared_measure(city, slug="hitzeaktionsplan", title="Hitzeaktionsplan")
    shared_measure(city, slug="geheim", title="Nicht geteilt", shared=False)
    shared_measure(city, slug="entwurf", title="Nicht öffentlich", is_public=False)
    return city


@pytest.fixture
def throwaway_part():
    """A TransferPart registered for the test only (the parts of the other pillars are not
    needed here)."""
    part = registry.TransferPart(
        key="test-part",
        label="Test part",
        export=lambda m: {"slug": m.slug} if m.slug == "mobilitaetsstation" else None,
        adopt=lambda m, data, user: "nothing",
    )
    pillar = registry.Pillar(name="network-test-part", transfer_parts=(part,))
    registry.register(pillar)
    yield part
    registry.unregister(pillar.name)


def test_index_lists_hosted_cities_only(client, sol):
    make_city(slug="cottbus", name="Cottbus", role=CityRole.PARTNER)
    r = _get(client, "/api/v1/network/")
    assert r.status_code == 200
    data = orjson.loads(r.content)
    assert data["apiVersion"] == "1"
    assert [c["slug"] for c in data["cities"]] == ["solingen"]
    assert data["cities"][0]["measures"] == "http://testserver/api/v1/network/solingen/measures/"


def test_catalogue_serves_shared_public_measures_with_all_fields(client, sol, throwaway_part):
    r = _get(client, "/api/v1/network/solingen/measures/")
    assert r.status_code == 200 and r["Content-Type"] == "application/json"
    data = orjson.loads(r.content)
    assert data["total"] == 2 and data["next"] is None and data["prev"] is None
    titles = [i["title"] for i in data["items"]]
    assert titles == ["Hitzeaktionsplan", "Mobilitätsstation"]
    rec = data["items"][1]
    assert rec["id"] == "http://testserver/api/v1/network/solingen/measures/mobilitaetsstation/"
    assert rec["city"] == {"slug": "solingen", "name": "Solingen", "ags": "05122000"}
    assert rec["phase"] == "pilot" and rec["entity_types"] == ["ParkingSpot"]
    assert rec["cost_investment_eur"] == "120000.00"
    assert rec["milestones"] == [
        {"date": "2024-03-01", "title": "Ausschreibung", "done": False},
        {"date": "2024-09-01", "title": "Eröffnung", "done": True},
    ]
    assert rec["parts"] == {"test-part": {"slug": "mobilitaetsstation"}}
    assert data["items"][0]["parts"] == {}  # export None → left out
    assert rec["provenance"] is None and rec["reuses"] == []
    assert rec["reuses_url"].endswith("/mobilitaetsstation/reuses/")


def test_catalogue_without_any_part(client, sol):
    rec = orjson.loads(
        _get(client, "/api/v1/network/solingen/measures/mobilitaetsstation/").content
    )
    assert all(k in rec for k in ("title", "summary", "goals", "status", "field_of_action"))
    assert "test-part" not in rec["parts"]


def test_pagination_links(client, sol):
    r = _get(client, "/api/v1/network/solingen/measures/?limit=1")
    data = orjson.loads(r.content)
    assert len(data["items"]) == 1 and data["total"] == 2
    assert data["next"] == "http://testserver/api/v1/network/solingen/measures/?page=2&limit=1"
    second = orjson.loads(_get(client, data["next"]).content)
    assert second["items"][0]["title"] == "Mobilitätsstation" and second["next"] is None
    assert second["prev"].endswith("page=1&limit=1")
    assert _get(client, "/api/v1/network/solingen/measures/?limit=0").status_code == 400
    assert _get(client, "/api/v1/network/solingen/measures/?page=x").status_code == 400


def test_etag_and_last_modified_give_304_until_something_changes(client, sol):
    url = "/api/v1/network/solingen/measures/"
    r = _get(client, url)
    etag, modified = r["ETag"], r["Last-Modified"]
    assert _get(client, url, If_None_Match=etag).status_code == 304
    assert _get(client, url, If_Modified_Since=modified).status_code == 304
    assert _get(client, url, If_Modified_Since=http_date(0)).status_code == 200
    measure = sol.measure_set.get(slug="hitzeaktionsplan")
    measure.title = "Hitzeaktionsplan 2025"
    measure.save()
    assert _get(client, url, If_None_Match=etag).status_code == 200
    # also the second page's validators cover the whole catalogue
    page2 = _get(client, url + "?page=2&limit=1")
    measure.profile.problem = "neu"
    measure.profile.save()
    assert _get(client, url + "?page=2&limit=1", If_None_Match=page2["ETag"]).status_code == 200


def test_unknown_city_or_measure_is_problem_json(client, sol):
    make_city(slug="cottbus", name="Cottbus", role=CityRole.PARTNER)
    for path in (
        "/api/v1/network/nirgendwo/measures/",
        "/api/v1/network/cottbus/measures/",
        "/api/v1/network/solingen/measures/gibtsnicht/",
        "/api/v1/network/solingen/measures/geheim/",
        "/api/v1/network/solingen/measures/entwurf/",
    ):
        r = _get(client, path)
        assert r.status_code == 404, path
        assert r["Content-Type"] == "application/problem+json"
        assert orjson.loads(r.content)["status"] == 404


REPORT = {
    "city": "Kaiserslautern",
    "installation": "https://herzstadt.kaiserslautern.de",
    "measure_url": "https://herzstadt.kaiserslautern.de/wissen/mobilstation/",
    "title": "Mobilstation Pfaff",
    "origin_version": 1,
    "adopted_at": "2026-11-30T10:00:00Z",
}


def _post(
    client, body, key=None, path="/api/v1/network/solingen/measures/mobilitaetsstation/reuses/"
):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    data = body if isinstance(body, (bytes, str)) else orjson.dumps(body)
    return client.post(path, data=data, content_type="application/json", headers=headers)


def test_report_needs_a_key_of_the_origin_city(client, sol):
    r = _post(client, REPORT)
    assert r.status_code == 401 and "Bearer" in r["WWW-Authenticate"]
    assert _post(client, REPORT, "hzn_wrong").status_code == 401
    other = make_city(slug="wolfsburg", name="Wolfsburg")
    _row, foreign = keys.issue(other, "Kaiserslautern")
    r = _post(client, REPORT, foreign)
    assert r.status_code == 403 and r["Content-Type"] == "application/problem+json"
    row, key = keys.issue(sol, "Kaiserslautern")
    keys.revoke(row)
    assert _post(client, REPORT, key).status_code == 401
    assert not Reuse.objects.exists()


def test_report_is_validated_and_idempotent(client, sol):
    row, key = keys.issue(sol, "Kaiserslautern")
    assert row.key_hash != key and len(row.key_hash) == 64 and key.startswith("hzn_")
    for bad in (
        b"nicht json",
        b"[]",
        {**REPORT, "measure_url": "javascript:alert(1)"},
        {**REPORT, "measure_url": "ftp://example.org/x"},
        {**REPORT, "installation": "https://user:pw@example.org/"},
        {**REPORT, "city": ""},
        {**REPORT, "origin_version": "eins"},
        {**REPORT, "adopted_at": "gestern"},
    ):
        r = _post(client, bad, key)
        assert r.status_code == 400, bad
        assert r["Content-Type"] == "application/problem+json"
    assert not Reuse.objects.exists()
    r = _post(client, REPORT, key)
    assert r.status_code == 201
    r = _post(client, {**REPORT, "title": "Mobilstation am Pfaff"}, key)
    assert r.status_code == 200
    reuse = Reuse.objects.get()
    assert reuse.adopted_title == "Mobilstation am Pfaff" and reuse.city == sol
    assert reuse.origin_version == 1 and reuse.adopted_at.year == 2026
    row.refresh_from_db()
    assert row.last_used_at is not None
    rec = orjson.loads(
        _get(client, "/api/v1/network/solingen/measures/mobilitaetsstation/").content
    )
    assert rec["reuses"][0]["city"] == "Kaiserslautern"
    unknown = "/api/v1/network/solingen/measures/geheim/reuses/"
    assert _post(client, REPORT, key, path=unknown).status_code == 404


def test_report_rejects_get_and_big_bodies(client, sol):
    _row, key = keys.issue(sol, "Kaiserslautern")
    path = "/api/v1/network/solingen/measures/mobilitaetsstation/reuses/"
    assert client.get(path).status_code == 405
    big = {**REPORT, "title": "x" * 20000}
    assert _post(client, big, key).status_code == 413


def test_a_catalogue_page_costs_the_same_whatever_the_catalogue_holds(
    client, django_assert_max_num_queries
):
    """Each worker builds the records once (they cost queries per measure); a page then costs a
    fixed number of queries however many measures the city shares, until something changes."""
    city = solingen()
    for n in range(12):
        shared_measure(city, slug=f"m{n}", title=f"Maßnahme {n}")
    first = _get(client, "/api/v1/network/solingen/measures/?limit=5")
    assert first.status_code == 200 and orjson.loads(first.content)["total"] == 12
    for page in (1, 2, 3):
        with django_assert_max_num_queries(2):  # the city's look-up, nothing per measure
            r = _get(client, f"/api/v1/network/solingen/measures/?limit=5&page={page}")
        assert r.status_code == 200
    # a change is seen at once (the worker's cache is cleared), and the validators move
    profile = city.measure_set.get(slug="m3").profile
    profile.problem = "Neu beschrieben."
    profile.save()
    again = _get(client, "/api/v1/network/solingen/measures/?limit=5")
    assert again["ETag"] != first["ETag"]
    items = orjson.loads(_get(client, "/api/v1/network/solingen/measures/?limit=20").content)
    assert {i["slug"]: i["problem"] for i in items["items"]}["m3"] == "Neu beschrieben."
