"""Malformed and hostile input never gives a 5xx and never leaves data behind (issue 8,
findings 3 and 6), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from .conftest import building


def _problem(r, status=400, kind="BadRequestData"):
    assert r.status_code == status, r.text
    body = r.json()
    assert body["type"].endswith(kind), body
    return body


@pytest.fixture
def named(client):
    long_a = "a" * 40
    es = [
        building("urn:ngsi-ld:Building:long", name={"type": "Property", "value": long_a + "!"}),
        building("urn:ngsi-ld:Building:plain", name={"type": "Property", "value": long_a}),
    ]
    r = client.post("entityOperations/create", json=es)
    assert r.status_code == 201, r.text
    return client


# ----------------------------------------------------------------------------- patterns
def test_catastrophic_pattern_completes(named):
    # (a+)+$ over 40+ characters: ~2^40 steps for a backtracking engine, linear with RE2
    r = named.get("entities", params={"type": "Building", "q": "name~=(a+)+$"})
    assert r.status_code == 200, r.text
    assert [e["id"] for e in r.json()] == ["urn:ngsi-ld:Building:plain"]
    r = named.get("entities", params={"type": "Building", "q": "name!~=(a+)+$"})
    assert [e["id"] for e in r.json()] == ["urn:ngsi-ld:Building:long"]


@pytest.mark.parametrize(
    "params",
    [
        {"type": "Building", "q": "name~=a{1000000}"},
        {"type": "Building", "q": "name~=(?P<x>a)"},
        {"type": "Building", "q": "name~=\\bword"},
        {"type": "Building", "idPattern": "(?P<x>a)"},
        {"type": "Building", "idPattern": "a{1000000}"},
        {"type": "Building", "idPattern": "(?=urn)"},
        {"idPattern": "(a)\\1"},
    ],
)
def test_patterns_outside_the_language_are_400(named, params):
    _problem(named.get("entities", params=params))


def test_patterns_in_query_bodies_and_purge(named):
    body = {"type": "Query", "entities": [{"type": "Building", "idPattern": "(?P<x>a)"}]}
    _problem(named.post("entityOperations/query", json=body))
    body = {"type": "Query", "entities": [{"type": "Building"}], "q": "name~=a{1000000}"}
    _problem(named.post("entityOperations/query", json=body))
    _problem(named.delete("entities", params={"idPattern": "(?P<x>a)"}))
    # nothing was purged
    assert len(named.get("entities", params={"type": "Building"}).json()) == 2


def test_scope_wildcards_run_as_patterns_within_the_limits(named):
    _problem(named.get("entities", params={"type": "Building", "scopeQ": "/+/" + "a" * 1200}))
    r = named.get("entities", params={"type": "Building", "scopeQ": "/+/" + "a" * 100})
    assert r.status_code == 200 and r.json() == []


def test_id_pattern_matches_on_both(named):
    r = named.get("entities", params={"idPattern": "(?i)BUILDING:p"})
    assert [e["id"] for e in r.json()] == ["urn:ngsi-ld:Building:plain"]


# ----------------------------------------------------------------------------- malformed data
def _count(c) -> int:
    r = c.get("entities", params={"type": "Building", "count": "true", "limit": "0"})
    return int(r.headers["NGSILD-Results-Count"])


@pytest.mark.parametrize(
    "attr",
    [
        {"type": {}, "value": 1},
        {"type": [], "value": 1},
        {"type": {"a": 1}},
        {"type": ["Property"], "value": 1},
        {"type": 7, "value": 1},
    ],
)
def test_unhashable_attribute_types_are_400(client, attr):
    r = client.post("entities", json=building(name=attr))
    _problem(r)
    assert client.get("entities/urn:ngsi-ld:Building:b1").status_code == 404


def test_patch_with_odd_types_is_400(client):
    assert client.post("entities", json=building()).status_code == 201
    before = client.get("entities/urn:ngsi-ld:Building:b1").json()
    for body in ({"type": []}, {"type": {}}, {"type": [], "value": 2}, {"type": {"x": 1}}):
        _problem(client.patch("entities/urn:ngsi-ld:Building:b1/attrs/name", json=body))
        _problem(client.patch("entities/urn:ngsi-ld:Building:b1/attrs", json={"name": body}))
    _problem(client.patch("entities/urn:ngsi-ld:Building:b1", json={"type": []}))
    _problem(client.patch("entities/urn:ngsi-ld:Building:b1", json={"location": {"type": {}}}))
    assert client.get("entities/urn:ngsi-ld:Building:b1").json() == before


def test_deeply_nested_coordinates_are_400(client):
    deep = "[" * 300 + "1" + "]" * 300
    for geometry in ("Point", "Polygon", "MultiPolygon", "LineString"):
        r = client.get(
            "entities",
            params={
                "type": "Building",
                "georel": "intersects",
                "geometry": geometry,
                "coordinates": deep,
            },
        )
        _problem(r)


@pytest.mark.parametrize(
    "coords", [[1e308, 1e308], [-1e308, 1e308], [181, 0], [0, 91], [1e300, 1], [7.7, 1e308]]
)
def test_coordinates_outside_wgs84_are_400(client, coords):
    loc = {"type": "GeoProperty", "value": {"type": "Point", "coordinates": coords}}
    _problem(client.post("entities", json=building(location=loc)))
    line = {"type": "GeoProperty", "value": {"type": "LineString", "coordinates": [[0, 0], coords]}}
    _problem(client.post("entities", json=building(location=line)))
    r = client.get(
        "entities",
        params={"georel": "near;maxDistance==10", "geometry": "Point", "coordinates": str(coords)},
    )
    _problem(r)
    assert client.get("entities/urn:ngsi-ld:Building:b1").status_code == 404
    # a valid entity can still be written afterwards (the index was never touched)
    assert client.post("entities", json=building()).status_code == 201


def test_extreme_numbers_in_values_and_queries(client):
    e = building(
        height={"type": "Property", "value": 1e308},
        depth={"type": "Property", "value": -0.0},
        tiny={"type": "Property", "value": 5e-324},
        big={"type": "Property", "value": 2**63},
        compound={"type": "Property", "value": {"a": [1e308, -1e308, 5e-324, 2**64 - 1]}},
    )
    assert client.post("entities", json=e).status_code == 201, "finite numbers are stored"
    for q in (
        "height==1e308",
        "height>99999999999999999999",
        "big==9223372036854775808",
        "floors==99999999999999999999",
        "floors<-99999999999999999999",
        "tiny>0",
    ):
        r = client.get("entities", params={"type": "Building", "q": q})
        assert r.status_code == 200, (q, r.text)
    _problem(client.get("entities", params={"type": "Building", "q": "height==1e999"}))
    r = client.get("entities", params={"type": "Building", "offset": "9223372036854775808"})
    assert r.status_code < 500, r.text


NUL_BODIES = [
    building("urn:ngsi-ld:Building:a\u0000b"),
    building(name={"type": "Property", "value": "Pfaff\u0000Halle"}),
    building(name={"type": "Property", "value": {"deep": ["x", {"y": "\u0000"}]}}),
    building(name={"type": "LanguageProperty", "languageMap": {"de": "a\u0000"}}),
    building(name={"type": "Property", "value": "x", "unitCode": "C\u000062"}),
    building(name={"type": "Property", "value": "x", "datasetId": "urn:ds:\u0000"}),
    building(owner={"type": "Relationship", "object": "urn:ngsi-ld:Person:\u0000"}),
    building(scope="/Kaisers\u0000lautern"),
    building(**{"na\u0000me": {"type": "Property", "value": 1}}),
    building(name={"type": "Property", "value": 1, "sub\u0000": {"type": "Property", "value": 1}}),
    building(name={"type": "JsonProperty", "json": {"k\u0000": 1}}),
    building(name={"type": "VocabProperty", "vocab": "ter\u0000m"}),
]


@pytest.mark.parametrize("body", NUL_BODIES)
def test_nul_characters_are_400_and_nothing_is_stored(client, body):
    _problem(client.post("entities", json=body))
    r = client.post("entityOperations/upsert", json=[body])
    assert r.status_code == 400 or (r.status_code == 207 and not r.json()["success"]), r.text
    assert client.post("entities", json=building("urn:ngsi-ld:Building:ok")).status_code == 201
    assert _count(client) == 1


def test_nul_characters_in_batches_updates_and_queries(client):
    assert client.post("entities", json=building()).status_code == 201
    before = client.get("entities/urn:ngsi-ld:Building:b1").json()
    bad = {"type": "Property", "value": "a\u0000"}
    r = client.post("entityOperations/upsert", json=[building("urn:ngsi-ld:Building:b2", name=bad)])
    assert 400 <= r.status_code < 500, r.text
    r = client.post("entityOperations/create", json=[building("urn:ngsi-ld:Building:a\u0000")])
    assert r.status_code == 400 or r.json()["errors"], r.text
    _problem(client.patch("entities/urn:ngsi-ld:Building:b1/attrs/name", json=bad))
    _problem(client.patch("entities/urn:ngsi-ld:Building:b1", json={"name": bad}))
    _problem(client.post("entities/urn:ngsi-ld:Building:b1/attrs", json={"name": bad}))
    assert client.get("entities/urn:ngsi-ld:Building:b1").json() == before
    assert _count(client) == 1
    for params in (
        {"type": "Building", "q": 'name=="a\u0000"'},
        {"type": "Build\u0000ing"},
        {"type": "Building", "id": "urn:ngsi-ld:Building:\u0000"},
        {"type": "Building", "attrs": "na\u0000me"},
        {"type": "Building", "scopeQ": "/a\u0000"},
        {"type": "Building", "idPattern": "\u0000"},
        {
            "type": "Building",
            "georel": "near;maxDistance==10",
            "geometry": "Point",
            "coordinates": "[7,49]",
            "geoproperty": "loc\u0000",
        },
    ):
        r = client.get("entities", params=params)
        assert 400 <= r.status_code < 500, (params, r.text)
    assert client.get("entities/urn:ngsi-ld:Building:%00").status_code in (400, 404)
    assert 400 <= client.get("types/Build%00ing").status_code < 500
    assert 400 <= client.get("attributes/na%00me").status_code < 500
    r = client.post(
        "subscriptions",
        json={
            "type": "Subscription",
            "entities": [{"type": "Building"}],
            "description": "a\u0000",
            "notification": {"endpoint": {"uri": "http://127.0.0.1:9/x"}},
        },
    )
    assert 400 <= r.status_code < 500, r.text
