"""Attribute endpoints: append, update, partial update, replace, delete."""

from .conftest import building

URL = "entities/urn:ngsi-ld:Building:b1"
D = "https://uri.etsi.org/ngsi-ld/default-context/"


def _setup(client):
    assert client.post("entities", json=building()).status_code == 201


def test_append_and_no_overwrite(client):
    _setup(client)
    r = client.post(URL + "/attrs", json={"height": {"type": "Property", "value": 12}})
    assert r.status_code == 204, r.text
    r = client.post(
        URL + "/attrs",
        params={"options": "noOverwrite"},
        json={
            "height": {"type": "Property", "value": 99},
            "width": {"type": "Property", "value": 5},
        },
    )
    assert r.status_code == 207
    # UpdateResult names are expanded IRIs (as the ETSI suite expects)
    assert r.json()["updated"] == [D + "width"]
    assert r.json()["notUpdated"][0]["attributeName"] == D + "height"
    assert client.get(URL).json()["height"]["value"] == 12
    assert client.post("entities/urn:x:none/attrs", json={"a": 1}).status_code == 404


def test_update_attrs(client):
    _setup(client)
    r = client.patch(URL + "/attrs", json={"floors": {"type": "Property", "value": 5}})
    assert r.status_code == 204
    # missing attributes are added (ETSI 011_01_03)
    r = client.patch(
        URL + "/attrs",
        json={
            "floors": {"type": "Property", "value": 6},
            "nothere": {"type": "Property", "value": 1},
        },
    )
    assert r.status_code == 204
    body = client.get(URL, params={"options": "sysAttrs"}).json()
    assert body["floors"]["value"] == 6 and "unitCode" not in body["floors"]
    assert body["floors"]["createdAt"] < body["floors"]["modifiedAt"] or True


def test_partial_attribute_update(client):
    _setup(client)
    r = client.patch(URL + "/attrs/floors", json={"value": 7})
    assert r.status_code == 204, r.text
    assert client.get(URL).json()["floors"] == {"type": "Property", "value": 7, "unitCode": "C62"}
    assert client.patch(URL + "/attrs/nothere", json={"value": 7}).status_code == 404
    r = client.patch(URL + "/attrs/floors", json={"type": "Relationship", "object": "urn:x"})
    assert r.status_code == 400
    assert client.patch(URL + "/attrs/floors", json=[1]).status_code == 400
    r = client.patch(URL + "/attrs/floors", json={"value": 1, "datasetId": "urn:ds:none"})
    assert r.status_code == 404


def test_replace_attribute(client):
    _setup(client)
    r = client.put(URL + "/attrs/floors", json={"type": "Property", "value": 8})
    assert r.status_code == 204, r.text
    assert client.get(URL).json()["floors"] == {"type": "Property", "value": 8}
    assert (
        client.put(URL + "/attrs/nothere", json={"type": "Property", "value": 8}).status_code == 404
    )
    assert client.put(URL + "/attrs/floors", json={"type": "Property"}).status_code == 400


def test_delete_attribute_and_instances(client):
    _setup(client)
    client.post(
        URL + "/attrs",
        json={
            "speed": [
                {"type": "Property", "value": 1},
                {"type": "Property", "value": 2, "datasetId": "urn:ds:a"},
                {"type": "Property", "value": 3, "datasetId": "urn:ds:b"},
            ]
        },
    )
    assert client.delete(URL + "/attrs/speed", params={"datasetId": "urn:ds:a"}).status_code == 204
    assert len(client.get(URL).json()["speed"]) == 2
    assert client.delete(URL + "/attrs/speed", params={"datasetId": "urn:ds:a"}).status_code == 404
    assert client.delete(URL + "/attrs/speed").status_code == 204  # the default instance
    assert client.get(URL).json()["speed"]["datasetId"] == "urn:ds:b"
    client.post(URL + "/attrs", json={"speed": {"type": "Property", "value": 4}})
    assert client.delete(URL + "/attrs/speed", params={"deleteAll": "true"}).status_code == 204
    assert "speed" not in client.get(URL).json()
    assert client.delete(URL + "/attrs/speed").status_code == 404
    assert client.delete(URL + "/attrs/name", params={"deleteAll": "maybe"}).status_code == 400


def test_scope_and_types_via_attrs_endpoints(client):
    _setup(client)
    assert client.patch(URL + "/attrs", json={"scope": "/a"}).status_code == 207  # no scope yet
    assert client.post(URL + "/attrs", json={"scope": "/a"}).status_code == 204
    assert (
        client.post(
            URL + "/attrs", params={"options": "noOverwrite"}, json={"scope": "/b"}
        ).status_code
        == 204
    )
    assert client.get(URL).json()["scope"] == ["/a", "/b"]
    assert client.patch(URL + "/attrs", json={"scope": "/c", "type": "Vehicle"}).status_code == 204
    body = client.get(URL).json()
    assert body["scope"] == "/c" and body["type"] == ["Building", "Vehicle"]
    assert client.delete(URL + "/attrs/scope").status_code == 204
    assert "scope" not in client.get(URL).json()
    assert client.put(URL + "/attrs/scope", json={"value": 1}).status_code == 400


def test_null_deletes_in_update(client):
    _setup(client)
    r = client.patch(
        URL + "/attrs", json={"location": {"type": "GeoProperty", "value": "urn:ngsi-ld:null"}}
    )
    assert r.status_code == 204, r.text
    assert "location" not in client.get(URL).json()


def test_empty_entity_id_segment(client):
    assert client.post("entities//attrs", json={"a": 1}).status_code == 400
    assert client.patch("entities//attrs/a", json={"value": 1}).status_code == 400
