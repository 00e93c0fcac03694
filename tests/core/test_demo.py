import json
from pathlib import Path

import pytest
from shapely.geometry import Point, shape

from herzstadt.core.demo import DEMO_DIR
from herzstadt.core.models import City, CityRole, District, Measure, MeasureStatus, Milestone
from herzstadt.demo import load_demo

pytestmark = pytest.mark.django_db


def test_demo_city_with_pfaff_areal_and_partner_cities(demo):
    assert demo.role == CityRole.HOSTED
    assert sorted(demo.partners.values_list("slug", flat=True)) == [
        "cottbus",
        "solingen",
        "wolfsburg",
    ]
    # the partners are hosted here too (each with its own NGSI-LD tenant), so the city network
    # harvests from the same installation; Kaiserslautern stays the city the demo shows
    hosted = City.objects.filter(role=CityRole.HOSTED)
    assert set(hosted.values_list("name", flat=True)) == {
        "Kaiserslautern",
        "Solingen",
        "Wolfsburg",
        "Cottbus",
    }
    assert sorted(hosted.exclude(slug="kaiserslautern").values_list("ngsi_tenant", flat=True)) == [
        "cottbus",
        "solingen",
        "wolfsburg",
    ]
    assert demo.ngsi_tenant == ""
    assert not hosted.exclude(domain="").exists()
    pfaff = District.objects.get(city=demo, slug="pfaff-areal")
    assert pfaff.boundary_approximate
    assert "Demo" in pfaff.boundary_source
    # around 49.444 N, 7.757 E
    assert pfaff.contains(7.757, 49.444)


def test_demo_has_measures_along_the_seeds_vision(demo):
    measures = Measure.objects.filter(city=demo)
    assert 8 <= measures.count() <= 12
    statuses = set(measures.values_list("status", flat=True))
    assert {MeasureStatus.PLANNED, MeasureStatus.IN_PROGRESS, MeasureStatus.DONE} <= statuses
    in_pfaff = measures.filter(district__slug="pfaff-areal")
    assert in_pfaff.count() >= 5
    pfaff = District.objects.get(city=demo, slug="pfaff-areal")
    for measure in in_pfaff.filter(location__isnull=False):
        lon, lat = measure.point
        assert pfaff.contains(lon, lat), measure.slug
    assert Milestone.objects.filter(city=demo).exists()
    assert all(m.i18n.get("en", {}).get("title") for m in measures)


def test_loading_twice_changes_nothing(demo):
    def snapshot():
        return (
            list(
                Measure.objects.order_by("slug").values_list(
                    "slug", "title", "status", "district__slug"
                )
            ),
            Milestone.objects.count(),
            City.objects.count(),
        )

    before = snapshot()
    load_demo()
    assert snapshot() == before


def test_the_other_hosted_cities_have_a_small_catalogue(demo):
    for slug in ("solingen", "wolfsburg", "cottbus"):
        measures = Measure.objects.filter(city__slug=slug)
        assert 3 <= measures.count() <= 5, slug
        assert len(set(measures.values_list("status", flat=True))) >= 3, slug
        for measure in measures:
            assert measure.i18n["en"]["title"] and measure.i18n["en"]["summary"], measure.slug
            assert "Demo-Inhalt" in measure.description, measure.slug
            assert measure.field_of_action.city_id == measure.city_id


def test_a_request_without_a_matching_domain_gets_kaiserslautern(client, demo):
    from herzstadt.core.middleware import city_for_host

    assert city_for_host("").slug == "kaiserslautern"
    assert city_for_host("unknown.example").slug == "kaiserslautern"


@pytest.mark.parametrize("slug", ["kaiserslautern", "solingen", "wolfsburg", "cottbus"])
def test_demo_data_files_are_consistent(slug):
    """Every location in the data files lies inside its district, every reference resolves."""
    folder = DEMO_DIR / slug
    districts_file = folder / "districts.geojson"
    districts = {
        f["properties"]["slug"]: shape(f["geometry"])
        for f in (
            json.loads(districts_file.read_text())["features"] if districts_file.exists() else []
        )
    }
    fields = {f["slug"] for f in json.loads((folder / "fields_of_action.json").read_text())}
    offices = {o["slug"] for o in json.loads((folder / "offices.json").read_text())}
    measures = json.loads(Path(folder / "measures.json").read_text())
    for item in measures:
        assert item["field_of_action"] in fields, item["slug"]
        assert item["office"] is None or item["office"] in offices, item["slug"]
        if item["district"]:
            assert item["district"] in districts
            if item["location"]:
                assert districts[item["district"]].covers(Point(item["location"])), item["slug"]
