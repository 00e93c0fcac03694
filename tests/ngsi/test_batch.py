"""Batch entity operations."""

from .conftest import building

OPS = "entityOperations/"


def test_batch_create_partial_failure(client):
    client.post("entities", json=building("urn:x:exists"))
    r = client.post(
        OPS + "create",
        json=[building("urn:x:1"), building("urn:x:exists"), {"id": "bad id", "type": "T"}],
    )
    assert r.status_code == 207, r.text
    body = r.json()
    assert body["success"] == ["urn:x:1"]
    errs = {e["entityId"]: e["error"]["type"] for e in body["errors"]}
    assert errs["urn:x:exists"].endswith("AlreadyExists")
    assert errs["bad id"].endswith("BadRequestData")
    r = client.post(OPS + "create", json=[building("urn:x:2"), building("urn:x:3")])
    assert r.status_code == 201 and r.json() == ["urn:x:2", "urn:x:3"]


def test_batch_bad_payloads(client):
    assert client.post(OPS + "create", json=[]).status_code == 400
    assert client.post(OPS + "create", json={"id": "urn:x:1"}).status_code == 400
    assert client.post(OPS + "delete", json=[]).status_code == 400


def test_batch_upsert_replace_and_update(client):
    r = client.post(OPS + "upsert", json=[building("urn:x:1")])
    assert r.status_code == 201 and r.json() == ["urn:x:1"]
    r = client.post(
        OPS + "upsert",
        json=[{"id": "urn:x:1", "type": "Building", "floors": {"type": "Property", "value": 9}}],
    )
    assert r.status_code == 204
    assert "name" not in client.get("entities/urn:x:1").json()  # replaced
    r = client.post(
        OPS + "upsert",
        params={"options": "update"},
        json=[{"id": "urn:x:1", "type": "Building", "name": {"type": "Property", "value": "n"}}],
    )
    assert r.status_code == 204
    body = client.get("entities/urn:x:1").json()
    assert body["floors"]["value"] == 9 and body["name"]["value"] == "n"


def test_batch_update_and_merge_and_delete(client):
    client.post(OPS + "create", json=[building("urn:x:1"), building("urn:x:2")])
    r = client.post(
        OPS + "update",
        json=[
            {"id": "urn:x:1", "floors": {"type": "Property", "value": 1}},
            {"id": "urn:x:none", "floors": {"type": "Property", "value": 1}},
        ],
    )
    assert r.status_code == 207
    assert r.json()["errors"][0]["entityId"] == "urn:x:none"
    r = client.post(
        OPS + "update",
        params={"options": "noOverwrite"},
        json=[{"id": "urn:x:1", "floors": {"type": "Property", "value": 100}}],
    )
    assert r.status_code == 207  # existing attributes are kept and reported (ETSI 005_02)
    assert client.get("entities/urn:x:1").json()["floors"]["value"] == 1
    r = client.post(
        OPS + "merge", json=[{"id": "urn:x:2", "floors": {"value": 33}, "name": "urn:ngsi-ld:null"}]
    )
    assert r.status_code == 204
    b = client.get("entities/urn:x:2").json()
    assert b["floors"]["value"] == 33 and b["floors"]["unitCode"] == "C62" and "name" not in b
    r = client.post(OPS + "delete", json=["urn:x:1", "urn:x:none"])
    assert r.status_code == 207
    assert r.json()["success"] == ["urn:x:1"]
    assert client.post(OPS + "delete", json=["urn:x:2"]).status_code == 204


def test_batch_is_atomic_per_request_on_failure(client, app):
    # a failing write raises inside the transaction: nothing of the request remains
    store = app.broker.store
    tenant = client.tenant
    try:
        with store.write(tenant) as tx:
            tx.insert({"id": "urn:x:atomic", "type": ["T"], "attrs": {}})
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert store.get(tenant, "urn:x:atomic") is None
