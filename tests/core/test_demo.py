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
    assert set(City.objects.filter(role=CityRole.PARTNER).values_list("name", flat=True)) == {
        "Solingen",
        "Wolfsburg",
        "Cottbus",
    }
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


def test_demo_data_files_are_consistent():
    """Every location in the data files lies inside its district, every reference resolves."""
    folder = DEMO_DIR / "kaiserslautern"
    districts = {
        f["properties"]["slug"]: shape(f["geometry"])
        for f in json.loads((folder / "districts.geojson").read_text())["features"]
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
