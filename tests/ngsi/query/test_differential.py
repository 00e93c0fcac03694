"""The SQL compiler (SQLite, and PostgreSQL when HERZSTADT_TEST_DATABASE_URL is set) and the
Python evaluator must select exactly the same entities; some results are also pinned by hand."""

from __future__ import annotations

import os
import sqlite3
import uuid

import orjson
import pytest

from herzstadt.ngsi.query import (
    compile_where,
    geo_index_rows,
    install_sqlite_functions,
    matches,
    parse_query,
)

from .fixtures import all_docs, expand

DOCS = all_docs()
BY_ID = {d["id"]: d for d in DOCS}

SQLITE_SCHEMA = [
    "CREATE TABLE ngsi_entity (pk INTEGER PRIMARY KEY, tenant TEXT NOT NULL, id TEXT NOT NULL,"
    " doc TEXT NOT NULL)",
    "CREATE TABLE ngsi_geo (tenant TEXT NOT NULL, entity_pk INTEGER NOT NULL, attr TEXT NOT NULL,"
    " minx REAL, miny REAL, maxx REAL, maxy REAL)",
]

# (query parameters, expected ids or None when only the cross-check applies)
P1, P2 = "urn:ngsi-ld:Parking:1", "urn:ngsi-ld:Parking:2"
VA, VB = "urn:ngsi-ld:Vehicle:A1", "urn:ngsi-ld:Vehicle:B2"
RH, SK = "urn:ngsi-ld:Building:Rathaus", "urn:ngsi-ld:Building:Stiftskirche"
A6, NE, WE = "urn:ngsi-ld:Road:A6", "urn:ngsi-ld:Device:nested", "urn:ngsi-ld:Device:weird"
EM = "urn:ngsi-ld:Device:empty"

QUERIES: list[tuple[dict, set[str] | None]] = [
    # numbers
    ({"q": "availableSpotNumber>100"}, {P1}),
    ({"q": "availableSpotNumber==0"}, {P2}),
    ({"q": "availableSpotNumber!=0"}, {P1}),
    ({"q": "temperature>20"}, None),
    ({"q": "temperature>=21.5;temperature<=21.5"}, None),
    ({"q": "temperature<0|temperature>30"}, None),
    ({"q": "temperature==10..20"}, None),
    ({"q": "temperature!=10..20"}, None),
    ({"q": "temperature==21.5"}, None),
    ({"q": "temperature!=21.5"}, None),
    ({"q": "temperature==1,2,3,21.5,30"}, None),
    ({"q": "floors==21"}, {RH}),
    ({"q": "floors>=2.5"}, {RH, SK}),
    ({"q": "floors<3"}, {SK}),
    ({"q": "lanes==4"}, set()),
    ({"q": 'lanes=="4"'}, {A6}),
    ({"q": "speed>100"}, {VB}),
    ({"q": "speed==48.5"}, {VA}),
    ({"q": "speed!=50"}, {VA, VB}),  # the radar instance of A1 differs
    ({"q": "speed==40..49"}, {VA}),
    # strings
    ({"q": 'name=="Pfaff-Areal"'}, {P1}),
    ({"q": 'name=="Altstadt \\"Nord\\""'}, {P2}),
    ({"q": 'name!="Pfaff-Areal"'}, None),
    ({"q": 'name>"M"'}, None),
    ({"q": 'name=="A".."M"'}, None),
    ({"q": 'name~="^Pfaff"'}, {P1}),
    ({"q": "name~=(?i)straße\\s\\d$"}, None),
    ({"q": 'name!~="straße"'}, None),
    ({"q": 'name=="Rathaus"'}, {RH}),
    ({"q": 'name=="Town Hall"'}, {RH}),
    ({"q": 'name=="Ev. Stiftskirche"'}, {SK}),
    ({"q": 'name[de]=="Rathaus"'}, {RH}),
    ({"q": 'name[en]=="Rathaus"'}, set()),
    ({"q": "name[en]"}, {RH, SK}),
    ({"q": 'name~="^Stift"'}, {SK}),
    ({"q": 'name!="Rathaus";name[de]'}, {SK}),
    ({"q": 'temperature=="hot"'}, {WE}),
    ({"q": 'temperature~="o"'}, {WE}),
    # booleans
    ({"q": "inService==true"}, None),
    ({"q": "inService==false"}, None),
    ({"q": "inService!=true"}, None),
    ({"q": "inService==true,false"}, None),
    # arrays
    ({"q": 'tags=="red"'}, None),
    ({"q": 'tags!="red"'}, None),
    ({"q": 'tags=="red","blue"'}, None),
    ({"q": "tags==7"}, {VA}),
    ({"q": 'tags=="nested"'}, set()),
    ({"q": "measurements==5"}, {RH}),
    ({"q": "measurements>7"}, {RH}),
    ({"q": "measurements!=4"}, {RH}),
    # relationships
    ({"q": "isParked==urn:ngsi-ld:Parking:1"}, None),
    ({"q": 'isParked=="urn:ngsi-ld:Parking:2"'}, None),
    ({"q": "isParked!=urn:ngsi-ld:Parking:1"}, None),
    ({"q": "owner==urn:ngsi-ld:City:KL"}, {RH}),
    ({"q": "owner~=Stadtwerke"}, {RH}),
    ({"q": "isParked.observedAt>2026-11-21T08:00:00Z"}, {VA}),
    # vocab (compared expanded too)
    ({"q": 'category=="commercial"'}, {P1, P2}),
    ({"q": "category==https://ex.org/ns/religious"}, {SK}),
    ({"q": 'category!="commercial"'}, {SK}),
    ({"q": 'category=="public","religious"'}, {P2, SK}),
    # compound values and json
    ({"q": 'address[postalCode]=="67655"'}, None),
    ({"q": 'address[geo.city]=="Kaiserslautern"'}, {VB}),
    ({"q": 'address[geo][city]~="^Kaisers"'}, {VB}),
    ({"q": "address[postalCode]"}, None),
    ({"q": "!address[postalCode]"}, None),
    ({"q": 'config[mode]=="eco"'}, {RH}),
    ({"q": "config[levels]==2"}, {RH}),
    # typed literals, dates
    ({"q": "dateOpened<1900-01-01T00:00:00Z"}, {SK}),
    ({"q": "dateOpened>=2020-01-01T00:00:00Z"}, None),
    ({"q": 'lastSeen>"2026-11-21"'}, {NE}),
    # metadata and system members
    ({"q": "availableSpotNumber.observedAt>=2026-11-21T00:00:00Z"}, {P1}),
    ({"q": "availableSpotNumber.observedAt==2026-11-21T11:05:00+01:00"}, {P1}),
    ({"q": "temperature.observedAt<2026-11-15T00:00:00Z"}, None),
    ({"q": 'temperature.unitCode=="CEL"'}, None),
    ({"q": "temperature.unitCode"}, None),
    ({"q": "speed.datasetId==urn:ds:radar"}, {VA}),
    ({"q": "modifiedAt<2025-12-31T00:00:00Z"}, {SK}),
    ({"q": "createdAt==2025-01-01T00:00:00Z"}, {SK}),
    ({"q": "modifiedAt>2026-11-20T00:00:00Z"}, None),
    # sub-attributes
    ({"q": "availableSpotNumber.reliability>0.5"}, {P1}),
    ({"q": "temperature.accuracy<1"}, {NE}),
    ({"q": 'temperature.accuracy.method=="calibrated"'}, {NE}),
    ({"q": "temperature.source==urn:ngsi-ld:Sensor:9"}, {NE}),
    ({"q": "temperature.accuracy"}, {NE}),
    ({"q": "!temperature.accuracy"}, None),
    # existence
    ({"q": "location"}, None),
    ({"q": "!location"}, None),
    ({"q": "nullish"}, {NE}),
    ({"q": "nullish==0"}, set()),
    ({"q": "https://other.org/props/level==3"}, {WE}),
    ({"q": 'status=="degraded"'}, {NE}),
    # logic and precedence
    ({"q": "speed>100|floors>20;floors<22"}, {VB, RH}),
    ({"q": "(speed>100|floors>20);floors<22"}, {RH}),
    ({"q": "temperature>20;(inService==true|!isParked)"}, None),
    ({"q": "!location;!temperature"}, None),
    # types, ids, attrs
    ({"type": "Vehicle"}, None),
    ({"type": "Vehicle,Parking"}, None),
    ({"type": "Vehicle;Device"}, None),
    ({"type": "(Building;Church)|Road"}, {SK, A6}),
    ({"type": "https://other.org/types/Sensor"}, {WE}),
    ({"type": "Vehicle", "q": "speed>=50"}, None),
    ({"id": f"{P1},{P2},urn:x:unknown"}, {P1, P2}),
    ({"idPattern": "^urn:ngsi-ld:Building:"}, {RH, SK}),
    ({"attrs": "floors,lanes"}, {RH, SK, A6}),
    # scopes
    ({"scopeQ": "/Kaiserslautern"}, None),
    ({"scopeQ": "/Kaiserslautern/#"}, None),
    ({"scopeQ": "/Kaiserslautern/Altstadt/#"}, None),
    ({"scopeQ": "/+/Quadrate"}, None),
    ({"scopeQ": "/Kaiserslautern/+/#"}, None),
    ({"scopeQ": "/#"}, None),
    ({"scopeQ": "/Kaiserslautern/Altstadt;/Kaiserslautern/Altstadt/Nord"}, {P2}),
    ({"scopeQ": "/Mannheim/#,/Kaiserslautern/Innenstadt/#"}, None),
    # geo
    (
        {"georel": "near;maxDistance==500", "geometry": "Point", "coordinates": "[7.756,49.444]"},
        None,
    ),
    (
        {"georel": "near;maxDistance==2000", "geometry": "Point", "coordinates": "[7.756,49.444]"},
        None,
    ),
    (
        {"georel": "near;minDistance==3000", "geometry": "Point", "coordinates": "[7.756,49.444]"},
        None,
    ),
    (
        {
            "georel": "within",
            "geometry": "Polygon",
            "coordinates": "[[[7.74,49.43],[7.78,49.43],[7.78,49.45],[7.74,49.45],[7.74,49.43]]]",
        },
        None,
    ),
    (
        {
            "georel": "intersects",
            "geometry": "LineString",
            "coordinates": "[[7.76,49.40],[7.76,49.50]]",
        },
        {A6},
    ),
    ({"georel": "contains", "geometry": "Point", "coordinates": "[7.77,49.444]"}, {RH}),
    (
        {
            "georel": "disjoint",
            "geometry": "Polygon",
            "coordinates": "[[[7.74,49.43],[7.78,49.43],[7.78,49.45],[7.74,49.45],[7.74,49.43]]]",
        },
        None,
    ),
    ({"georel": "near;maxDistance==1000", "geometry": "Point", "coordinates": "[8.4,49.0]"}, {VA}),
    (
        {
            "georel": "near;maxDistance==100",
            "geometry": "LineString",
            "coordinates": "[[7.76,49.40],[7.76,49.50]]",
        },
        None,
    ),
    ({"georel": "equals", "geometry": "Point", "coordinates": "[7.7715,49.4437]"}, {SK}),
    (
        {
            "georel": "overlaps",
            "geometry": "Polygon",
            "coordinates": "[[[7.770,49.440],[7.780,49.440],[7.780,49.445],[7.770,49.445],"
            "[7.770,49.440]]]",
        },
        {RH},
    ),
    (
        {
            "georel": "within",
            "geometry": "Polygon",
            "geoproperty": "location",
            "coordinates": "[[[7.7,49.4],[7.9,49.4],[7.9,49.5],[7.7,49.5],[7.7,49.4]]]",
            "type": "Vehicle",
            "q": "speed>40",
        },
        {VA},
    ),
]


def _python_ids(query) -> set[str]:
    return {d["id"] for d in DOCS if matches(query, d, expand)}


@pytest.fixture(scope="module")
def sqlite_conn():
    conn = sqlite3.connect(":memory:")
    install_sqlite_functions(conn)
    for stmt in SQLITE_SCHEMA:
        conn.execute(stmt)
    for d in DOCS:
        cur = conn.execute(
            "INSERT INTO ngsi_entity(tenant, id, doc) VALUES ('', ?, ?)",
            (d["id"], orjson.dumps(d).decode()),
        )
        for row in geo_index_rows(d):
            conn.execute(
                "INSERT INTO ngsi_geo VALUES ('', ?, ?, ?, ?, ?, ?)", (cur.lastrowid, *row)
            )
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def pg_conn():
    url = os.environ.get("HERZSTADT_TEST_DATABASE_URL")
    if not url:
        pytest.skip("HERZSTADT_TEST_DATABASE_URL not set")
    psycopg = pytest.importorskip("psycopg")
    conn = psycopg.connect(url, autocommit=True)
    schema = f"hz_query_test_{uuid.uuid4().hex[:12]}"
    conn.execute(f'CREATE SCHEMA "{schema}"')
    conn.execute(f'SET search_path TO "{schema}"')
    try:
        conn.execute(
            "CREATE TABLE ngsi_entity (pk bigserial PRIMARY KEY, tenant text NOT NULL,"
            " id text NOT NULL, doc jsonb NOT NULL)"
        )
        conn.execute(
            "CREATE TABLE ngsi_geo (tenant text NOT NULL, entity_pk bigint NOT NULL,"
            " attr text NOT NULL, minx float8, miny float8, maxx float8, maxy float8)"
        )
        for d in DOCS:
            pk = conn.execute(
                "INSERT INTO ngsi_entity(tenant, id, doc) VALUES ('', %s, %s::jsonb) RETURNING pk",
                (d["id"], orjson.dumps(d).decode()),
            ).fetchone()[0]
            for row in geo_index_rows(d):
                conn.execute("INSERT INTO ngsi_geo VALUES ('', %s, %s, %s, %s, %s, %s)", (pk, *row))
        yield conn
    finally:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()


def _sql_ids(conn, dialect: str, query, tenant: str | None = None) -> set[str]:
    f = compile_where(query, expand, dialect, tenant=tenant)
    rows = conn.execute(
        f"SELECT e.doc FROM ngsi_entity e WHERE {f.sql} ORDER BY e.pk", f.params
    ).fetchall()
    docs = [orjson.loads(r[0]) if isinstance(r[0], str) else r[0] for r in rows]
    if f.post_filter is not None:
        docs = [d for d in docs if f.post_filter(d)]
    return {d["id"] for d in docs}


def _ids(params):
    return [" ".join(f"{k}={v}" for k, v in p.items()) for p, _ in params]


@pytest.mark.parametrize(("params", "expected"), QUERIES, ids=_ids(QUERIES))
def test_sqlite_equals_python(sqlite_conn, params, expected):
    query = parse_query(**params)
    py = _python_ids(query)
    if expected is not None:
        assert py == expected
    assert _sql_ids(sqlite_conn, "sqlite", query, tenant="") == py


@pytest.mark.parametrize(("params", "expected"), QUERIES, ids=_ids(QUERIES))
def test_postgresql_equals_python(pg_conn, params, expected):
    query = parse_query(**params)
    py = _python_ids(query)
    if expected is not None:
        assert py == expected
    assert _sql_ids(pg_conn, "postgresql", query) == py


def test_queries_are_discriminating():
    """Most queries must select some but not all docs, or the cross-check proves little."""
    informative = 0
    for params, _ in QUERIES:
        n = len(_python_ids(parse_query(**params)))
        informative += 0 < n < len(DOCS)
    assert len(QUERIES) >= 80
    assert informative >= 0.85 * len(QUERIES)


def test_geo_prefilter_is_conservative(sqlite_conn):
    """Without the post-filter the bbox prefilter returns a superset of the exact result."""
    for params, _ in QUERIES:
        if "georel" not in params:
            continue
        query = parse_query(**params)
        f = compile_where(query, expand, "sqlite")
        rows = sqlite_conn.execute(
            f"SELECT e.id FROM ngsi_entity e WHERE {f.sql}", f.params
        ).fetchall()
        assert {r[0] for r in rows} >= _python_ids(query)
