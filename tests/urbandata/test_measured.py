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


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_ngsi_ld_api_is_served_by_the_site(demo, anyio_backend):
    from herzstadt.asgi import Dispatcher, django_app
    from herzstadt.urbandata.broker import ngsi_application

    app = Dispatcher(django_app, {"/ngsi-ld/": ngsi_application()})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        link = '<https://raw.githubusercontent.com/smart-data-models/dataModel.Parking/master/context.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
        response = await client.get(
            "/ngsi-ld/v1/entities", params={"type": "OffStreetParking"}, headers={"Link": link}
        )
        assert response.status_code == 200
        ids = {e["id"] for e in response.json()}
        assert "urn:ngsi-ld:OffStreetParking:kaiserslautern:pfaff-areal:quartiersgarage" in ids
        assert all(e["type"] == "OffStreetParking" for e in response.json())
        bad = await client.get("/ngsi-ld/v1/entities", params={"q": "a=="})
        assert bad.status_code == 400
        assert bad.json()["type"].startswith("https://uri.etsi.org/ngsi-ld/errors/")
