"""The device registry's JSON API (/api/v1/devices/, /api/v1/dead-letters/): admin API clients of
the city only, ProblemDetails on every error, the city's devices only."""

from __future__ import annotations

import orjson
import pytest

from herzstadt.urbandata import access
from herzstadt.urbandata.models import ApiClient, DeadLetter, Device
from tests.urbandata.test_ingest import AQ, NO2, device_key

pytestmark = pytest.mark.django_db


def client_key(city, scopes=("read", "write", "admin")):
    _client, key = access.create_client(city, None, ApiClient(name="ops", scopes=list(scopes)))
    return key


def call(client, method, url, key=None, body=None, **headers):
    if key:
        headers["HTTP_X_API_KEY"] = key
    kwargs = {}
    if body is not None:
        kwargs = {"data": orjson.dumps(body), "content_type": "application/json"}
    return getattr(client, method)(url, **kwargs, **headers)


def payload(cred, **kw):
    body = {
        "deviceId": "thermo-1",
        "protocol": "iota-json",
        "entityId": "urn:ngsi-ld:AirQualityObserved:thermo-1",
        "entityType": AQ,
        "deviceKey": cred.pk,
        "timeKey": "TimeInstant",
        "mapping": [
            {"key": "n", "attribute": NO2, "unitCode": "GQ"},
            {"key": "t", "attribute": "temperature", "scale": 0.1, "offset": -40},
            {"key": "pos", "attribute": "location", "kind": "GeoProperty"},
        ],
    }
    body.update(kw)
    return body


def test_crud(client, city):
    key = client_key(city)
    cred, _dkey = device_key(city)
    r = call(client, "post", "/api/v1/devices/", key, payload(cred))
    assert r.status_code == 201, r.content
    made = r.json()
    assert r["Location"] == f"/api/v1/devices/{made['id']}/"
    assert (
        made["mapping"][1]["attribute"]
        == "https://uri.etsi.org/ngsi-ld/default-context/temperature"
    )
    assert made["mapping"][2]["attribute"] == "https://uri.etsi.org/ngsi-ld/location"
    assert call(client, "get", "/api/v1/devices/", key).json()[0]["deviceId"] == "thermo-1"
    url = r["Location"]
    r = call(client, "put", url, key, payload(cred, deviceId="thermo-2", mapping=[]))
    assert r.status_code == 200 and r.json()["deviceId"] == "thermo-2"
    assert call(client, "get", url, key).json()["mapping"] == []
    assert call(client, "delete", url, key).status_code == 204
    assert not Device.objects.exists()
    assert call(client, "get", url, key).status_code == 404


def test_credentials_and_cities(client, city, other_city):
    cred, _ = device_key(city)
    r = call(client, "get", "/api/v1/devices/")
    assert r.status_code == 401 and r["Content-Type"] == "application/problem+json"
    assert call(client, "get", "/api/v1/devices/", "hzk_wrong").status_code == 401
    _, device_secret = device_key(city, name="d2")
    assert call(client, "get", "/api/v1/devices/", device_secret).status_code == 401
    assert (
        call(client, "get", "/api/v1/devices/", client_key(city, ("read", "write"))).status_code
        == 403
    )
    other_city.ngsi_tenant = "musterstadt"
    other_city.save()
    other = client_key(other_city)
    # a device key of another city cannot be named, and another city's device is not found
    r = call(client, "post", "/api/v1/devices/", other, payload(cred))
    assert r.status_code == 400 and "deviceKey" in r.json()["errors"]
    mine = call(client, "post", "/api/v1/devices/", client_key(city), payload(cred)).json()
    assert call(client, "get", f"/api/v1/devices/{mine['id']}/", other).status_code == 404
    assert call(client, "delete", f"/api/v1/devices/{mine['id']}/", other).status_code == 404
    assert call(client, "get", "/api/v1/devices/", other).json() == []
    r = client.get("/api/v1/devices/", HTTP_AUTHORIZATION=f"ApiKey {client_key(city)}")
    assert r.status_code == 200 and len(r.json()) == 1


@pytest.mark.parametrize(
    "change, field",
    [
        ({"deviceId": ""}, "deviceId"),
        ({"protocol": "zigbee"}, "protocol"),
        ({"protocol": "tts"}, "application"),
        ({"entityId": "not a uri"}, "entityId"),
        ({"entityType": "https://example.org/Other"}, "entityType"),
        ({"mapping": {"n": "no2"}}, "mapping"),
        ({"mapping": [{"key": "n"}]}, "mapping"),
        ({"mapping": [{"key": "n", "attribute": "a"}, {"key": "n", "attribute": "b"}]}, "mapping"),
        ({"mapping": [{"key": "n", "attribute": "a", "scale": "x"}]}, "mapping"),
        ({"mapping": [{"key": "n", "attribute": "a", "kind": "Relationship"}]}, "mapping"),
        ({"mapping": [{"key": "n", "attribute": "a", "evil": 1}]}, "mapping"),
        ({"deviceKey": "1"}, "deviceKey"),
    ],
)
def test_invalid_devices_are_refused(client, city, change, field):
    key = client_key(city)
    cred, _ = device_key(city)
    r = call(client, "post", "/api/v1/devices/", key, payload(cred, **change))
    assert r.status_code == 400, r.content
    assert r["Content-Type"] == "application/problem+json"
    assert field in r.json()["errors"]
    assert not Device.objects.exists()


def test_bad_requests(client, city):
    key = client_key(city)
    cred, _ = device_key(city)
    assert call(client, "post", "/api/v1/devices/", key, [1]).status_code == 400
    r = client.post(
        "/api/v1/devices/", data=b"{", content_type="application/json", HTTP_X_API_KEY=key
    )
    assert r.status_code == 400
    r = client.post("/api/v1/devices/", data=b"x", content_type="text/plain", HTTP_X_API_KEY=key)
    assert r.status_code == 415
    assert call(client, "patch", "/api/v1/devices/", key, {}).status_code == 405
    assert call(client, "post", "/api/v1/devices/", key, payload(cred)).status_code == 201
    r = call(client, "post", "/api/v1/devices/", key, payload(cred))
    assert r.status_code == 400 and "deviceId" in r.json()["errors"]
    assert call(client, "get", "/api/v1/dead-letters/?limit=0", key).status_code == 400
    assert call(client, "get", "/api/v1/dead-letters/?limit=x", key).status_code == 400


def test_dead_letters_of_the_city(client, city, other_city):
    DeadLetter.objects.create(
        city=city, topic="herzstadt/hzd_abcd…/entities", reason="bad JSON", payload="{"
    )
    DeadLetter.objects.create(city=None, topic="x", reason="unknown topic")
    r = call(client, "get", "/api/v1/dead-letters/", client_key(city))
    assert [d["reason"] for d in r.json()] == ["bad JSON"]
