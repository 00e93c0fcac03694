"""GET /entities and POST /entityOperations/query."""

import json

import pytest

from .conftest import building


@pytest.fixture
def data(client):
    es = [building(f"urn:x:{i}", floors={"type": "Property", "value": i}) for i in range(5)]
    es.append(
        {
            "id": "urn:y:1",
            "type": ["Vehicle", "Building"],
            "speed": {"type": "Property", "value": 50},
        }
    )
    es.append({"id": "urn:y:2", "type": "Vehicle", "speed": {"type": "Property", "value": 10}})
    r = client.post("entityOperations/create", json=es)
    assert r.status_code == 201, r.text
    return client


def ids(r):
    assert r.status_code == 200, r.text
    return [e["id"] for e in r.json()]


def test_query_by_type_id_pattern_attrs(data):
    c = data
    assert ids(c.get("entities", params={"type": "Vehicle"})) == ["urn:y:1", "urn:y:2"]
    assert len(ids(c.get("entities", params={"type": "Building"}))) == 6
    assert ids(c.get("entities", params={"type": "Building;Vehicle"})) == ["urn:y:1"]
    assert len(ids(c.get("entities", params={"type": "Vehicle,Building"}))) == 7
    assert ids(c.get("entities", params={"id": "urn:x:1,urn:y:2", "type": "Building,Vehicle"})) == [
        "urn:x:1",
        "urn:y:2",
    ]
    assert c.get("entities", params={"id": "urn:x:1"}).status_code == 400  # id alone (ETSI)
    assert ids(c.get("entities", params={"idPattern": "^urn:y"})) == ["urn:y:1", "urn:y:2"]
    assert ids(c.get("entities", params={"attrs": "speed"})) == ["urn:y:1", "urn:y:2"]


def test_query_paging_and_count(data):
    c = data
    r = c.get("entities", params={"type": "Building", "limit": 2, "offset": 1, "count": "true"})
    assert ids(r) == ["urn:x:1", "urn:x:2"]
    assert r.headers["ngsild-results-count"] == "6"
    r = c.get("entities", params={"type": "Building", "limit": 0, "count": "true"})
    assert r.json() == [] and r.headers["ngsild-results-count"] == "6"
    r = c.get("entities", params={"type": "Building", "limit": 5000})
    assert r.status_code == 403 and r.json()["type"].endswith("TooManyResults")
    assert c.get("entities", params={"type": "Building", "limit": "x"}).status_code == 400
    assert c.get("entities").status_code == 400


def test_query_output_formats(data):
    c = data
    r = c.get("entities", params={"type": "Vehicle", "options": "keyValues"})
    assert r.json()[1] == {"id": "urn:y:2", "type": "Vehicle", "speed": 10}
    r = c.get("entities", params={"type": "Vehicle"}, headers={"Accept": "application/ld+json"})
    assert all("@context" in e for e in r.json())
    r = c.get(
        "entities",
        params={"type": "Building", "limit": 2},
        headers={"Accept": "application/geo+json"},
    )
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 2


def test_post_query(data):
    c = data
    r = c.post("entityOperations/query", json={"type": "Query", "entities": [{"type": "Vehicle"}]})
    assert ids(r) == ["urn:y:1", "urn:y:2"]
    r = c.post(
        "entityOperations/query", json={"type": "Query", "entities": [{"idPattern": ".*:2$"}]}
    )
    assert ids(r) == ["urn:x:2", "urn:y:2"]
    assert c.post("entityOperations/query", json={"entities": []}).status_code == 400


def test_unknown_tenant(client):
    r = client.get("entities", params={"type": "T"}, tenant="nosuchtenant")
    assert r.status_code == 404
    assert r.json()["type"].endswith("NonexistentTenant")
    assert client.get("entities/urn:x:1", tenant="nosuchtenant").status_code == 404


def test_tenants_are_isolated(client):
    assert (
        client.post("entities", json=building(), tenant="tenantA" + client.tenant).status_code
        == 201
    )
    assert client.get("entities/urn:ngsi-ld:Building:b1").status_code == 404
    assert (
        client.get("entities/urn:ngsi-ld:Building:b1", tenant="tenantA" + client.tenant).status_code
        == 200
    )
    from .pgutil import drop_tenant

    if client.app.broker.store.dialect == "postgresql":
        drop_tenant(client.app.broker.store, "tenantA" + client.tenant)


def test_q_scope_and_geo(client):
    es = [
        {
            "id": "urn:b:1",
            "type": "Building",
            "floors": {"type": "Property", "value": 3},
            "name": {"type": "Property", "value": "Pfaff"},
            "scope": "/KL/Pfaff",
            "location": {"type": "Point", "coordinates": [7.75, 49.44]},
        },
        {
            "id": "urn:b:2",
            "type": "Building",
            "floors": {"type": "Property", "value": 10},
            "name": {"type": "Property", "value": "Rathaus"},
            "scope": "/KL/Mitte",
            "location": {"type": "Point", "coordinates": [7.77, 49.445]},
        },
        {
            "id": "urn:b:3",
            "type": "Building",
            "floors": {"type": "Property", "value": 1},
            "owner": {"type": "Relationship", "object": "urn:p:1"},
            "location": {"type": "Point", "coordinates": [13.4, 52.5]},
        },
    ]
    assert client.post("entityOperations/create", json=es).status_code == 201
    q = lambda **p: ids(client.get("entities", params={"type": "Building", **p}))  # noqa: E731
    assert q(q="floors>2") == ["urn:b:1", "urn:b:2"]
    assert q(q='name=="Rathaus"') == ["urn:b:2"]
    assert q(q="floors>2;floors<5|owner==urn:p:1") in (["urn:b:1", "urn:b:3"],)
    assert ids(client.get("entities", params={"q": "floors==1"})) == ["urn:b:3"]
    assert q(scopeQ="/KL/#") == ["urn:b:1", "urn:b:2"]
    assert q(scopeQ="/KL/Mitte") == ["urn:b:2"]
    assert q(georel="near;maxDistance==5000", geometry="Point", coordinates="[7.76, 49.44]") == [
        "urn:b:1",
        "urn:b:2",
    ]
    assert q(
        georel="within", geometry="Polygon", coordinates="[[[7,49],[8,49],[8,50],[7,50],[7,49]]]"
    ) == ["urn:b:1", "urn:b:2"]
    r = client.get("entities", params={"type": "Building", "q": "floors>>2"})
    assert r.status_code == 400 and r.json()["type"].endswith("BadRequestData")
    assert (
        client.get(
            "entities",
            params={
                "type": "Building",
                "georel": "bogus",
                "geometry": "Point",
                "coordinates": "[1,2]",
            },
        ).status_code
        == 400
    )
    r = client.post(
        "entityOperations/query",
        json={
            "type": "Query",
            "entities": [{"type": "Building"}],
            "q": "floors>=3",
            "geoQ": {
                "georel": "near;maxDistance==5000",
                "geometry": "Point",
                "coordinates": [7.76, 49.44],
            },
        },
    )
    assert ids(r) == ["urn:b:1", "urn:b:2"]
    assert (
        client.delete("entities", params={"q": "floors<5", "type": "Building"}).status_code == 204
    )
    assert ids(client.get("entities", params={"type": "Building"})) == ["urn:b:2"]


def test_rendered_fragments_follow_changes(client):
    client.post(
        "entities", json={"id": "urn:f:1", "type": "F", "n": {"type": "Property", "value": 1}}
    )
    for v in (2, 3):
        assert client.get("entities", params={"type": "F"}).json()[0]["n"]["value"] == v - 1
        client.patch("entities/urn:f:1/attrs/n", json={"value": v})
    r = client.get(
        "entities",
        params={"type": "F", "options": "keyValues"},
        headers={"Accept": "application/ld+json"},
    )
    assert r.json() == [
        {
            "id": "urn:f:1",
            "type": "F",
            "n": 3,
            "@context": "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld",
        }
    ]


def test_geo_query_with_self_intersecting_polygon(client):
    """An invalid (self-intersecting) query polygon is repaired with make_valid, not a 400
    (ETSI 019_11_01 / 019_11_06)."""
    bow_tie = [[[7.0, 49.0], [8.0, 50.0], [8.0, 49.0], [7.0, 50.0], [7.0, 49.0]]]
    triangle = [[[7.05, 49.3], [7.3, 49.5], [7.05, 49.7], [7.05, 49.3]]]  # in the left lobe
    es = [
        {
            "id": "urn:g:bowtie",
            "type": "Building",
            "location": {
                "type": "GeoProperty",
                "value": {"type": "Polygon", "coordinates": bow_tie},
            },
        },
        {
            "id": "urn:g:triangle",
            "type": "Building",
            "location": {
                "type": "GeoProperty",
                "value": {"type": "Polygon", "coordinates": triangle},
            },
        },
        {
            "id": "urn:g:gap",  # between the lobes: inside the ring's bbox, outside the area
            "type": "Building",
            "location": {
                "type": "GeoProperty",
                "value": {"type": "Point", "coordinates": [7.5, 49.1]},
            },
        },
    ]
    assert client.post("entityOperations/create", json=es).status_code == 201

    def q(georel):
        r = client.get(
            "entities",
            params={
                "type": "Building",
                "georel": georel,
                "geometry": "Polygon",
                "coordinates": json.dumps(bow_tie),
                "count": "true",
            },
        )
        assert r.headers["NGSILD-Results-Count"] == str(len(r.json()))
        return ids(r)

    assert q("within") == ["urn:g:triangle"]
    assert q("equals") == ["urn:g:bowtie"]
    assert q("intersects") == ["urn:g:bowtie", "urn:g:triangle"]
    assert q("disjoint") == ["urn:g:gap"]
    r = client.post(
        "entityOperations/query",
        json={
            "type": "Query",
            "entities": [{"type": "Building"}],
            "geoQ": {"georel": "within", "geometry": "Polygon", "coordinates": bow_tie},
        },
    )
    assert ids(r) == ["urn:g:triangle"]
