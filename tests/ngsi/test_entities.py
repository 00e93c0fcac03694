"""Entity CRUD through the ASGI app."""

from .conftest import LINK, building

E = "entities"


def test_create_retrieve_delete(client):
    r = client.post(E, json=building())
    assert r.status_code == 201, r.text
    assert r.headers["location"] == "/ngsi-ld/v1/entities/urn:ngsi-ld:Building:b1"
    r = client.get(E + "/urn:ngsi-ld:Building:b1")
    assert r.status_code == 200
    body = r.json()
    assert body["type"] == "Building" and body["floors"] == {
        "type": "Property",
        "value": 3,
        "unitCode": "C62",
    }
    assert "createdAt" not in body
    assert 'rel="http://www.w3.org/ns/json-ld#context"' in r.headers["link"]
    assert client.post(E, json=building()).status_code == 409
    assert client.delete(E + "/urn:ngsi-ld:Building:b1").status_code == 204
    r = client.get(E + "/urn:ngsi-ld:Building:b1")
    assert r.status_code == 404
    assert r.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound"
    assert client.delete(E + "/urn:ngsi-ld:Building:b1").status_code == 404


def test_ld_json_create_and_compaction_with_user_context(client):
    from .conftest import TEST_CTX

    body = building()
    body["@context"] = TEST_CTX
    r = client.post(E, json=body, headers={"Content-Type": "application/ld+json"})
    assert r.status_code == 201, r.text
    # with the same context: short names
    r = client.get(
        E + "/urn:ngsi-ld:Building:b1", headers={"Link": LINK, "Accept": "application/ld+json"}
    )
    assert r.json()["type"] == "Building" and "name" in r.json()
    assert r.json()["@context"] == TEST_CTX
    assert r.headers["content-type"] == "application/ld+json"
    # core only: full IRIs
    r = client.get(E + "/urn:ngsi-ld:Building:b1")
    assert r.json()["type"] == "https://example.org/vocab#Building"
    assert "https://example.org/vocab#name" in r.json()


def test_context_rules_for_bodies(client):
    b = building()
    b["@context"] = "https://example.org/ngsi-ld/test-context.jsonld"
    r = client.post(E, json=b)  # application/json with @context
    assert r.status_code == 400
    r = client.post(E, json=building(), headers={"Content-Type": "application/ld+json"})
    assert r.status_code == 400  # ld+json without @context
    r = client.post(E, json=b, headers={"Content-Type": "application/ld+json", "Link": LINK})
    assert r.status_code == 400  # both


def test_retrieve_options(client):
    client.post(E, json=building())
    url = E + "/urn:ngsi-ld:Building:b1"
    kv = client.get(url, params={"options": "keyValues"}).json()
    assert kv["floors"] == 3 and kv["owner"] == "urn:ngsi-ld:Person:p1"
    assert client.get(url, params={"options": "simplified"}).json() == kv
    sa = client.get(url, params={"options": "sysAttrs"}).json()
    assert sa["createdAt"] and sa["floors"]["modifiedAt"]
    c = client.get(url, params={"options": "concise"}).json()
    assert c["floors"] == {"value": 3, "unitCode": "C62"} and c["name"] == "Pfaff-Halle"
    p = client.get(url, params={"attrs": "name"}).json()
    assert set(p) == {"id", "type", "name"}
    p = client.get(url, params={"pick": "id,floors"}).json()
    assert set(p) == {"id", "floors"}
    p = client.get(url, params={"omit": "type,floors"}).json()
    assert "type" not in p and "floors" not in p and "name" in p
    assert client.get(url, params={"pick": "id", "omit": "type"}).status_code == 400
    assert client.get(url, params={"options": "bogus"}).status_code == 400
    assert client.get(url, params={"type": "Building"}).status_code == 200
    assert client.get(url, params={"type": "Other"}).status_code == 404


def test_geojson_output(client):
    client.post(E, json=building())
    url = E + "/urn:ngsi-ld:Building:b1"
    r = client.get(url, headers={"Accept": "application/geo+json"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/geo+json"
    f = r.json()
    assert f["type"] == "Feature" and f["geometry"]["type"] == "Point"
    r = client.get(url, params={"format": "geojson", "options": "keyValues"})
    assert r.json()["properties"]["floors"] == 3
    r = client.get(url, params={"format": "geojson", "geometryProperty": "nothere"})
    assert r.json()["geometry"] is None


def test_language_property_lang(client):
    client.post(
        E,
        json=building(
            street={"type": "LanguageProperty", "languageMap": {"fr": "Rue", "en": "Street"}}
        ),
    )
    url = E + "/urn:ngsi-ld:Building:b1"
    r = client.get(url, params={"lang": "en"}).json()
    assert r["street"] == {"type": "Property", "value": "Street", "lang": "en"}
    r = client.get(url, params={"lang": "de,fr", "options": "keyValues"}).json()
    assert r["street"] == "Rue"
    r = client.get(url, params={"lang": "*"}).json()
    # any one language (PostgreSQL's jsonb does not keep the order of the map's keys)
    assert r["street"] in (
        {"type": "Property", "value": "Rue", "lang": "fr"},
        {"type": "Property", "value": "Street", "lang": "en"},
    )
    r = client.get(url, params={"lang": "de-CH,en;q=0.8,fr;q=0.9"}).json()
    assert r["street"]["lang"] == "fr"
    assert client.get(url).json()["street"]["type"] == "LanguageProperty"


def test_replace_entity(client):
    client.post(E, json=building())
    url = E + "/urn:ngsi-ld:Building:b1"
    created = client.get(url, params={"options": "sysAttrs"}).json()["createdAt"]
    r = client.put(url, json={"type": "Building", "height": {"type": "Property", "value": 9}})
    assert r.status_code == 204, r.text
    body = client.get(url, params={"options": "sysAttrs"}).json()
    assert "name" not in body and body["height"]["value"] == 9 and body["createdAt"] == created
    assert client.put(url, json={"id": "urn:other:1", "type": "Building"}).status_code == 400
    assert client.put(E + "/urn:x:none", json={"type": "B"}).status_code == 404


def test_merge_entity_and_null(client):
    client.post(E, json=building())
    url = E + "/urn:ngsi-ld:Building:b1"
    r = client.patch(
        url,
        json={
            "floors": {"value": 4},
            "name": "urn:ngsi-ld:null",
            "extra": {"type": "Property", "value": True},
            "owner": {"type": "Relationship", "object": "urn:ngsi-ld:null"},
        },
    )
    assert r.status_code == 204, r.text
    body = client.get(url).json()
    assert body["floors"] == {"type": "Property", "value": 4, "unitCode": "C62"}
    assert "name" not in body and "owner" not in body and body["extra"]["value"] is True
    assert client.patch(E + "/urn:x:none", json={"a": 1}).status_code == 404
    r = client.patch(url, json={"a": 1}, headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 204


def test_invalid_ids_and_bodies(client):
    assert client.get(E + "/not-a-uri").status_code == 400
    assert (
        client.post(E, content=b"{oops", headers={"Content-Type": "application/json"}).status_code
        == 400
    )
    assert client.post(E, json=[]).json()["type"].endswith("InvalidRequest")
    r = client.post(E, json={"id": "urn:x:1", "type": "T", "bad name": 1})
    assert r.status_code == 400 and "invalid character" in r.json()["detail"]
    assert client.post(E, content=b"{}", headers={"Content-Type": "text/plain"}).status_code == 415
    assert client.get(E + "/urn:x:1", headers={"Accept": "text/html"}).status_code == 406


def test_scope(client):
    client.post(E, json=building(scope=["/Kaiserslautern/Pfaff", "/Kaiserslautern"]))
    body = client.get(E + "/urn:ngsi-ld:Building:b1").json()
    assert body["scope"] == ["/Kaiserslautern/Pfaff", "/Kaiserslautern"]
    assert client.post(E, json=building("urn:x:2", scope="bad")).status_code == 400


def test_multi_instance_attributes(client):
    client.post(
        E,
        json=building(
            speed=[
                {"type": "Property", "value": 1, "datasetId": "urn:ds:a"},
                {"type": "Property", "value": 2},
            ]
        ),
    )
    body = client.get(E + "/urn:ngsi-ld:Building:b1").json()
    assert body["speed"][0] == {"type": "Property", "value": 2}
    assert body["speed"][1]["datasetId"] == "urn:ds:a"
