"""Exports: CSV safe against formula injection, open data without personal data or hidden content,
GeoJSON with longitude first."""

import csv
import io
import json

import pytest

from herzstadt.participation import services
from herzstadt.participation.backoffice.exports import csv_safe
from herzstadt.participation.models import Idea
from tests.conftest import login
from tests.participation.backoffice.conftest import bo_url

pytestmark = pytest.mark.django_db

PAYLOADS = ['=HYPERLINK("http://evil.example","klick")', "@SUM(1)", "-2+3", "+cmd", "\tTab", "\rCR"]


@pytest.fixture
def content(world, process, make_user, actors):
    """Besides the world: an idea without a point with formula payloads, a hidden idea, a hidden comment."""
    mallory = make_user(name="=Mallory")
    evil = services.post_idea(
        mallory, process, title=PAYLOADS[0], body="@SUM(1)", location_text="-2+3"
    )
    services.add_comment(mallory, evil, "+cmd")
    secret = services.post_idea(
        world["anna"], process, title="Geheimer Titel", body="Geheimer Text"
    )
    services.hide(actors["moderator"], secret, "Persönliche Daten")
    services.hide(actors["moderator"], world["comment"], "Beleidigung")
    return {"evil": evil, "secret": secret, **world}


def rows(response):
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM"
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_safe():
    for payload in PAYLOADS:
        assert csv_safe(payload) == "'" + payload
    assert (
        csv_safe("Normal") == "Normal"
        and csv_safe(-2.5) == -2.5
        and csv_safe(None) == ""
        and csv_safe(True) == "true"
    )


def test_internal_csv(client, content, actors):
    login(client, actors["staff"])
    response = client.get(bo_url("export", slug=content["process"].slug, fmt="csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="test-pfaff-contributions-internal.csv"'
    )
    data = rows(response)
    by_title = {r["title"]: r for r in data if r["type"] == "idea"}
    evil = by_title["'" + PAYLOADS[0]]
    assert evil["text"] == "'@SUM(1)" and evil["place"] == "'-2+3" and evil["author"] == "'=Mallory"
    assert evil["lon"] == "" and evil["lat"] == ""
    comment = next(
        r for r in data if r["type"] == "comment" and r["idea_id"] == str(content["evil"].pk)
    )
    assert comment["text"] == "'+cmd"
    # every cell is safe
    for row in data:
        for value in row.values():
            assert (
                not value
                or value[0] not in "=+-@\t\r"
                or value.lstrip("-").replace(".", "", 1).isdigit()
            )
    # internal: hidden content with its flag and reason, authors, reports
    secret = by_title["Geheimer Titel"]
    assert (
        secret["hidden"] == "true"
        and secret["hidden_reason"] == "Persönliche Daten"
        and secret["author"] == "Anna"
    )
    assert by_title["Trinkbrunnen"]["reports"] == "1"
    lon = float(by_title["Trinkbrunnen"]["lon"])
    assert lon == content["idea"].lon


def test_open_data_has_no_personal_data_and_no_hidden_content(client, content):
    slug = content["process"].slug
    names = ("Anna", "Bert", "Rita", "Mallory")
    # JSON
    response = client.get(bo_url("open-data", slug=slug, fmt="json"))
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment;")
    text = response.content.decode()
    data = json.loads(text)
    assert data["metadata"]["licence"]["id"] == "dl-de/by-2-0"
    assert "Kaiserslautern" in data["metadata"]["attribution"]
    titles = {i["title"] for i in data["ideas"]}
    assert "Trinkbrunnen" in titles and "Geheimer Titel" not in titles
    for secret in (
        "Geheimer",
        "Persönliche Daten",
        "Unfreundlicher Kommentar",
        "Beleidigung",
        *names,
        "@example.org",
    ):
        assert secret not in text, secret
    for idea in data["ideas"]:
        assert not {"author", "hidden", "hidden_reason", "reports"} & set(idea)
    brunnen = next(i for i in data["ideas"] if i["title"] == "Trinkbrunnen")
    assert brunnen["comments"] == [] and brunnen["comment_count"] == 0  # the only comment is hidden
    # CSV
    response = client.get(bo_url("open-data", slug=slug, fmt="csv"))
    data = rows(response)
    assert "author" not in data[0] and "hidden" not in data[0]
    text = response.content.decode("utf-8-sig")
    for secret in ("Geheimer", "Persönliche Daten", "Unfreundlicher Kommentar", *names):
        assert secret not in text, secret
    assert response["Content-Disposition"] == 'attachment; filename="test-pfaff-open-data.csv"'


def test_geojson(client, content, actors):
    response = client.get(bo_url("open-data", slug=content["process"].slug, fmt="geojson"))
    assert response["Content-Type"] == "application/geo+json"
    data = json.loads(response.content)
    assert data["type"] == "FeatureCollection"
    idea = content["idea"]
    features = {f["id"]: f for f in data["features"]}
    point = features[idea.pk]
    assert point["type"] == "Feature" and point["geometry"]["type"] == "Point"
    assert point["geometry"]["coordinates"] == [idea.lon, idea.lat]  # longitude first
    assert (
        7 < point["geometry"]["coordinates"][0] < 8
        and 49 < point["geometry"]["coordinates"][1] < 50
    )
    assert features[content["evil"].pk]["geometry"] is None
    assert content["secret"].pk not in features
    assert point["properties"]["title"] == "Trinkbrunnen" and "author" not in point["properties"]
    # internal GeoJSON has everything
    login(client, actors["staff"])
    data = json.loads(
        client.get(bo_url("export", slug=content["process"].slug, fmt="geojson")).content
    )
    internal = {f["id"]: f for f in data["features"]}
    assert internal[content["secret"].pk]["properties"]["hidden"] is True
    assert internal[idea.pk]["properties"]["author"] == "Anna"


def test_internal_json_and_unknown_format(client, content, actors):
    login(client, actors["staff"])
    slug = content["process"].slug
    data = json.loads(client.get(bo_url("export", slug=slug, fmt="json")).content)
    assert data["metadata"]["flavour"] == "internal"
    brunnen = next(i for i in data["ideas"] if i["title"] == "Trinkbrunnen")
    assert brunnen["comments"][0]["hidden"] is True and brunnen["comments"][0]["author"] == "Bert"
    assert len(data["ideas"]) == Idea.objects.filter(process=content["process"]).count()
    assert client.get(bo_url("export", slug=slug, fmt="xlsx")).status_code == 404
