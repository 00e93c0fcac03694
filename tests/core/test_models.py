import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from herzstadt.core.models import City, District, FieldOfAction, Measure, Milestone

pytestmark = pytest.mark.django_db

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[7.0, 49.0], [7.01, 49.0], [7.01, 49.01], [7.0, 49.01], [7.0, 49.0]]],
}


@pytest.fixture
def city():
    return City.objects.create(slug="musterstadt", name="Musterstadt")


@pytest.fixture
def field(city):
    return FieldOfAction.objects.create(city=city, slug="mobilitaet", name="Mobilität")


def test_district_derives_bounding_box_and_centroid(city):
    district = District.objects.create(city=city, slug="mitte", name="Mitte", boundary=SQUARE)
    district.refresh_from_db()
    assert (district.min_lon, district.min_lat, district.max_lon, district.max_lat) == (
        7.0,
        49.0,
        7.01,
        49.01,
    )
    assert district.centroid_lon == pytest.approx(7.005)
    assert district.contains(7.005, 49.005)
    assert not district.contains(7.02, 49.005)


@pytest.mark.parametrize(
    ("boundary", "message"),
    [
        ({"type": "Point", "coordinates": [7, 49]}, "Expected one of"),
        (
            {"type": "Polygon", "coordinates": [[[7, 49], [8, 50], [8, 49], [7, 50], [7, 49]]]},
            "Self-intersection",
        ),
        ({"type": "Polygon", "coordinates": [[[700, 49], [8, 50], [8, 49], [700, 49]]]}, "WGS 84"),
        ({"type": "Polygon", "coordinates": "nope"}, "Malformed"),
        ("not json object", "must be an object"),
    ],
)
def test_invalid_boundaries_are_rejected_with_a_reason(city, boundary, message):
    district = District(city=city, slug="x", name="X", boundary=boundary)
    with pytest.raises(ValidationError) as error:
        district.full_clean()
    assert message in str(error.value)


def test_measure_cannot_use_another_citys_district(city, field):
    other = City.objects.create(slug="anderswo", name="Anderswo")
    foreign = District.objects.create(city=other, slug="mitte", name="Mitte", boundary=SQUARE)
    measure = Measure(
        city=city, slug="m", title="M", summary="S", field_of_action=field, district=foreign
    )
    with pytest.raises(ValidationError) as error:
        measure.full_clean()
    assert "district" in error.value.message_dict


def test_measure_end_before_start_is_rejected_by_validation_and_database(city, field):
    measure = Measure(
        city=city,
        slug="m",
        title="M",
        summary="S",
        field_of_action=field,
        start_date=dt.date(2026, 5, 1),
        end_date=dt.date(2026, 1, 1),
    )
    with pytest.raises(ValidationError) as error:
        measure.full_clean()
    assert "end_date" in error.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        measure.save()


def test_slugs_are_unique_per_city_not_globally(city, field):
    other = City.objects.create(slug="anderswo", name="Anderswo")
    other_field = FieldOfAction.objects.create(city=other, slug="mobilitaet", name="Mobilität")
    Measure.objects.create(city=city, slug="same", title="A", summary="S", field_of_action=field)
    Measure.objects.create(
        city=other, slug="same", title="B", summary="S", field_of_action=other_field
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Measure.objects.create(
            city=city, slug="same", title="C", summary="S", field_of_action=field
        )


def test_children_carry_the_city_of_their_measure(city, field):
    measure = Measure.objects.create(
        city=city, slug="m", title="M", summary="S", field_of_action=field
    )
    stone = Milestone(measure=measure, date=dt.date(2026, 1, 1), title="Start")
    stone.full_clean()
    stone.save()
    assert Milestone.objects.get().city == city


def test_translated_content_follows_the_active_language(city, field):
    measure = Measure.objects.create(
        city=city,
        slug="m",
        title="Mobilitätsstation",
        summary="Kurz",
        field_of_action=field,
        i18n={"en": {"title": "Mobility hub"}},
    )
    with translation.override("de"):
        assert measure.tr.title == "Mobilitätsstation"
    with translation.override("en"):
        assert measure.tr.title == "Mobility hub"
        assert measure.tr.summary == "Kurz"  # falls back to German when not translated


def test_measure_location_must_be_geojson(city, field):
    measure = Measure(
        city=city,
        slug="m",
        title="M",
        summary="S",
        field_of_action=field,
        location={"type": "Point", "coordinates": [7.75]},
    )
    with pytest.raises(ValidationError) as error:
        measure.full_clean()
    assert "location" in error.value.message_dict
    measure.location = {"type": "Point", "coordinates": [7.75, 49.44]}
    measure.full_clean()
    assert measure.point == (7.75, 49.44)
