"""Privacy by design: entity types the city marks as personal are never open data — not in the
settings, not in the broker's answers to anonymous readers, not in the open-data catalogue."""

import httpx
import pytest

from herzstadt.accounts.models import Role
from herzstadt.urbandata import access, datasets
from herzstadt.urbandata.models import UrbanDataSettings
from herzstadt.urbandata.verifier import SiteVerifier
from tests.conftest import bo_url, login

pytestmark = pytest.mark.django_db(transaction=True)

SDM = "https://smartdatamodels.org/"
METER = SDM + "dataModel.Energy/SmartMeteringObservation"
PARKING = SDM + "dataModel.Parking/OffStreetParking"


def _meter_iri(demo):
    from herzstadt.urbandata.broker import get_broker

    return next(
        t
        for t in get_broker().store.entity_types(demo.ngsi_tenant)
        if t.endswith("/SmartMeteringObservation")
    )


def test_demo_marks_household_meters_as_personal(demo):
    meter = _meter_iri(demo)
    s = access.settings_of(demo)
    assert s.personal_types == [meter] and meter not in s.open_data_types
    assert meter not in SiteVerifier().tenant_policy(demo.ngsi_tenant).public_types
    # the open-data catalogue lists no personal type
    assert meter not in datasets.entity_types(demo)
    assert not any(
        d.identifier == "urbandata-SmartMeteringObservation" for d in datasets.datasets(demo)
    )


def test_a_personal_type_cannot_be_made_open_data(city):
    access.save_settings(city, [PARKING], [], [METER])
    with pytest.raises(access.PersonalDataError):
        access.save_settings(city, [PARKING, METER], ["https://a.example"])
    s = access.settings_of(city)
    assert s.open_data_types == [PARKING] and s.personal_types == [METER] and s.cors_origins == []


def test_the_verifier_never_publishes_a_personal_type(city):
    """Even if a row says both (e.g. written before the type was marked), personal wins."""
    UrbanDataSettings.objects.update_or_create(
        city=city, defaults={"open_data_types": [PARKING, METER], "personal_types": [METER]}
    )
    assert SiteVerifier().tenant_policy(city.ngsi_tenant).public_types == {PARKING}


def test_back_office_marks_personal_types(client, demo, make_user):
    admin = make_user(Role.ADMIN, demo, name="Admina")
    login(client, admin)
    meter = _meter_iri(demo)
    page = client.get(bo_url("api-open-data")).content.decode()
    assert "Personenbezogene Daten: Entitätstypen über Menschen oder Haushalte" in page
    both = client.post(
        bo_url("api-open-data"), {"types": [PARKING, meter], "personal_types": [meter]}
    )
    assert both.status_code == 200
    assert "Personenbezogene Daten können keine offenen Daten sein: SmartMeteringObservation" in (
        both.content.decode()
    )
    assert meter not in access.settings_of(demo).open_data_types
    ok = client.post(bo_url("api-open-data"), {"types": [PARKING], "personal_types": [meter]})
    assert ok.status_code == 302
    s = access.settings_of(demo)
    assert s.open_data_types == [PARKING] and s.personal_types == [meter]
    overview = client.get(bo_url("api-access")).content.decode()
    assert "Personenbezogene Daten" in overview and meter in overview


@pytest.fixture
def meter_published(demo):
    """The city tries to publish everything, the meters included."""
    meter = _meter_iri(demo)
    UrbanDataSettings.objects.filter(city=demo).update(open_data_types=[PARKING, meter])
    return meter


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_broker_refuses_anonymous_reads_of_personal_types(
    demo, meter_published, anyio_backend
):
    """Anonymous (open-data) readers get none of the meters, whether asked by type, by id or among
    all entities; the city's open parking data stays readable."""
    from herzstadt.asgi import Dispatcher, django_app
    from herzstadt.urbandata.broker import ngsi_application

    meter = meter_published  # the personal type stays closed
    meter_id = (
        "urn:ngsi-ld:SmartMeteringObservation:kaiserslautern:pfaff-areal:waermenetz-einspeisung"
    )
    ngsi = ngsi_application()
    app = Dispatcher(django_app, {"/ngsi-ld/": ngsi})
    transport = httpx.ASGITransport(app=app)
    headers = {"NGSILD-Tenant": demo.ngsi_tenant} if demo.ngsi_tenant else {}
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            url = "/ngsi-ld/v1/entities"
            by_type = await client.get(url, params={"type": meter}, headers=headers)
            assert by_type.status_code == 200 and by_type.json() == []
            by_id = await client.get(f"{url}/{meter_id}", headers=headers)
            assert by_id.status_code == 404
            everything = await client.get(
                url, params={"local": "true", "limit": 1000}, headers=headers
            )
            assert everything.status_code == 200
            types = {e["type"] for e in everything.json()}
            assert meter not in types and PARKING in types
            parking = await client.get(url, params={"type": PARKING}, headers=headers)
            assert parking.status_code == 200 and parking.json()
    finally:
        ngsi.close()
