"""Temporal API (ETSI GS CIM 009 5.6.11-5.6.16, 5.7.3, 5.7.4) on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import statistics
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from herzstadt.ngsi.asgi import make_app
from herzstadt.ngsi.ops_temporal import parse_duration
from herzstadt.ngsi.storage import temporal as tstore

from .conftest import Client, make_config

T0 = datetime(2020, 8, 1, 12, 0, tzinfo=UTC)


def ts(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def vid() -> str:
    return f"urn:ngsi-ld:Vehicle:{uuid.uuid4().hex[:12]}"


def vehicle(eid: str, speeds: list[tuple[float, float]], **extra) -> dict:
    e = {
        "id": eid,
        "type": "Vehicle",
        "speed": [{"type": "Property", "value": v, "observedAt": ts(m)} for m, v in speeds],
    }
    e.update(extra)
    return e


def create(client, eid: str, speeds, **extra):
    r = client.post("temporal/entities", json=vehicle(eid, speeds, **extra))
    assert r.status_code == 201, r.text
    return r


# --------------------------------------------------------------------------- provision
def test_create_retrieve_and_current_state(client):
    eid = vid()
    r = create(client, eid, [(3, 120), (5, 80), (7, 100)])
    assert r.headers["location"].endswith("/temporal/entities/" + eid)
    got = client.get(f"temporal/entities/{eid}").json()
    assert got["id"] == eid and got["type"] == "Vehicle"
    assert [i["value"] for i in got["speed"]] == [120, 80, 100]
    assert all(i["instanceId"].startswith("urn:ngsi-ld:Instance:") for i in got["speed"])
    # the entity is in the current state with the latest instance
    cur = client.get(f"entities/{eid}").json()
    assert cur["speed"]["value"] == 100 and cur["speed"]["observedAt"] == ts(7)
    # a second POST adds instances (204)
    r = client.post("temporal/entities", json=vehicle(eid, [(9, 10)]))
    assert r.status_code == 204
    assert len(client.get(f"temporal/entities/{eid}").json()["speed"]) == 4
    assert client.get(f"entities/{eid}").json()["speed"]["value"] == 10


def test_every_change_keeps_an_instance(client):
    eid = vid()
    body = {"id": eid, "type": "Vehicle", "speed": {"type": "Property", "value": 1}}
    assert client.post("entities", json=body).status_code == 201
    assert client.patch(f"entities/{eid}/attrs", json={"speed": {"value": 2}}).status_code == 204
    up = [{"id": eid, "type": "Vehicle", "speed": {"type": "Property", "value": 3}}]
    r = client.post("entityOperations/upsert", json=up, params={"options": "update"})
    assert r.status_code == 204, r.text
    r = client.post("entityOperations/upsert", json=[{**up[0], "id": vid()}])
    assert r.status_code == 201, r.text
    got = client.get(f"temporal/entities/{eid}", params={"options": "temporalValues"}).json()
    assert [v[0] for v in got["speed"]["values"]] == [1, 2, 3]
    # the time of an instance without observedAt is the time of the change
    assert all(v[1].endswith("Z") for v in got["speed"]["values"])
    # deleting the attribute keeps a deleted instance (deletedAt)
    assert client.delete(f"entities/{eid}/attrs/speed").status_code == 204
    got = client.get(f"temporal/entities/{eid}", params={"timeproperty": "deletedAt"}).json()
    assert len(got["speed"]) == 1 and "deletedAt" in got["speed"][0]
    assert got["speed"][0]["value"] == "urn:ngsi-ld:null"
    # deleting the entity deletes its temporal representation
    assert client.delete(f"entities/{eid}").status_code == 204
    assert client.get(f"temporal/entities/{eid}").status_code == 404


def test_append_attrs_many_instances(client):
    eid = vid()
    create(client, eid, [(60, 5)])
    inst = [{"type": "Property", "value": n, "observedAt": ts(n)} for n in range(50)]
    r = client.post(f"temporal/entities/{eid}/attrs", json={"speed": inst, "fuel": inst[:3]})
    assert r.status_code == 204, r.text
    got = client.get(f"temporal/entities/{eid}", params={"options": "temporalValues"}).json()
    assert len(got["speed"]["values"]) == 51
    assert len(got["fuel"]["values"]) == 3
    # the current state keeps the newest instance (the appended ones are older)
    cur = client.get(f"entities/{eid}").json()
    assert cur["speed"]["value"] == 5 and cur["fuel"]["value"] == 2
    assert client.post(f"temporal/entities/{vid()}/attrs", json={"speed": inst}).status_code == 404
    assert client.post(f"temporal/entities/{eid}/attrs", json={}).status_code == 400


def test_delete_attribute_dataset_and_all(client):
    eid = vid()
    body = vehicle(eid, [(1, 1), (2, 2)])
    body["speed"].append(
        {"type": "Property", "value": 9, "observedAt": ts(3), "datasetId": "urn:ngsi-ld:d:1"}
    )
    assert client.post("temporal/entities", json=body).status_code == 201
    r = client.delete(
        f"temporal/entities/{eid}/attrs/speed", params={"datasetId": "urn:ngsi-ld:d:1"}
    )
    assert r.status_code == 204
    assert len(client.get(f"temporal/entities/{eid}").json()["speed"]) == 2
    assert client.delete(f"temporal/entities/{eid}/attrs/speed").status_code == 204
    assert client.delete(f"temporal/entities/{eid}/attrs/speed").status_code == 404
    r = client.delete(f"temporal/entities/{eid}/attrs/speed", params={"deleteAll": "maybe"})
    assert r.status_code == 400
    assert "speed" not in client.get(f"temporal/entities/{eid}").json()


def test_modify_and_delete_instance(client):
    eid = vid()
    create(client, eid, [(1, 1), (2, 2)])
    first = client.get(f"temporal/entities/{eid}").json()["speed"][0]
    iid = first["instanceId"]
    r = client.patch(
        f"temporal/entities/{eid}/attrs/speed/{iid}",
        json={"speed": {"type": "Property", "value": 42, "observedAt": ts(1)}},
    )
    assert r.status_code == 204, r.text
    got = client.get(f"temporal/entities/{eid}", params={"options": "sysAttrs"}).json()["speed"]
    assert got[0]["value"] == 42 and got[0]["instanceId"] == iid
    assert got[0]["modifiedAt"] >= got[0]["createdAt"]
    r = client.patch(f"temporal/entities/{eid}/attrs/speed/{iid}", json={"other": {"value": 1}})
    assert r.status_code == 400
    bad = "urn:ngsi-ld:Instance:999999999"
    assert (
        client.patch(
            f"temporal/entities/{eid}/attrs/speed/{bad}", json={"speed": {"value": 1}}
        ).status_code
        == 404
    )
    assert client.delete(f"temporal/entities/{eid}/attrs/speed/{iid}").status_code == 204
    assert client.delete(f"temporal/entities/{eid}/attrs/speed/{iid}").status_code == 404
    assert len(client.get(f"temporal/entities/{eid}").json()["speed"]) == 1


def test_delete_temporal_entity(client):
    eid = vid()
    create(client, eid, [(1, 1)])
    assert client.delete(f"temporal/entities/{eid}").status_code == 204
    assert client.get(f"temporal/entities/{eid}").status_code == 404
    assert client.get(f"entities/{eid}").status_code == 404
    assert client.delete(f"temporal/entities/{eid}").status_code == 404


def test_bad_payloads(client):
    assert client.post("temporal/entities", json={"type": "Vehicle"}).status_code == 400
    assert client.post("temporal/entities", json={"id": vid()}).status_code == 400
    r = client.post("temporal/entities", json={"id": vid(), "type": "V", "speed": [1, 2]})
    assert r.status_code == 400
    r = client.post("temporal/entities", json={"id": "not a uri", "type": "V"})
    assert r.status_code == 400
    assert client.post("temporal/entities", json=[1]).status_code == 400


# --------------------------------------------------------------------------- consumption
def test_timerel_lastn_and_attrs(client):
    eid = vid()
    create(client, eid, [(m, m) for m in range(10)], fuel=[{"value": 7, "observedAt": ts(5)}])
    base = f"temporal/entities/{eid}"

    def values(**params):
        params.setdefault("options", "temporalValues")
        r = client.get(base, params=params)
        assert r.status_code == 200, r.text
        return [v[0] for v in r.json()["speed"]["values"]]

    assert values(timerel="before", timeAt=ts(3)) == [0, 1, 2]
    assert values(timerel="after", timeAt=ts(7)) == [7, 8, 9]
    assert values(timerel="between", timeAt=ts(2), endTimeAt=ts(4)) == [2, 3]
    assert values(lastN="2") == [8, 9]
    assert values(lastN="2", timerel="before", timeAt=ts(5)) == [3, 4]
    got = client.get(base, params={"attrs": "fuel"}).json()
    assert "speed" not in got and len(got["fuel"]) == 1
    assert client.get(base, params={"attrs": "nothing"}).status_code == 404
    assert client.get(f"temporal/entities/{vid()}").status_code == 404
    assert client.get("temporal/entities/bad id").status_code == 400


@pytest.mark.parametrize(
    "params",
    [
        {"timerel": "after"},
        {"timerel": "during", "timeAt": ts(1)},
        {"timerel": "between", "timeAt": ts(1)},
        {"timerel": "between", "timeAt": ts(2), "endTimeAt": ts(1)},
        {"timerel": "after", "timeAt": "yesterday"},
        {"timeAt": ts(1)},
        {"lastN": "0"},
        {"lastN": "x"},
        {"timeproperty": "bornAt"},
        {"options": "aggregatedValues"},
        {"options": "aggregatedValues", "aggrMethods": "median"},
        {"options": "aggregatedValues", "aggrMethods": "avg", "aggrPeriodDuration": "1 hour"},
        {"options": "temporalValues,aggregatedValues", "aggrMethods": "avg"},
        {"options": "bogus"},
        {"pick": "speed", "omit": "speed"},
        {"pick": "speed", "attrs": "speed"},
    ],
)
def test_bad_parameters(client, params):
    eid = vid()
    create(client, eid, [(1, 1)])
    r = client.get(f"temporal/entities/{eid}", params=params)
    assert r.status_code == 400, (params, r.text)
    assert r.json()["type"].startswith("https://uri.etsi.org/ngsi-ld/errors/")


def test_query(client):
    a, b = vid(), vid()
    create(client, a, [(1, 1), (2, 2)])
    create(client, b, [(3, 3)])
    bus = {"id": vid().replace("Vehicle", "Bus"), "type": "Bus", "speed": {"value": 9}}
    assert client.post("temporal/entities", json=bus).status_code == 201
    r = client.get("temporal/entities", params={"type": "Vehicle", "count": "true"})
    assert r.status_code == 200, r.text
    assert {e["id"] for e in r.json()} == {a, b}
    assert r.headers["ngsild-results-count"] == "2"
    r = client.get(
        "temporal/entities",
        params={
            "type": "Vehicle",
            "id": a,
            "timerel": "after",
            "timeAt": ts(2),
            "options": "temporalValues",
        },
    )
    assert r.json() == [
        {"id": a, "type": "Vehicle", "speed": {"type": "Property", "values": [[2, ts(2)]]}}
    ]
    r = client.get("temporal/entities", params={"type": "Vehicle", "limit": "1"})
    assert len(r.json()) == 1
    r = client.get("temporal/entities", params={"idPattern": ".*Bus.*"})
    assert [e["type"] for e in r.json()] == ["Bus"]
    assert client.get("temporal/entities").status_code == 400
    assert client.get("temporal/entities", params={"id": a}).status_code == 400  # ETSI 021_24
    # entities without instances in the time range are no match
    r = client.get(
        "temporal/entities", params={"type": "Vehicle", "timerel": "after", "timeAt": ts(3)}
    )
    assert [e["id"] for e in r.json()] == [b]
    # POST /temporal/entityOperations/query with a temporalQ
    q = {
        "type": "Query",
        "entities": [{"type": "Vehicle"}],
        "temporalQ": {"timerel": "before", "timeAt": ts(2)},
    }
    r = client.post("temporal/entityOperations/query", json=q)
    assert r.status_code == 200, r.text
    assert [(e["id"], len(e["speed"])) for e in r.json()] == [(a, 1)]
    r = client.post("temporal/entityOperations/query", json={"type": "Query"})
    assert r.status_code == 400
    # orderBy
    r = client.get("temporal/entities", params={"type": "Vehicle", "orderBy": "id;desc"})
    assert [e["id"] for e in r.json()] == sorted([a, b], reverse=True)


def test_pagination_content_range(backend, tmp_path):
    app = make_app(make_config(backend, tmp_path, temporal_max_instances=3))
    client = Client(app, f"t{uuid.uuid4().hex[:12]}" if backend == "postgresql" else "")
    try:
        eid = vid()
        body = vehicle(eid, [(m, m) for m in range(10)])
        body["fuel"] = [{"value": m, "observedAt": ts(m + 0.5)} for m in range(10)]
        assert client.post("temporal/entities", json=body).status_code == 201
        r = client.get(f"temporal/entities/{eid}")
        assert r.status_code == 206
        # the range ends at the first attribute's cut: nothing is missing inside it
        assert r.headers["content-range"] == f"date-time {ts(0)}-{ts(2)}/*"
        got = r.json()
        assert [i["value"] for i in got["speed"]] == [0, 1, 2]
        assert [i["value"] for i in got["fuel"]] == [0, 1]
        r = client.get(f"temporal/entities/{eid}", params={"timerel": "after", "timeAt": ts(4)})
        assert r.headers["content-range"] == f"date-time {ts(4)}-{ts(6)}/*"
        r = client.get(f"temporal/entities/{eid}", params={"lastN": "5"})
        assert r.status_code == 206
        assert r.headers["content-range"] == f"date-time {ts(9.5)}-{ts(7.5)}/5"
        assert [i["value"] for i in r.json()["fuel"]] == [7, 8, 9]
        assert [i["value"] for i in r.json()["speed"]] == [8, 9]
        r = client.get(f"temporal/entities/{eid}", params={"lastN": "2"})
        assert r.status_code == 200 and "content-range" not in r.headers
        r = client.get("temporal/entities", params={"type": "Vehicle"})
        assert r.status_code == 206 and r.headers["content-range"].endswith("/*")
    finally:
        client.close()
        app.close()


# --------------------------------------------------------------------------- aggregation
def oracle(values: list[tuple[float, float]], period_min: float, methods: list[str]) -> dict:
    """Python's aggregation of (minute, value) pairs in periods from the first instance."""
    origin = min(m for m, _ in values)
    buckets: dict[int, list[float]] = {}
    for m, v in values:
        buckets.setdefault(math.floor((m - origin) / period_min), []).append(v)
    out: dict[str, list] = {}
    for b in sorted(buckets):
        xs = buckets[b]
        start, end = ts(origin + b * period_min), ts(origin + (b + 1) * period_min)
        calc = {
            "totalCount": len(xs),
            "distinctCount": len(set(xs)),
            "sum": sum(xs),
            "avg": statistics.fmean(xs),
            "min": min(xs),
            "max": max(xs),
            "sumsq": sum(x * x for x in xs),
            "stddev": statistics.stdev(xs) if len(xs) > 1 else 0.0,
        }
        for m in methods:
            out.setdefault(m, []).append([calc[m], start, end])
    return out


def close(a, b) -> bool:
    if isinstance(a, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
    return a == b


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.dictionaries(
        st.integers(0, 60 * 24 * 3), st.integers(-1000, 1000), min_size=1, max_size=40
    ),
    period=st.sampled_from(["PT1H", "PT15M", "P1D", "PT7H30M"]),
)
def test_aggregation_matches_python(client, data, period):
    eid = vid()
    pairs = sorted((float(m), float(v)) for m, v in data.items())
    body = vehicle(eid, [(m, int(v)) for m, v in pairs])
    assert client.post("temporal/entities", json=body).status_code == 201
    methods = ["totalCount", "distinctCount", "sum", "avg", "min", "max", "stddev", "sumsq"]
    r = client.get(
        f"temporal/entities/{eid}",
        params={
            "options": "aggregatedValues",
            "aggrMethods": ",".join(methods),
            "aggrPeriodDuration": period,
        },
    )
    assert r.status_code == 200, r.text
    got = r.json()["speed"]
    want = oracle(pairs, parse_duration(period) / 60, methods)
    for m in methods:
        assert close(want[m], got[m]), (m, want[m], got[m])


def test_aggregation_whole_range_and_time_at(client):
    eid = vid()
    create(client, eid, [(0, 1), (30, 3), (90, 8)])
    r = client.get(
        f"temporal/entities/{eid}",
        params={"options": "aggregatedValues", "aggrMethods": "sum,totalCount"},
    )
    assert r.json()["speed"]["sum"] == [[12.0, ts(0), ts(90)]]
    r = client.get(
        f"temporal/entities/{eid}",
        params={
            "options": "aggregatedValues",
            "aggrMethods": "avg",
            "aggrPeriodDuration": "PT1H",
            "timerel": "between",
            "timeAt": ts(20),
            "endTimeAt": ts(200),
        },
    )
    assert r.json()["speed"]["avg"] == [[3.0, ts(20), ts(80)], [8.0, ts(80), ts(140)]]


def test_parse_duration():
    assert parse_duration("PT1H") == 3600
    assert parse_duration("P1DT30M") == 86400 + 1800
    assert parse_duration("P1W") == 7 * 86400
    assert parse_duration("PT0S") == 0
    for bad in ("P", "PT", "1H", "P1DT", "PT-1H"):
        with pytest.raises(Exception):  # noqa: B017 - BadRequestData
            parse_duration(bad)


# ---------------------------------------------------------------------------- retention
def test_retention_purge(client, app, backend):
    store = app.broker.store
    tenant = client.tenant
    eid = vid()
    create(client, eid, [(0, 1), (1, 2)])  # 2020: older than any retention below
    client.patch(f"entities/{eid}/attrs", json={"speed": {"value": 3}})  # now
    other = f"t{uuid.uuid4().hex[:12]}"
    client.post("temporal/entities", json=vehicle(vid(), [(0, 1)]), tenant=other)
    tstore.set_retention(store, tenant, 30)
    assert tstore.get_retention(store, tenant, 0) == 30
    assert tstore.get_retention(store, other, 7) == 7
    deleted = tstore.purge(store, default_days=0)
    assert deleted == 2
    got = client.get(f"temporal/entities/{eid}", params={"options": "temporalValues"}).json()
    assert [v[0] for v in got["speed"]["values"]] == [3]
    # the other tenant keeps everything (default 0: forever)
    r = client.get("temporal/entities", params={"type": "Vehicle"}, tenant=other)
    assert len(r.json()[0]["speed"]) == 1
    tstore.set_retention(store, tenant, None)
    assert tstore.get_retention(store, tenant, 5) == 5
    if backend == "postgresql":
        from tests.ngsi.pgutil import drop_tenant

        drop_tenant(store, other)


def test_partitions_by_month(backend, app, client):
    if backend != "postgresql":
        pytest.skip("PostgreSQL partitions")
    create(client, vid(), [(0, 1), (60 * 24 * 40, 2)])  # August and September 2020
    with app.broker.store.reading() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'ngsi_attr_instance'"
        )
        names = {r[0] for r in cur.fetchall()}
    assert {"ngsi_attr_instance_p202008", "ngsi_attr_instance_p202009"} <= names
    # appending to an existing entity in months without a partition (created before the write)
    eid = vid()
    create(client, eid, [(0, 1)])
    far = -60 * 24 * 400  # mid 2019
    r = client.post(f"temporal/entities/{eid}/attrs", json=vehicle(eid, [(far, 5)]))
    assert r.status_code == 204, r.text
    # a current-state write with an observedAt in yet another month (created in its transaction)
    up = [{"id": eid, "type": "Vehicle", "speed": {"value": 6, "observedAt": ts(-60 * 24 * 800)}}]
    r = client.post("entityOperations/upsert", json=up, params={"options": "update"})
    assert r.status_code == 204, r.text
    got = client.get(f"temporal/entities/{eid}", params={"options": "temporalValues"}).json()
    assert sorted(v[0] for v in got["speed"]["values"]) == [1, 5, 6]


def test_openapi_documents_the_temporal_operations():
    from herzstadt.ngsi.openapi import document
    from herzstadt.ngsi.routes import ROUTES

    paths = document(ROUTES)["paths"]
    temporal = [p for p in paths if p.startswith("/temporal/")]
    assert len(temporal) == 6
    for p in temporal:
        for op in paths[p].values():
            assert "501" not in op["responses"], p
            assert any(code.startswith("2") for code in op["responses"]), p
    inst = paths["/temporal/entities/{entityId}/attrs/{attrId}/{instanceId}"]
    assert set(inst) == {"patch", "delete"}
    assert "206" in paths["/temporal/entities/{entityId}"]["get"]["responses"]


def test_retention_loop_runs_and_stops(app, client):
    import threading

    from herzstadt.ngsi.retention import run_retention

    store = app.broker.store
    eid = vid()
    create(client, eid, [(0, 1)])
    tstore.set_retention(store, client.tenant, 1)
    stop = threading.Event()
    t = threading.Thread(target=run_retention, args=(app.broker, stop, 0.05))
    t.start()
    try:
        for _ in range(100):
            got = client.get(f"temporal/entities/{eid}").json()
            if "speed" not in got:
                break
            stop.wait(0.05)
        assert "speed" not in got
    finally:
        stop.set()
        t.join(5)
    assert not t.is_alive()


def test_urbandata_registers_the_retention_task():
    from herzstadt.urbandata.pillar import PILLAR

    assert "ngsi-retention" in {t.key for t in PILLAR.tasks}


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.dictionaries(
        st.integers(0, 60 * 24 * 5), st.integers(-500, 500), min_size=1, max_size=40
    ),
    period=st.sampled_from(["P1D", "P2D"]),
)
def test_daily_rollups_match_python(client, data, period):
    """Periods of whole days from a midnight are answered from the daily roll-ups: the same
    figures as the instances, also after instances are changed and deleted."""
    eid = vid()
    pairs = sorted((float(m), float(v)) for m, v in data.items())
    assert client.post("temporal/entities", json=vehicle(eid, [(m, int(v)) for m, v in pairs]))
    methods = ["totalCount", "sum", "avg", "min", "max", "stddev", "sumsq"]
    midnight = -12 * 60  # T0 is noon
    params = {
        "options": "aggregatedValues",
        "aggrMethods": ",".join(methods),
        "aggrPeriodDuration": period,
        "timerel": "after",
        "timeAt": ts(midnight),
    }

    def check(pairs):
        got = client.get(f"temporal/entities/{eid}", params=params).json().get("speed")
        if not pairs:
            assert got is None
            return
        p_min = parse_duration(period) / 60
        # the oracle's periods start at the midnight
        shifted = [(m - midnight, v) for m, v in pairs]
        want = oracle_shifted(shifted, p_min, methods, midnight)
        for m in methods:
            assert close(want[m], got[m]), (m, want[m], got[m])

    check(pairs)
    insts = client.get(f"temporal/entities/{eid}").json()["speed"]
    first = insts[0]
    r = client.patch(
        f"temporal/entities/{eid}/attrs/speed/{first['instanceId']}",
        json={"speed": {"value": 1000, "observedAt": first["observedAt"]}},
    )
    assert r.status_code == 204
    pairs = [(pairs[0][0], 1000.0), *pairs[1:]]
    check(pairs)
    r = client.delete(f"temporal/entities/{eid}/attrs/speed/{insts[-1]['instanceId']}")
    assert r.status_code == 204
    check(pairs[:-1])


def oracle_shifted(shifted, period_min, methods, midnight) -> dict:
    """``oracle`` of pairs given relative to a midnight origin, times reported absolute."""
    buckets: dict[int, list[float]] = {}
    for m, v in shifted:
        buckets.setdefault(math.floor(m / period_min), []).append(v)
    out: dict[str, list] = {}
    for b in sorted(buckets):
        xs = buckets[b]
        start, end = ts(midnight + b * period_min), ts(midnight + (b + 1) * period_min)
        calc = {
            "totalCount": len(xs),
            "sum": sum(xs),
            "avg": statistics.fmean(xs),
            "min": min(xs),
            "max": max(xs),
            "sumsq": sum(x * x for x in xs),
            "stddev": statistics.stdev(xs) if len(xs) > 1 else 0.0,
        }
        for m in methods:
            out.setdefault(m, []).append([calc[m], start, end])
    return out


def test_pick_core_members_only_and_omit(client):
    eid = vid()
    create(client, eid, [(1, 1)])
    r = client.get("temporal/entities", params={"type": "Vehicle", "pick": "id"})
    assert r.status_code == 200 and r.json() == [{"id": eid}]
    r = client.get(f"temporal/entities/{eid}", params={"omit": "type"})
    assert set(r.json()) == {"id", "speed"}
    r = client.get(f"temporal/entities/{eid}", params={"pick": "nothing"})
    assert r.status_code == 404


def test_in_process_chart_and_backfill(app, client):
    """The district charts' calls, in-process: a backfill of many instances through
    append_temporal_attrs, then hourly averages and the raw values of a day."""
    from herzstadt.ngsi import service
    from herzstadt.ngsi.auth import system_principal
    from herzstadt.ngsi.broker import Req
    from herzstadt.ngsi.params import RetrieveOptions

    broker = app.broker
    eid = vid()
    create(client, eid, [(0, 0)])
    req = Req(
        principal=system_principal(client.tenant, "district-page"),
        tenant=client.tenant,
        ctx=broker.resolver.get(None),
        body={
            "no2": [
                {"type": "Property", "value": m % 60, "observedAt": ts(m)}
                for m in range(0, 1440, 15)
            ]
        },
    )
    assert service.append_temporal_attrs(broker, req, None, eid).status == 204
    read = Req(principal=req.principal, tenant=req.tenant, ctx=req.ctx)
    params = service.TemporalParams(
        time=service.TimeQuery("between", ts(0), ts(1440)),
        render=RetrieveOptions(attrs=("no2",)),
        aggregated=True,
        aggr_methods=("avg",),
        aggr_period=3600,
    )
    res = service.retrieve_temporal(broker, read, params, eid)
    avg = res.body[read.ctx.compact(read.ctx.expand("no2"))]["avg"]
    assert len(avg) == 24 and avg[0] == [22.5, ts(0), ts(60)]
    params = service.TemporalParams(
        time=service.TimeQuery("between", ts(0), ts(60)),
        render=RetrieveOptions(attrs=("no2",)),
        temporal_values=True,
    )
    res = service.retrieve_temporal(broker, read, params, eid)
    assert res.body["no2"]["values"] == [[0, ts(0)], [15, ts(15)], [30, ts(30)], [45, ts(45)]]


@pytest.mark.django_db
def test_the_retention_task_purges_the_site_broker():
    """The ``ngsi-retention`` task of the urbandata pillar runs a purge on the site's broker
    and returns when its stop event is set."""
    import threading

    from herzstadt.urbandata.broker import get_broker
    from herzstadt.urbandata.pillar import PILLAR

    task = next(t for t in PILLAR.tasks if t.key == "ngsi-retention")
    broker = get_broker()
    tenant = f"t{uuid.uuid4().hex[:12]}"
    with broker.store.write(tenant) as tx:
        row = tstore.instance_row(
            tenant, "urn:x:1", "urn:a", {"value": 1, "observedAt": ts(0)}, None, ts(0)
        )
        tstore.write_rows(tx, [row])
    tstore.set_retention(broker.store, tenant, 1)
    stop = threading.Event()
    stop.set()  # one purge, then return
    task.run(stop)
    with broker.store.reading() as cur:
        p = broker.store.placeholder
        cur.execute(f"SELECT count(*) FROM ngsi_attr_instance WHERE tenant = {p}", (tenant,))
        assert cur.fetchone()[0] == 0
