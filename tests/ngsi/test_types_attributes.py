from .conftest import building


def test_types_and_attributes(client):
    client.post(
        "entityOperations/create",
        json=[building("urn:x:1"), {"id": "urn:y:1", "type": "Vehicle", "speed": 3}],
    )
    r = client.get("types")
    assert r.status_code == 200 and sorted(r.json()["typeList"]) == ["Building", "Vehicle"]
    assert r.json()["type"] == "EntityTypeList"
    r = client.get("types", params={"details": "true"})
    assert {t["typeName"] for t in r.json()} == {"Building", "Vehicle"}
    r = client.get("types/Vehicle")
    assert r.json()["entityCount"] == 1
    assert r.json()["attributeDetails"][0]["attributeName"] == "speed"
    assert client.get("types/Nope").status_code == 404
    r = client.get("attributes")
    assert "speed" in r.json()["attributeList"] and r.json()["type"] == "AttributeList"
    r = client.get("attributes", params={"details": "true"})
    assert any(a["attributeName"] == "floors" for a in r.json())
    r = client.get("attributes/owner")
    assert r.json()["attributeTypes"] == ["Relationship"] and r.json()["typeNames"] == ["Building"]
    assert client.get("attributes/nope").status_code == 404


def test_purge(client):
    client.post(
        "entityOperations/create",
        json=[
            building("urn:x:1"),
            building("urn:x:2"),
            {"id": "urn:y:1", "type": "Vehicle", "speed": 3},
        ],
    )
    assert client.delete("entities").status_code == 400
    assert (
        client.delete("entities", params={"type": "Building", "keep": "a", "drop": "b"}).status_code
        == 400
    )
    assert client.delete("entities", params={"type": "Building", "drop": "name"}).status_code == 204
    assert "name" not in client.get("entities/urn:x:1").json()
    assert client.delete("entities", params={"type": "Building"}).status_code == 204
    assert client.get("entities/urn:x:1").status_code == 404
    assert client.get("entities/urn:y:1").status_code == 200


def test_type_and_attribute_lists_are_per_tenant(client, app, backend):
    other = (client.tenant or "t") + "other"
    zeppelin = {"id": "urn:z:1", "type": "Zeppelin", "altitude": {"type": "Property", "value": 3}}
    try:
        assert client.post("entities", json=zeppelin, tenant=other).status_code == 201
        assert client.post("entities", json={"id": "urn:y:2", "type": "Vehicle"}).status_code == 201
        assert client.get("types").json()["typeList"] == ["Vehicle"]
        assert client.get("attributes").json()["attributeList"] == []
        assert client.get("types", tenant=other).json()["typeList"] == ["Zeppelin"]
        assert client.get("attributes", tenant=other).json()["attributeList"] == ["altitude"]
        assert client.get("types", tenant=other + "-missing").status_code == 404
    finally:
        if backend == "postgresql":
            from tests.ngsi.pgutil import drop_tenant

            drop_tenant(app.broker.store, other)
