"""The urban-data pillar inside the site: demo entities in the broker, listed on the district page."""

import json

import httpx
import pytest

from herzstadt.urbandata.demo import DEMO_FILES
from herzstadt.urbandata.measured import measured_in

pytestmark = pytest.mark.django_db(transaction=True)

SDM = "https://smartdatamodels.org/"


def test_district_lists_what_is_measured_there(demo):
    district = demo.district_set.get(slug="pfaff-areal")
    measured = {m.name: m for m in measured_in(district)}
    entities = json.loads(DEMO_FILES["kaiserslautern"].read_text())
    expected = {}
    for entity in entities:
        expected[entity["type"]] = expected.get(entity["type"], 0) + 1
    assert {name: m.count for name, m in measured.items()} == expected
    assert measured["OffStreetParking"].type_iri == SDM + "dataModel.Parking/OffStreetParking"
    # the other district has no sensors
    assert measured_in(demo.district_set.get(slug="innenstadt")) == []


def test_district_page_shows_the_data_sources(client, demo):
    html = client.get("/stadtteile/pfaff-areal/").content.decode()
    assert "Was hier gemessen wird" in html
    assert "Luftqualität" in html and "AirQualityObserved" in html
    assert "/ngsi-ld/v1/entities?type=https%3A%2F%2Fsmartdatamodels.org" in html
    english = client.get("/en/districts/pfaff-areal/").content.decode()
    assert "What is measured here" in english and "Air quality" in english


class OpenParkingVerifier:
    """A verifier that publishes car parks as the city's open data (and knows no clients)."""

    def authenticate(self, scheme, credential):
        return None

    def tenant_policy(self, tenant):
        from herzstadt.ngsi.auth import TenantPolicy

        return TenantPolicy(frozenset({SDM + "dataModel.Parking/OffStreetParking"}))


LINK = '<https://raw.githubusercontent.com/smart-data-models/dataModel.Parking/master/context.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_ngsi_ld_api_of_the_site_serves_only_open_data_without_a_key(demo, anyio_backend):
    from herzstadt.asgi import Dispatcher, django_app
    from herzstadt.urbandata.broker import get_broker, ngsi_application

    metering = next(
        t
        for t in get_broker().store.entity_types(demo.ngsi_tenant)
        if t.endswith("/SmartMeteringObservation")
    )
    ngsi = ngsi_application()
    app = Dispatcher(django_app, {"/ngsi-ld/": ngsi})
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            url = "/ngsi-ld/v1/entities"
            response = await client.get(
                url, params={"type": "OffStreetParking"}, headers={"Link": LINK}
            )
            # the demo publishes parking as open data, not the households' smart meters
            assert response.status_code == 200 and response.json()
            response = await client.get(url, params={"type": metering})
            assert response.status_code == 200 and response.json() == []
            entity = {"id": "urn:ngsi-ld:X:1", "type": "X"}
            response = await client.post(url, json=entity)
            assert response.status_code == 401 and "www-authenticate" in response.headers
            response = await client.delete(
                url, params={"type": "OffStreetParking"}, headers={"Link": LINK}
            )
            assert response.status_code == 401
            response = await client.get(
                url, params={"type": "X"}, headers={"NGSILD-Tenant": "nope"}
            )
            assert response.status_code == 404
            bad_host = await client.get(url, params={"type": "X"}, headers={"Host": "evil.example"})
            assert bad_host.status_code == 400
    finally:
        ngsi.close()


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_ngsi_ld_api_is_served_by_the_site(demo, anyio_backend, settings):
    from herzstadt.asgi import Dispatcher, django_app
    from herzstadt.urbandata.broker import ngsi_application

    settings.NGSI_VERIFIER = "tests.urbandata.test_measured.OpenParkingVerifier"
    ngsi = ngsi_application()
    app = Dispatcher(django_app, {"/ngsi-ld/": ngsi})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        link = LINK
        response = await client.get(
            "/ngsi-ld/v1/entities", params={"type": "OffStreetParking"}, headers={"Link": link}
        )
        assert response.status_code == 200
        ids = {e["id"] for e in response.json()}
        assert "urn:ngsi-ld:OffStreetParking:kaiserslautern:pfaff-areal:quartiersgarage" in ids
        assert all(e["type"] == "OffStreetParking" for e in response.json())
        assert response.headers["x-content-type-options"] == "nosniff"
        # only the public type: the air quality stations of the demo are not listed
        response = await client.get("/ngsi-ld/v1/entities", params={"local": "true"})
        assert {e["type"] for e in response.json()} == {SDM + "dataModel.Parking/OffStreetParking"}
        bad = await client.get("/ngsi-ld/v1/entities", params={"q": "a=="})
        assert bad.status_code == 400
        assert bad.json()["type"].startswith("https://uri.etsi.org/ngsi-ld/errors/")
    ngsi.close()


def test_district_counts_come_from_the_broker_right_above_1000(city, client):
    """1,203 sensors inside the Pfaff-Areal and 4 outside: the page says 1,203 (it used to list at most
    1,000 entities and count those); a second view is served from the cache."""
    import uuid

    from herzstadt.ngsi.auth import system_principal
    from herzstadt.ngsi.params import WriteOptions
    from herzstadt.ngsi.service import Req, batch_upsert
    from herzstadt.ngsi.tenants import delete_tenant
    from herzstadt.urbandata.broker import get_broker
    from herzstadt.urbandata.measured import measured_cache

    city.ngsi_tenant = f"perf{uuid.uuid4().hex[:12]}"
    city.save()
    district = city.district_set.get(slug="pfaff-areal")
    inside = (district.centroid_lon, district.centroid_lat)
    entities = [
        {
            "id": f"urn:ngsi-ld:Sensor:{n}",
            "type": "Sensor",
            "location": {
                "type": "GeoProperty",
                "value": {
                    "type": "Point",
                    "coordinates": list(inside) if n < 1203 else [7.70, 49.40 + n / 10**6],
                },
            },
        }
        for n in range(1207)
    ]
    broker = get_broker()
    try:
        for start in range(0, len(entities), 500):
            request = Req(
                principal=system_principal(city.ngsi_tenant, "test"),
                tenant=city.ngsi_tenant,
                ctx=broker.resolver.get(None),
                body=entities[start : start + 500],
            )
            assert batch_upsert(broker, request, WriteOptions()).status in (201, 204)
        measured = measured_in(district)
        assert [(m.name, m.count) for m in measured] == [("Sensor", 1203)]
        html = client.get("/stadtteile/pfaff-areal/").content.decode()
        assert "<code>Sensor</code></td><td>1.203</td>" in html
        assert len(measured_cache._data) == 1  # the second view came from the cache
        assert measured_in(district) == measured
    finally:
        delete_tenant(broker, city.ngsi_tenant)
