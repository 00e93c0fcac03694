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


def test_id_pattern_matches_on_both(named):
    r = named.get("entities", params={"idPattern": "(?i)BUILDING:p"})
    assert [e["id"] for e in r.json()] == ["urn:ngsi-ld:Building:plain"]
