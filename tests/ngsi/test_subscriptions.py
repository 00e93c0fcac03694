"""Subscription resources and the validation of routed APIs (notifications: tests/ngsi/notify)."""

import pytest

from herzstadt.ngsi.asgi import make_app
from tests.ngsi.conftest import make_config


@pytest.fixture
def app(backend, tmp_path):
    # endpoints on loopback are allowed here (the default allow-list is empty)
    a = make_app(
        make_config(backend, tmp_path, notify_hosts=["127.0.0.1"], notify_allow_private=True)
    )
    yield a
    a.close()


SUB = {
    "id": "urn:ngsi-ld:Subscription:s1",
    "type": "Subscription",
    "entities": [{"type": "Building"}],
    "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify"}},
}


def test_subscription_crud(client):
    r = client.post("subscriptions", json=SUB)
    assert r.status_code == 201, r.text
    assert r.headers["location"].endswith("/subscriptions/urn:ngsi-ld:Subscription:s1")
    assert client.post("subscriptions", json=SUB).status_code == 409
    r = client.get("subscriptions/urn:ngsi-ld:Subscription:s1")
    assert (
        r.status_code == 200 and "jsonldContext" not in r.json()
    )  # only when the client names one
    assert r.json()["status"] == "active" and "link" in r.headers
    r = client.patch(
        "subscriptions/urn:ngsi-ld:Subscription:s1",
        json={"isActive": False},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 204
    assert client.get("subscriptions/urn:ngsi-ld:Subscription:s1").json()["status"] == "paused"
    r = client.get("subscriptions", params={"count": "true"})
    assert len(r.json()) == 1 and r.headers["ngsild-results-count"] == "1"
    assert client.delete("subscriptions/urn:ngsi-ld:Subscription:s1").status_code == 204
    assert client.get("subscriptions/urn:ngsi-ld:Subscription:s1").status_code == 404
    bad = dict(SUB, notification={"endpoint": {"uri": "not a uri"}})
    assert client.post("subscriptions", json=bad).status_code == 400
    assert client.post("subscriptions", json=dict(SUB, type="Other")).status_code == 400


def test_subscription_inline_context_is_implicitly_created(client):
    body = dict(SUB, **{"@context": [{"foo": "http://foo.org/foo"}]})
    r = client.post("subscriptions", json=body, headers={"Content-Type": "application/ld+json"})
    assert r.status_code == 201, r.text
    ctx_url = client.get("subscriptions/urn:ngsi-ld:Subscription:s1").json()["jsonldContext"]
    local_id = ctx_url.rsplit("/", 1)[1]
    r = client.get("jsonldContexts/" + local_id, params={"details": "true"})
    assert r.json()["kind"] == "ImplicitlyCreated"


def test_unimplemented_apis_still_validate(client):
    # built: 200 (SQLite default tenant) or 404 (a fresh PostgreSQL test tenant does not exist)
    assert client.get("csourceRegistrations", params={"type": "T"}).status_code in (200, 404)
    # built: 200 (SQLite default tenant) or 404 (a fresh PostgreSQL test tenant does not exist)
    assert client.get("temporal/entities", params={"type": "T"}).status_code in (200, 404)
    assert client.get("temporal/entities", params={"bogus": "1"}).status_code == 400
    r = client.post(
        "temporal/entities", content=b"<x/>", headers={"Content-Type": "application/xml"}
    )
    assert r.status_code == 415
    r = client.get(
        "csourceRegistrations", params={"type": "T"}, headers={"Accept": "application/geo+json"}
    )
    assert r.status_code == 406
