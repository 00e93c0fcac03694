"""The open-data datasets the pillars register for the coming DCAT catalogue: participation one per
published process, urban data one per entity type of the city's tenant; every distribution's URL
exists and answers with its media type."""

import json

import httpx
import pytest

from herzstadt.core import registry
from herzstadt.urbandata.demo import DEMO_FILES

pytestmark = pytest.mark.django_db(transaction=True)


class OpenDataVerifier:
    """The hosted cities' tenants, publishing every entity type of the demo (the site's default
    verifier publishes nothing: the city decides what is open data)."""

    def authenticate(self, scheme, credential):
        return None

    def tenant_policy(self, tenant):
        from herzstadt.ngsi.auth import TenantPolicy
        from herzstadt.urbandata.verifier import CityTenantVerifier

        if CityTenantVerifier().tenant_policy(tenant) is None:
            return None
        from herzstadt.urbandata.broker import get_broker

        return TenantPolicy(public_types=frozenset(get_broker().store.entity_types(tenant)))


@pytest.fixture(autouse=True)
def open_data(settings):
    settings.NGSI_VERIFIER = "tests.test_datasets.OpenDataVerifier"


def test_nothing_is_published_unless_the_city_publishes_it(demo, settings):
    settings.NGSI_VERIFIER = "herzstadt.urbandata.verifier.CityTenantVerifier"
    assert not [d for d in registry.datasets(demo) if d.identifier.startswith("urbandata-")]


def test_the_demo_city_publishes_its_processes_and_entity_types(demo):
    import json

    found = {d.identifier: d for d in registry.datasets(demo)}
    process = found["participation-zukunft-pfaff-areal"]
    assert process.licence == "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
    assert process.spatial["type"] in ("Polygon", "MultiPolygon")
    assert process.temporal[0] < process.temporal[1] and process.modified is not None
    assert {d.format for d in process.distributions} == {"CSV", "JSON", "GeoJSON"}
    types = {e["type"] for e in json.loads(DEMO_FILES["kaiserslautern"].read_text())}
    assert {f"urbandata-{t}" for t in types} <= set(found)
    assert found["urbandata-AirQualityObserved"].themes == ("ENVI",)


def test_a_city_without_data_publishes_nothing(other_city):
    other_city.ngsi_tenant = "musterstadt"  # a tenant of its own, which holds no data yet
    other_city.save()
    assert registry.datasets(other_city) == []


def test_every_site_distribution_answers(client, demo):
    for dataset in registry.datasets(demo):
        for dist in dataset.distributions:
            if dist.url.startswith("/ngsi-ld/"):
                continue  # served by the broker's ASGI app, see below
            response = client.get(dist.url)
            assert response.status_code == 200, dist.url
            assert response["Content-Type"].startswith(dist.media_type), dist.url


def test_every_ngsi_ld_distribution_answers(demo):
    import asyncio

    from herzstadt.asgi import Dispatcher, _mounts, django_app

    datasets = registry.datasets(demo)
    dists = [d for s in datasets for d in s.distributions if d.url.startswith("/ngsi-ld/")]
    urls = [d.url for d in dists]
    media = {d.url: d.media_type for d in dists}
    geojson = {d.url for d in dists if d.format == "GeoJSON"}
    assert urls and geojson
    assert {d.format for d in dists} == {"NGSI-LD", "GeoJSON"}

    async def fetch_all():
        transport = httpx.ASGITransport(app=Dispatcher(django_app, _mounts()))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return [(url, await client.get(url)) for url in urls]

    # Only the broker's ASGI app answers these (no Django database access in the event loop).
    for url, response in asyncio.run(fetch_all()):
        assert response.status_code == 200, url
        assert response.headers["content-type"].startswith(media[url]), url
        body = response.json()
        if "/temporal/" in url:
            # the history may be empty (retention, or another test's entities written without
            # one into the shared broker): a list, not an error
            assert isinstance(body, list), url
        else:
            assert body, url  # the type has entities
        if url in geojson:
            assert body["type"] == "FeatureCollection" and body["features"], url


def test_two_published_types_with_one_short_name_get_distinct_identifiers(city):
    """E.g. a device key's AirQualityObserved of the core @context beside the Smart Data Model's."""
    import uuid

    from herzstadt.ngsi.auth import system_principal
    from herzstadt.ngsi.params import WriteOptions
    from herzstadt.ngsi.service import Req, batch_upsert
    from herzstadt.urbandata.broker import get_broker

    city.ngsi_tenant = f"twins{uuid.uuid4().hex[:10]}"
    city.save()
    broker = get_broker()
    body = [
        {
            "id": "urn:a:1",
            "type": "https://smartdatamodels.org/dataModel.Environment/AirQualityObserved",
        },
        {"id": "urn:a:2", "type": "AirQualityObserved"},
    ]
    req = Req(
        principal=system_principal(city.ngsi_tenant),
        tenant=city.ngsi_tenant,
        ctx=broker.resolver.get(None),
        body=body,
    )
    assert batch_upsert(broker, req, WriteOptions()).status == 201
    found = [d.identifier for d in registry.datasets(city) if d.identifier.startswith("urbandata-")]
    assert len(found) == 2 and len(set(found)) == 2
    assert "urbandata-AirQualityObserved" in found


def test_the_csv_download_of_a_published_type(client, demo, settings):
    """Only a type the city publishes: the air quality is open data; the citizens' reports and the
    smart meters are not (a verifier that publishes everything but them)."""
    import csv
    import io
    from urllib.parse import urlencode

    settings.NGSI_VERIFIER = "tests.knowledge.test_dcat.OpenDataVerifier"
    sdm = "https://smartdatamodels.org/"
    air = f"{sdm}dataModel.Environment/AirQualityObserved"
    url = "/api/v1/open-data/entities.csv?"
    response = client.get(url + urlencode({"type": air}))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    entities = [
        e
        for e in json.loads(DEMO_FILES["kaiserslautern"].read_text())
        if e["type"] == "AirQualityObserved"
    ]
    assert sorted(r["id"] for r in rows) == sorted(e["id"] for e in entities)
    assert all(r["type"] == "AirQualityObserved" and r["longitude"] and r["latitude"] for r in rows)
    assert "no2" in rows[0]
    again = client.get(url + urlencode({"type": air}), HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    for personal in (
        "dataModel.IssueTracking/IssueReporting",
        "dataModel.Device/SmartMeteringObservation",
    ):
        response = client.get(url + urlencode({"type": sdm + personal}))
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/problem+json")
    assert client.get(url).status_code == 404
    assert client.get(url + "type=Unknown").status_code == 404
