"""The urban-data part of a measure another city takes over ("data-models")."""

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from herzstadt.accounts.models import Role
from herzstadt.core import registry
from herzstadt.core.models import City, Measure
from herzstadt.urbandata import transfer
from herzstadt.urbandata.models import MeasureEntityTypes
from tests.factories import make_city, make_measure

pytestmark = pytest.mark.django_db

AQ = "https://smartdatamodels.org/dataModel.Environment/AirQualityObserved"
PARKING = "https://smartdatamodels.org/dataModel.Parking/OffStreetParking"


@pytest.fixture
def adopter(db, make_user):
    other = make_city(slug="wolfsburg", name="Wolfsburg")
    return make_measure(other, slug="luftmessnetz"), make_user(Role.STAFF, other)


def test_registered_as_a_transfer_part():
    assert "data-models" in [p.key for p in registry.transfer_parts()]


def test_export_names_the_smart_data_models_with_links(city):
    measure = make_measure(city)
    assert transfer.export(measure) is None
    MeasureEntityTypes.objects.create(
        city=city, measure=measure, entity_types=[PARKING, AQ, "urn:example:Thing"]
    )
    assert transfer.export(measure) == {
        "format": 1,
        "entity_types": [
            {
                "name": "AirQualityObserved",
                "type": AQ,
                "subject": "dataModel.Environment",
                "url": "https://github.com/smart-data-models/dataModel.Environment/tree/master/AirQualityObserved",
            },
            {
                "name": "OffStreetParking",
                "type": PARKING,
                "subject": "dataModel.Parking",
                "url": "https://github.com/smart-data-models/dataModel.Parking/tree/master/OffStreetParking",
            },
            {"name": "Thing", "type": "urn:example:Thing"},
        ],
    }


def test_round_trip_from_the_demo(demo, make_user):
    origin = (
        Measure.objects.filter(city=demo, slug="klima-und-luftmessnetz-pfaff-areal")
        .select_related("city")
        .get()
    )
    data = json.loads(json.dumps(transfer.export(origin)))
    names = [t["name"] for t in data["entity_types"]]
    assert "AirQualityObserved" in names and "NoiseLevelObserved" in names
    other = City.objects.get(slug="solingen")
    measure = make_measure(other, slug="luft")
    text = transfer.adopt(measure, data, make_user(Role.STAFF, other))
    assert text.startswith(f"{len(names)} Datenmodelle: ")
    linked = MeasureEntityTypes.objects.get(measure=measure)
    assert linked.city == other
    assert linked.entity_types == sorted(t["type"] for t in data["entity_types"])
    # the demo cities without sensor data declare the data models of their measures too
    wolfsburg = Measure.objects.get(city__slug="wolfsburg", slug="mobilitaetsdaten-wolfsburg")
    assert {t["name"] for t in transfer.export(wolfsburg)["entity_types"]} == {
        "EVChargingStation",
        "OffStreetParking",
    }
    # adopting again replaces, never duplicates
    transfer.adopt(measure, {"entity_types": [{"type": AQ}]}, make_user(Role.STAFF, other))
    assert MeasureEntityTypes.objects.get(measure=measure).entity_types == [AQ]


@pytest.mark.parametrize(
    "bad",
    [
        "AirQualityObserved",  # not an IRI
        "javascript:alert(1)",
        "https://smartdatamodels.org/dataModel.Environment/../../etc",
        "https://smartdatamodels.org/AirQualityObserved",
        "https://user:pw@example.org/Type",
        "https://example.org/Type?x=1",
        "https://example.org/Ty pe",
        "https://example.org/<script>",
        "ftp://example.org/Type",
        "https://example.org/",
        "https://example.org/ns#a/b",
        "x" * 400,
        42,
        None,
    ],
)
def test_invalid_type_names_are_skipped(adopter, bad):
    measure, staff = adopter
    text = transfer.adopt(measure, {"entity_types": [{"type": AQ}, {"type": bad}]}, staff)
    assert "1 ungültiger Eintrag übersprungen" in text
    assert MeasureEntityTypes.objects.get(measure=measure).entity_types == [AQ]


def test_other_valid_type_iris_are_kept(adopter):
    measure, staff = adopter
    kept = [
        "https://example.org/ns#Tree",
        "https://uri.etsi.org/ngsi-ld/default-context/Thing",
        "urn:x:Y",
    ]
    text = transfer.adopt(measure, {"entity_types": kept}, staff)
    assert "3 Datenmodelle: " in text and "übersprungen" not in text
    assert MeasureEntityTypes.objects.get(measure=measure).entity_types == sorted(kept)


@pytest.mark.parametrize(
    "data",
    [
        None,
        [AQ],
        "x",
        {"entity_types": AQ},
        {"entity_types": [{"type": AQ}] * 51},
        {"format": 2, "entity_types": []},
    ],
)
def test_non_templates_are_refused(adopter, data):
    measure, staff = adopter
    with pytest.raises(ValidationError):
        transfer.adopt(measure, data, staff)
    assert not MeasureEntityTypes.objects.filter(measure=measure).exists()


def test_only_staff_of_the_adopting_city(adopter, make_user, city):
    measure, _staff = adopter
    for user in (make_user(), make_user(Role.STAFF, city)):
        with pytest.raises(PermissionDenied):
            transfer.adopt(measure, {"entity_types": [{"type": AQ}]}, user)
    assert not MeasureEntityTypes.objects.filter(measure=measure).exists()
