import json
from html.parser import HTMLParser

import pytest

from herzstadt.core.models import City, District, FieldOfAction, Measure, MeasureStatus
from tests.factories import make_measure

pytestmark = pytest.mark.django_db


class Page(HTMLParser):
    """Collects what the accessibility checks need from a page."""

    def __init__(self, html: str):
        super().__init__()
        self.lang = None
        self.headings: list[int] = []
        self.ids: set[str] = set()
        self.labels_for: set[str] = set()
        self.controls: list[str] = []
        self.landmarks: set[str] = set()
        self.links: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.headings.append(int(tag[1]))
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "label" and attrs.get("for"):
            self.labels_for.add(attrs["for"])
        if tag in {"input", "select", "textarea"} and attrs.get("type") != "hidden":
            self.controls.append(attrs.get("id", ""))
        if tag in {"main", "header", "footer", "nav"}:
            self.landmarks.add(tag)
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])


def check_accessible(html: str, lang: str) -> Page:
    page = Page(html)
    assert page.lang == lang
    assert page.headings.count(1) == 1, "exactly one h1"
    for before, after in zip(page.headings, page.headings[1:], strict=False):
        assert after <= before + 1, f"heading level jumps from h{before} to h{after}"
    assert {"main", "header", "footer", "nav"} <= page.landmarks
    assert "#main" in page.links and "main" in page.ids, "skip link to the main content"
    for control in page.controls:
        assert control and control in page.labels_for, f"form control {control!r} has no label"
    return page


PAGES = [
    ("/", "de"),
    ("/en/", "en"),
    ("/stadtteile/pfaff-areal/", "de"),
    ("/en/districts/pfaff-areal/", "en"),
    ("/massnahmen/", "de"),
    ("/en/measures/", "en"),
    ("/massnahmen/?status=done", "de"),
]


@pytest.mark.parametrize(("url", "lang"), PAGES)
def test_pages_are_accessible(client, demo, url, lang):
    response = client.get(url)
    assert response.status_code == 200
    check_accessible(response.content.decode(), lang)


def test_measure_detail_pages_are_accessible(client, demo):
    from django.utils import translation

    for measure in Measure.objects.filter(city=demo):
        for lang in ("de", "en"):
            with translation.override(lang):
                url = measure.get_absolute_url()
            response = client.get(url)
            assert response.status_code == 200, url
            check_accessible(response.content.decode(), lang)


def test_home_page_shows_the_city_its_districts_and_partners(client, demo):
    html = client.get("/").content.decode()
    assert "Kaiserslautern" in html
    assert "Pfaff-Areal" in html
    assert "Stadtteile" in html and "Städtenetzwerk" in html
    for partner in ("Solingen", "Wolfsburg", "Cottbus"):
        assert partner in html


def test_english_home_page_is_english(client, demo):
    html = client.get("/en/").content.decode()
    assert '<html lang="en">' in html
    assert "Districts" in html and "City network" in html and "Skip to main content" in html
    for german in ("Stadtteile", "Städtenetzwerk", "Zum Hauptinhalt", "Handlungsfelder"):
        assert german not in html
    assert "Mobility" in html  # content translations too


def test_district_page_shows_the_boundary(client, demo):
    response = client.get("/stadtteile/pfaff-areal/")
    html = response.content.decode()
    assert response.status_code == 200
    # the boundary as text (works without JavaScript) ...
    assert "7.7512, 49.4432" in html and "7.7605, 49.4448" in html
    assert "ungefähr" in html
    # ... as an SVG outline, and as GeoJSON for the map script
    assert "<svg" in html and 'd="M' in html
    data = json.loads(
        html.split('<script id="map-data" type="application/json">', 1)[1].split("</script>")[0]
    )
    district = next(f for f in data["features"] if f["properties"]["kind"] == "district")
    assert district["geometry"]["coordinates"][0][0] == [7.7512, 49.4432]
    assert any(f["properties"]["kind"] == "measure" for f in data["features"])
    assert "vendor/leaflet/leaflet.js" in html and "unpkg" not in html and "cdn" not in html.lower()


def test_district_geojson_download(client, demo):
    response = client.get("/api/v1/districts/pfaff-areal.geojson")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    feature = response.json()
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "Polygon"
    assert feature["properties"]["approximate"] is True
    assert client.get("/api/v1/districts/atlantis.geojson").status_code == 404


def test_measure_list_filters(client, demo):
    all_count = Measure.objects.filter(city=demo, is_public=True).count()
    response = client.get("/massnahmen/")
    assert response.context["total"] == all_count
    done = Measure.objects.filter(city=demo, status=MeasureStatus.DONE)
    response = client.get("/massnahmen/", {"status": "done"})
    assert {m.slug for m in response.context["page"].object_list} == {m.slug for m in done}
    response = client.get("/massnahmen/", {"field": "mobilitaet", "district": "pfaff-areal"})
    for measure in response.context["page"].object_list:
        assert measure.field_of_action.slug == "mobilitaet"
        assert measure.district.slug == "pfaff-areal"
    title = done.first().title
    response = client.get("/massnahmen/", {"q": title[:12]})
    assert title in response.content.decode()


def test_invalid_filters_are_explained_not_a_crash(client, city):
    response = client.get("/massnahmen/", {"status": "flying", "field": "<script>", "page": "x"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "ungültig" in html
    assert "<script>" not in html.split("<main", 1)[1].split("</main>")[0].replace(
        '<script id="', ""
    )


def test_measure_detail_shows_everything_recorded(client, demo):
    measure = Measure.objects.filter(city=demo).exclude(milestones=None).first()
    html = client.get(measure.get_absolute_url()).content.decode()
    assert measure.title in html
    assert measure.get_status_display() in html
    assert measure.field_of_action.name in html
    for stone in measure.milestones.all():
        assert stone.title in html
    from django.utils import translation

    with translation.override("en"):
        url = measure.get_absolute_url()
    assert url.startswith("/en/measures/")
    english = client.get(url).content.decode()
    assert measure.i18n["en"]["title"] in english


@pytest.mark.parametrize(
    ("url", "lang", "text"),
    [
        ("/massnahmen/gibt-es-nicht/", "de", "Seite nicht gefunden"),
        ("/en/measures/does-not-exist/", "en", "Page not found"),
        ("/stadtteile/atlantis/", "de", "Seite nicht gefunden"),
    ],
)
def test_unknown_pages_are_friendly_404s_in_the_chosen_language(client, city, url, lang, text):
    response = client.get(url)
    assert response.status_code == 404
    html = response.content.decode()
    assert text in html
    assert f'<html lang="{lang}">' in html


def test_unpublished_measures_are_not_shown(client, city):
    measure = make_measure(city)
    assert client.get(measure.get_absolute_url()).status_code == 200
    assert measure.title in client.get("/massnahmen/").content.decode()
    measure.is_public = False
    measure.save()
    assert client.get(measure.get_absolute_url()).status_code == 404
    assert measure.title not in client.get("/massnahmen/").content.decode()


def test_each_city_sees_only_its_own_data(client, city):
    other = City.objects.create(
        slug="musterstadt", name="Musterstadt", domain="musterstadt.example"
    )
    field = FieldOfAction.objects.create(city=other, slug="mobilitaet", name="Mobilität")
    District.objects.create(
        city=other,
        slug="mitte",
        name="Mitte",
        boundary={"type": "Polygon", "coordinates": [[[7, 49], [7.1, 49], [7.1, 49.1], [7, 49]]]},
    )
    Measure.objects.create(
        city=other, slug="nur-hier", title="Nur in Musterstadt", summary="S", field_of_action=field
    )
    from django.test import override_settings

    with override_settings(ALLOWED_HOSTS=["musterstadt.example", "testserver"]):
        html = client.get("/massnahmen/", HTTP_HOST="musterstadt.example").content.decode()
        assert "Nur in Musterstadt" in html
        assert "Pfaff-Areal" not in html
        assert (
            client.get("/stadtteile/pfaff-areal/", HTTP_HOST="musterstadt.example").status_code
            == 404
        )
    # the default host still serves the first hosted city
    assert "Nur in Musterstadt" not in client.get("/massnahmen/").content.decode()
    assert client.get("/massnahmen/nur-hier/").status_code == 404


def test_security_headers(client, city):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "object-src 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_without_a_city_the_home_page_explains_the_setup(client, db):
    html = client.get("/").content.decode()
    assert "herzstadt loaddemo" in html
    assert client.get("/massnahmen/").status_code == 404


def test_health_check(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_admin_is_german(admin_client, city):
    html = admin_client.get("/admin/core/measure/").content.decode()
    assert "Maßnahmen" in html
    assert admin_client.get("/admin/core/measure/add/").status_code == 200
