"""The demo's measure profiles (knowledge/demo): every demo measure has one, one replication shows
its provenance, loading twice changes nothing."""

import pytest

from herzstadt.core.models import Measure
from herzstadt.core.registry import DemoContext
from herzstadt.knowledge.demo import load_profiles
from herzstadt.knowledge.models import MaturityPhase, MeasureProfile, Reuse

pytestmark = pytest.mark.django_db


def _snapshot():
    return (
        list(MeasureProfile.objects.order_by("pk").values_list("pk", "updated_at", "version")),
        list(Reuse.objects.order_by("pk").values_list("pk", "adopted_measure_url")),
    )


def test_every_demo_measure_has_a_profile(demo):
    measures = Measure.objects.filter(
        city__slug__in=["kaiserslautern", "solingen", "wolfsburg", "cottbus"]
    )
    assert measures.count() >= 24
    assert MeasureProfile.objects.count() == measures.count()
    for profile in MeasureProfile.objects.select_related("measure"):
        assert profile.city_id == profile.measure.city_id
        assert profile.phase in MaturityPhase.values
        assert profile.problem and profile.i18n["en"]["problem"], profile.measure.slug
        assert profile.implementation_steps, profile.measure.slug
        assert len(profile.i18n["en"]["implementation_steps"]) == len(profile.implementation_steps)
        assert profile.contact_email.startswith(("smartcity@", "beteiligung@", "opendata@"))
        for software in profile.software:
            assert set(software) == {"name", "url", "publiccode_url", "licence"}
    names = {s["name"] for p in MeasureProfile.objects.all() for s in p.software}
    assert {"FIWARE Orion-LD", "CKAN", "Decidim", "herzstadt"} <= names


def test_a_kaiserslautern_measure_is_a_replication_of_solingens(demo):
    replica = MeasureProfile.objects.get(city=demo, origin_uri__gt="")
    assert replica.measure.slug == "digitaler-zwilling-pfaff-areal"
    assert replica.origin_city == "Solingen"
    assert replica.origin_title == "Digitaler Zwilling Innenstadt"
    assert replica.origin_uri.endswith(
        "/api/v1/network/solingen/measures/digitaler-zwilling-solingen/"
    )
    assert replica.origin_version == 1 and replica.adopted_at and replica.adopted_parts
    reuse = Reuse.objects.get(measure__slug="digitaler-zwilling-solingen")
    assert reuse.city.slug == "solingen" and reuse.adopter_name == "Kaiserslautern"
    assert reuse.adopted_measure_url.endswith("/digitaler-zwilling-pfaff-areal/")
    # the part it took over: the same data models as the origin's
    from herzstadt.urbandata import transfer

    taken = transfer.export(replica.measure)["entity_types"]
    assert taken == transfer.export(reuse.measure)["entity_types"]
    assert {t["name"] for t in taken} == set(replica.entity_types)
    # the open datasets point at this installation's NGSI-LD API
    parking = MeasureProfile.objects.get(
        measure__slug="sensorgestuetzte-parkraumerfassung-pfaff-areal"
    )
    assert (
        "/ngsi-ld/v1/entities?type=https%3A%2F%2Fsmartdatamodels.org" in parking.datasets[0]["url"]
    )


def test_loading_twice_changes_nothing(demo):
    from herzstadt.core.models import City

    before = _snapshot()
    context = DemoContext(cities={c.slug: c for c in City.objects.all()}, city=demo)
    summary = load_profiles(context)
    assert "(0 changed)" in summary
    assert _snapshot() == before
