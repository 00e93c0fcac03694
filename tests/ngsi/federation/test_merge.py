"""Merging entities of several sources, Via handling and the outgoing client's refusals."""

from __future__ import annotations

import pytest

from herzstadt.ngsi.federation.client import SourceClient, SourceFailed
from herzstadt.ngsi.federation.forward import Forwarder, LoopDetected, Source
from herzstadt.ngsi.federation.merge import merge_entities, merge_results
from herzstadt.ngsi.federation.reads import _strip_local, merge_query

S = "https://example.org/speed"
B = "https://example.org/brand"


def ent(eid, attrs, types=("https://example.org/Vehicle",)):
    return {"id": eid, "type": list(types), "attrs": attrs}


def prop(v, **kw):
    return {"type": "Property", "value": v, **kw}


def test_newest_observed_at_wins_and_types_unite():
    a = ent("urn:x:1", {S: [prop(1, observedAt="2026-01-01T00:00:00Z")]})
    b = ent(
        "urn:x:1",
        {S: [prop(2, observedAt="2026-02-01T00:00:00Z")], B: [prop("x")]},
        types=("https://example.org/Car",),
    )
    m = merge_entities([a, b])
    assert m["attrs"][S][0]["value"] == 2
    assert m["attrs"][B][0]["value"] == "x"
    assert m["type"] == ["https://example.org/Vehicle", "https://example.org/Car"]


def test_tie_keeps_the_first_source_and_datasets_stay_apart():
    a = ent("urn:x:1", {S: [prop(1), prop(5, datasetId="urn:ds:a")]})
    b = ent("urn:x:1", {S: [prop(2), prop(6, datasetId="urn:ds:b")]})
    m = merge_entities([a, b])
    vals = {i.get("datasetId"): i["value"] for i in m["attrs"][S]}
    assert vals == {None: 1, "urn:ds:a": 5, "urn:ds:b": 6}
    assert "datasetId" not in m["attrs"][S][0]  # the default instance first


def test_merge_results_one_entity_per_id_in_first_seen_order():
    out = merge_results(
        [
            [ent("urn:x:2", {}), ent("urn:x:1", {S: [prop(1)]})],
            [ent("urn:x:1", {B: [prop(2)]}), ent("urn:x:3", {})],
        ]
    )
    assert [d["id"] for d in out] == ["urn:x:2", "urn:x:1", "urn:x:3"]
    assert set(out[1]["attrs"]) == {S, B}


def test_exclusive_source_hides_the_local_copy_of_its_attributes():
    src = Source(
        id="r",
        endpoint="http://b",
        mode="exclusive",
        information=[{"entities": [{"id": "urn:x:1", "type": "T"}], "propertyNames": [S]}],
    )
    local = ent("urn:x:1", {S: [prop("local")], B: [prop("b")]})
    assert set(_strip_local(local, [src])["attrs"]) == {B}
    other = ent("urn:x:2", {S: [prop("kept")]})
    assert _strip_local(other, [src]) is other
    merged = merge_query([local], [src], [ent("urn:x:1", {S: [prop("remote")]})])
    assert merged[0]["attrs"][S][0]["value"] == "remote"


def test_auxiliary_only_fills_gaps():
    src = Source(id="r", endpoint="http://b", mode="auxiliary")
    aux = ent("urn:x:1", {S: [prop("aux")], B: [prop("aux-b")]})
    aux["_aux"] = True
    merged = merge_query([ent("urn:x:1", {S: [prop("own")]})], [src], [aux])
    assert merged[0]["attrs"][S][0]["value"] == "own"
    assert merged[0]["attrs"][B][0]["value"] == "aux-b"


def _fw(**kw):
    args = {
        "hosts": ["127.0.0.1"],
        "allow_private": False,
        "timeout": 1.0,
        "max_bytes": 1000,
        "pool_size": 2,
        "self_name": "a.example:8080",
        "base_path": "/ngsi-ld/v1",
        "lookup": lambda *a, **k: [],
    }
    args.update(kw)
    return Forwarder(**args)


def test_via_names_and_loop():
    fw = _fw()
    try:
        assert fw.via_header("") == "1.1 a.example:8080"
        assert fw.via_header("1.1 b:1") == "1.1 b:1, 1.1 a.example:8080"
        fw.check_loop("1.1 b:1")
        with pytest.raises(LoopDetected) as e:
            fw.check_loop("1.1 b:1, HTTP/1.1 A.example:8080")
        assert e.value.status == 508
    finally:
        fw.close()


def test_client_refuses_hosts_off_the_list_and_private_addresses():
    with pytest.raises(SourceFailed):
        SourceClient(["example.org"], deadline=1).request("GET", "http://127.0.0.2:9/x")
    with pytest.raises(SourceFailed):  # on the list, but loopback without allow_private
        SourceClient(["127.0.0.1"], deadline=1).request("GET", "http://127.0.0.1:9/x")
    with pytest.raises(SourceFailed):  # header injection through contextSourceInfo
        SourceClient(["127.0.0.1"], allow_private=True, deadline=1).request(
            "GET", "http://127.0.0.1:9/x", [("X-A", "1\r\nHost: evil")]
        )


class _Store:
    def __init__(self, docs):
        self.docs = docs

    def get(self, tenant, eid):
        return self.docs.get(eid)


class _Broker:
    def __init__(self, docs):
        self.store = _Store(docs)


class _Req:
    def __init__(self, types):
        from herzstadt.ngsi.auth import ALL_SCOPES, Principal

        self.tenant = ""
        self.principal = Principal("c", "", ALL_SCOPES, types)


def test_a_type_restricted_client_forwards_only_its_types():
    from herzstadt.ngsi.federation.writes import _may_forward

    car, bus = "https://example.org/Car", "https://example.org/Bus"
    broker = _Broker({"urn:x:bus": {"id": "urn:x:bus", "type": [bus]}})
    free, cars = _Req(None), _Req(frozenset({car}))
    assert _may_forward(broker, free, "urn:x:unknown", None)
    assert _may_forward(broker, cars, "urn:x:1", [car])
    assert not _may_forward(broker, cars, "urn:x:1", [car, bus])
    assert not _may_forward(broker, cars, "urn:x:bus", None)  # the local copy is a bus
    assert not _may_forward(broker, cars, "urn:x:unknown", None)  # types unknown: not sent on
