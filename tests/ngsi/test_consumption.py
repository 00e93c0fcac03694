"""Linked-entity retrieval (join), pick/omit projections, orderBy, unknown parameters."""

import pytest

from herzstadt.ngsi.errors import BadRequestData
from herzstadt.ngsi.projection import parse_projection


@pytest.fixture
def linked(client):
    es = [
        {
            "id": "urn:b:1",
            "type": "Building",
            "name": {"type": "Property", "value": "Tower"},
            "locatedAt": {"type": "Relationship", "object": "urn:c:1"},
        },
        {
            "id": "urn:c:1",
            "type": "City",
            "name": {"type": "Property", "value": "Paris"},
            "isIn": {"type": "Relationship", "object": "urn:k:1"},
        },
        {"id": "urn:k:1", "type": "Country", "name": {"type": "Property", "value": "France"}},
    ]
    assert client.post("entityOperations/create", json=es).status_code == 201
    return client


def test_join_inline_and_flat(linked):
    c = linked
    r = c.get("entities/urn:b:1", params={"join": "inline"}).json()
    assert r["locatedAt"]["entity"]["id"] == "urn:c:1"
    assert "entity" not in r["locatedAt"]["entity"]["isIn"]
    r = c.get("entities/urn:b:1", params={"join": "inline", "joinLevel": "2"}).json()
    assert r["locatedAt"]["entity"]["isIn"]["entity"]["name"]["value"] == "France"
    r = c.get("entities/urn:b:1", params={"join": "inline", "options": "keyValues"}).json()
    assert r["locatedAt"] == {"id": "urn:c:1", "type": "City", "name": "Paris", "isIn": "urn:k:1"}
    r = c.get("entities/urn:b:1", params={"join": "flat", "joinLevel": "2"}).json()
    assert [e["id"] for e in r] == ["urn:b:1", "urn:c:1", "urn:k:1"]
    r = c.get("entities/urn:k:1", params={"join": "flat"}).json()
    assert r["id"] == "urn:k:1"  # nothing linked: the entity alone
    r = c.get("entities", params={"type": "Building", "join": "flat"}).json()
    assert [e["id"] for e in r] == ["urn:b:1", "urn:c:1"]
    assert c.get("entities/urn:b:1", params={"join": "sideways"}).status_code == 400


def test_pick_omit_on_linked_entities(linked):
    c = linked
    r = c.get("entities/urn:b:1", params={"join": "inline", "pick": "id,locatedAt{id,name}"}).json()
    assert r == {
        "id": "urn:b:1",
        "locatedAt": {
            "type": "Relationship",
            "object": "urn:c:1",
            "entity": {"id": "urn:c:1", "name": {"type": "Property", "value": "Paris"}},
        },
    }
    r = c.get("entities/urn:b:1", params={"join": "inline", "omit": "type,locatedAt{name}"}).json()
    assert "type" not in r and "name" in r and "name" not in r["locatedAt"]["entity"]
    assert c.get("entities/urn:b:1", params={"pick": "nothing"}).status_code == 404
    assert c.get("entities/urn:b:1", params={"pick": "name", "attrs": "name"}).status_code == 400
    r = c.get("entities", params={"type": "Building,City,Country", "pick": "isIn"}).json()
    assert r == [{"isIn": {"type": "Relationship", "object": "urn:k:1"}}]


@pytest.mark.parametrize(
    "text",
    [
        "id;name",
        "id,locatedAt{name",
        "id,locatedAt{{name}",
        "id,,name",
        "id,locatedAt{,name}",
        "id,locatedAt{}",
        "",
    ],
)
def test_projection_syntax_errors(text):
    with pytest.raises(BadRequestData):
        parse_projection(text)


def test_order_by(client):
    es = [
        {
            "id": f"urn:o:{i}",
            "type": "T",
            "n": {"type": "Property", "value": v, "s": {"type": "Property", "value": -v}},
        }
        for i, v in enumerate([3, 1, 2])
    ]
    es.append({"id": "urn:o:9", "type": "T"})
    client.post("entityOperations/create", json=es)

    def ids(ob):
        return [e["id"] for e in client.get("entities", params={"type": "T", "orderBy": ob}).json()]

    assert ids("n") == ["urn:o:1", "urn:o:2", "urn:o:0", "urn:o:9"]  # missing values last
    assert ids("n;desc") == ["urn:o:0", "urn:o:2", "urn:o:1", "urn:o:9"]
    assert ids("n.s") == ["urn:o:0", "urn:o:2", "urn:o:1", "urn:o:9"]
    assert ids("id;desc") == ["urn:o:9", "urn:o:2", "urn:o:1", "urn:o:0"]
    r = client.get(
        "entities", params={"type": "T", "orderBy": "n", "limit": 1, "offset": 1, "count": "true"}
    )
    assert [e["id"] for e in r.json()] == ["urn:o:2"] and r.headers["ngsild-results-count"] == "4"
    assert client.get("entities", params={"type": "T", "orderBy": "n;up"}).status_code == 400


def test_unknown_parameters_and_options(client):
    client.post("entities", json={"id": "urn:x:1", "type": "T"})
    r = client.get("entities", params={"type": "T", "invalidParams": "x"})
    assert r.status_code == 400 and r.json()["type"].endswith("InvalidRequest")
    r = client.get("entities/urn:x:1", params={"options": "keyValues,invalid"})
    assert r.status_code == 400 and r.json()["type"].endswith("InvalidRequest")
    # format wins over options
    r = client.get("entities/urn:x:1", params={"format": "keyValues", "options": "normalized"})
    assert r.status_code == 200


def test_geojson_body_context(client):
    client.post(
        "entities",
        json={"id": "urn:x:1", "type": "T", "location": {"type": "Point", "coordinates": [1, 2]}},
    )
    r = client.get("entities/urn:x:1", headers={"Accept": "application/geo+json"})
    assert r.json()["@context"].endswith("ngsi-ld-core-context-v1.9.jsonld")
    r = client.get("types", headers={"Accept": "application/geo+json"})
    assert r.status_code == 406
