"""The map (issue 10, "The map is a grey box"): a base layer even offline, status symbols with a
legend, a text version without JavaScript and no empty box, the point picker's instructions and
announcement, map controls in the page's language, one coordinate order (latitude, longitude)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.utils import translation
from shapely.geometry import Point, shape

import herzstadt
from herzstadt.core.models import District, MeasureStatus
from herzstadt.participation import services
from herzstadt.participation.models import Idea, IdeaStatus
from herzstadt.web import context_processors
from tests.conftest import login
from tests.factories import make_measure
from tests.participation.test_views import url

pytestmark = pytest.mark.django_db

BASEMAP = Path(herzstadt.__file__).parent / "web/static/herzstadt/basemap/kaiserslautern.geojson"
CSS = Path(herzstadt.__file__).parent / "web/static/herzstadt/herzstadt.css"


class Maps(HTMLParser):
    """The map figures, map elements, legend entries and listed places of a page."""

    def __init__(self, html: str):
        super().__init__()
        self.figures: list[dict] = []
        self.maps: list[dict] = []
        self.legend: list[str] = []
        self.places: list[str] = []
        self._in_places = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "figure" and "map-figure" in (attrs.get("class") or ""):
            self.figures.append(attrs)
        if "data-map-source" in attrs:
            self.maps.append(attrs)
        if tag == "span" and "data-status" in attrs:
            self.legend.append(attrs["data-status"])
        if tag == "details" and "data-map-places" in attrs:
            self._in_places = 1
        if self._in_places and tag == "a":
            self.places.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "details":
            self._in_places = 0


@pytest.fixture(autouse=True)
def no_tiles(settings):
    settings.HERZSTADT_MAP_TILE_URL = ""
    context_processors.basemap.cache_clear()


def located_measure(city, lon=7.7561, lat=49.4443, **kw):
    district = District.objects.get(city=city, slug="pfaff-areal")
    return make_measure(city, district, location={"type": "Point", "coordinates": [lon, lat]}, **kw)


# --- no empty grey box, a list of the places instead --------------------------------------------------
def test_without_javascript_the_home_page_lists_the_places_and_hides_the_map(client, city):
    measure = located_measure(city, status=MeasureStatus.IN_PROGRESS)
    html = client.get("/").content.decode()
    page = Maps(html)
    assert page.figures and all("hidden" in f for f in page.figures)  # no empty box
    assert page.places == [measure.get_absolute_url()]
    # latitude first, as Germans write it, and unmistakable with decimal commas
    assert "49,44430° N, 7,75610° O" in html
    assert "Mobilitätsstation</a> – in Umsetzung" in html  # the status in words, not only colour


def test_a_district_page_keeps_its_outline_as_the_fallback(client, city):
    page = Maps(client.get("/stadtteile/pfaff-areal/").content.decode())
    assert page.figures and not any("hidden" in f for f in page.figures)


def test_the_english_page_uses_the_english_compass_letters(client, city):
    located_measure(city)
    assert "49.44430° N, 7.75610° E" in client.get("/en/").content.decode()


# --- base layer --------------------------------------------------------------------------------------
def test_offline_the_map_gets_the_citys_schematic_base_map(client, city):
    located_measure(city)
    html = client.get("/").content.decode()
    (attrs,) = Maps(html).maps
    assert attrs["data-basemap"].endswith("herzstadt/basemap/kaiserslautern.geojson")
    assert finders.find("herzstadt/basemap/kaiserslautern.geojson")
    assert "schematisch" in attrs["data-basemap-label"]
    assert "schematische Zeichnung" in html  # the caption says so too
    assert "data-tiles" not in attrs


def test_with_a_tile_server_the_tiles_replace_the_schematic_layer(client, city, settings):
    located_measure(city)
    settings.HERZSTADT_MAP_TILE_URL = (
        "https://sgx.geodatenzentrum.de/wmts_basemapde/tile/{z}/{x}/{y}.png"
    )
    settings.HERZSTADT_MAP_ATTRIBUTION = "© basemap.de / BKG"
    (attrs,) = Maps(client.get("/").content.decode()).maps
    assert attrs["data-tiles"] == settings.HERZSTADT_MAP_TILE_URL
    assert attrs["data-attribution"] == "© basemap.de / BKG"
    assert "data-basemap" not in attrs


def test_a_city_without_a_drawing_gets_no_base_layer(client, city):
    city.slug = "musterstadt"
    city.save()
    located_measure(city)
    (attrs,) = Maps(client.get("/").content.decode()).maps
    assert "data-basemap" not in attrs


def test_the_schematic_base_map_places_the_kesselhaus_in_the_pfaff_areal(city):
    data = json.loads(BASEMAP.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection" and data["schematic"] is True
    assert "schematisch" in data["name"]
    kinds = {f["properties"]["kind"] for f in data["features"]}
    assert {"street", "building", "landmark", "rail"} <= kinds
    for feature in data["features"]:
        geom = shape(feature["geometry"])
        assert geom.is_valid
        minx, miny, maxx, maxy = geom.bounds  # around the Pfaff-Areal and the city centre
        assert minx >= 7.74 and maxx <= 7.79 and miny >= 49.43 and maxy <= 49.455
    landmarks = {
        f["properties"]["name"]: shape(f["geometry"])
        for f in data["features"]
        if f["properties"]["kind"] == "landmark"
    }
    pfaff = shape(District.objects.get(city=city, slug="pfaff-areal").boundary)
    assert pfaff.contains(landmarks["Kesselhaus"])
    assert not pfaff.contains(landmarks["Rathaus"])
    streets = {
        f["properties"]["name"] for f in data["features"] if f["properties"]["kind"] == "street"
    }
    assert {"Königstraße", "Pfaffstraße", "Albert-Schweitzer-Straße"} <= streets
    # "Vor dem Kesselhaus": the demo's square in front of it is a few dozen metres away
    assert landmarks["Kesselhaus"].distance(Point(7.7556, 49.4441)) < 0.001


# --- controls in the page's language, legend with symbols -------------------------------------------
@pytest.mark.parametrize(
    ("prefix", "zoom_in", "zoom_out"),
    [("", "Vergrößern", "Verkleinern"), ("/en", "Zoom in", "Zoom out")],
)
def test_the_zoom_buttons_speak_the_pages_language(client, city, prefix, zoom_in, zoom_out):
    located_measure(city)
    (attrs,) = Maps(client.get(prefix + "/").content.decode()).maps
    assert (attrs["data-zoom-in"], attrs["data-zoom-out"]) == (zoom_in, zoom_out)


def test_the_process_map_has_a_legend_of_every_idea_status(client, process):
    page = Maps(client.get(process.get_absolute_url()).content.decode())
    assert page.legend == list(IdeaStatus.values)


def test_every_status_has_a_symbol_with_a_glyph():
    css = CSS.read_text(encoding="utf-8")
    for status in [*IdeaStatus.values, *MeasureStatus.values]:
        assert re.search(rf"\.sym-{status} \{{[^}}]*background: #", css), status
        assert re.search(rf'\.sym-{status}::before \{{ content: "[^"]+"', css), status


# --- the process map fetches its points; the text version is the current page -----------------------
def _ideas(process, user, n):
    district = process.district
    for i in range(n):
        services.post_idea(
            user,
            process,
            title=f"Idee Nummer {i:02d}",
            body="Eine Idee, die lang genug ist für die Prüfung.",
            lon=district.centroid_lon,
            lat=district.centroid_lat,
        )


def test_the_process_map_fetches_the_ideas_and_lists_only_this_page(client, process, make_user):
    _ideas(process, make_user(), 23)
    translation.activate("de")
    response = client.get(process.get_absolute_url())
    html = response.content.decode()
    (attrs,) = Maps(html).maps
    assert attrs["data-map-url"] == f"/api/v1/processes/{process.slug}/ideas.geojson?lang=de"
    embedded = response.context["map_data"]
    assert [f["properties"]["kind"] for f in embedded["features"]] == ["district"]
    first = Maps(html).places
    second = Maps(client.get(process.get_absolute_url() + "?page=2").content.decode()).places
    assert len(first) == 20 and len(second) == 3 and not set(first) & set(second)


def test_the_ideas_geojson_is_lean_and_cacheable(
    client, process, make_user, django_assert_max_num_queries
):
    user = make_user()
    _ideas(process, user, 3)
    hidden = Idea.objects.first()
    Idea.objects.filter(pk=hidden.pk).update(hidden_at="2026-01-01T00:00:00Z")
    endpoint = f"/api/v1/processes/{process.slug}/ideas.geojson"
    with django_assert_max_num_queries(4) as few:
        response = client.get(endpoint)
    _ideas(process, user, 30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(endpoint).json()["features"]) == 32  # the count does not grow
    assert response["Cache-Control"] == "public, max-age=15"
    features = response.json()["features"]
    assert len(features) == 2 and hidden.pk not in {f["properties"]["id"] for f in features}
    idea = Idea.objects.get(pk=features[0]["properties"]["id"])
    assert features[0]["properties"]["url"] == idea.get_absolute_url()
    assert features[0]["geometry"]["coordinates"] == [idea.lon, idea.lat]


# --- the point picker ---------------------------------------------------------------------------------
def test_the_point_picker_explains_the_keyboard_and_announces_the_point(client, process, make_user):
    login(client, make_user())
    html = client.get(url("idea-create", slug=process.slug)).content.decode()
    picker = re.search(r"<div class=\"map map-picker\"[^>]*>", html).group(0)
    assert 'aria-describedby="pick-help"' in picker and " hidden" in picker
    help_text = re.search(r'<p id="pick-help"[^>]*>([^<]*)</p>', html).group(1)
    assert "Eingabetaste" in help_text and "Fadenkreuz" in help_text
    assert 'aria-live="polite"' in html and "data-pick-live" in html
    assert 'data-announce="Punkt gesetzt: Breitengrad %lat, Längengrad %lon."' in picker
    assert 'data-zoom-in="Vergrößern"' in picker
    # latitude before longitude, with examples that are a latitude and a longitude
    assert html.index('id="id_lat"') < html.index('id="id_lon"')
    assert "z. B. 49,4447" in html and "z. B. 7,7586" in html


@pytest.mark.parametrize(("field", "example"), [("lat", "49,4447"), ("lon", "7,7586")])
def test_a_coordinate_that_is_no_number_gets_an_example_of_its_own_kind(
    client, process, make_user, field, example
):
    login(client, make_user())
    data = {
        "title": "Bank am Kesselhaus",
        "body": "Eine Sitzbank vor dem Kesselhaus, mit Blick auf den Platz.",
        "lat": "49,4447",
        "lon": "7,7586",
        field: "Kesselhaus",
    }
    with translation.override("de"):
        response = client.post(url("idea-create", slug=process.slug), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert f"z. B. {example}." in html
    other = "7,7612" if field == "lat" else "49,4447."
    assert f"als Zahl ein, z. B. {other}" not in html


def test_the_idea_and_measure_pages_write_latitude_first(client, process, city, make_user):
    idea = services.post_idea(
        make_user(),
        process,
        title="Bank am Kesselhaus",
        body="Eine Sitzbank vor dem Kesselhaus, mit Blick auf den Platz.",
        lon=7.7556,
        lat=49.4441,
    )
    html = client.get(idea.get_absolute_url()).content.decode()
    assert "Koordinaten (Breite, Länge): 49,44410° N, 7,75560° O" in html
    measure = located_measure(city, slug="andere", title="Andere Maßnahme")
    html = client.get(measure.get_absolute_url()).content.decode()
    assert "49,44430° N, 7,75610° O" in html


def test_the_map_of_an_english_page_gets_english_addresses_and_labels(client, process, make_user):
    _ideas(process, make_user(), 1)
    with translation.override("en"):
        html = client.get(process.get_absolute_url()).content.decode()
    (attrs,) = Maps(html).maps
    assert attrs["data-map-url"].endswith("ideas.geojson?lang=en")
    (feature,) = client.get(attrs["data-map-url"]).json()["features"]
    assert feature["properties"]["url"].startswith("/en/participation/")
    assert feature["properties"]["status_label"] == "received"
    endpoint = f"/api/v1/processes/{process.slug}/ideas.geojson"
    for query in ("", "?lang=xx"):  # the API's default: German
        (feature,) = client.get(endpoint + query).json()["features"]
        assert feature["properties"]["url"].startswith("/beteiligung/")
        assert feature["properties"]["status_label"] == "eingegangen"
