"""Context sources (ETSI GS CIM 009 5.9-5.11): registrations, discovery, the matching API of the
distributed operations, csource subscriptions and their notifications (queued in the outbox)."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest

from herzstadt.ngsi.asgi import make_app
from herzstadt.ngsi.csource import matching_registrations
from tests.ngsi.conftest import LINK, make_config

EX = "https://example.org/vocab#"  # the test @context: Building, name, owner
DEF = "https://uri.etsi.org/ngsi-ld/default-context/"  # any other term


@pytest.fixture
def app(backend, tmp_path):
    a = make_app(
        make_config(
            backend,
            tmp_path,
            csource_hosts=["cs.example.org", "127.0.0.1:9"],
            csource_allow_private=True,
            notify_hosts=["127.0.0.1"],
            notify_allow_private=True,
        )
    )
    yield a
    a.close()


def reg(rid: str = "urn:ngsi-ld:ContextSourceRegistration:r1", **extra) -> dict:
    r = {
        "id": rid,
        "type": "ContextSourceRegistration",
        "information": [
            {
                "entities": [{"id": "urn:ngsi-ld:Building:b1", "type": "Building"}],
                "propertyNames": ["name"],
                "relationshipNames": ["owner"],
            },
            {"entities": [{"idPattern": ".*47$", "type": "Vehicle"}]},
        ],
        "endpoint": "http://cs.example.org:1026",
    }
    r.update(extra)
    return r


def post(client, body, **kw):
    return client.post("csourceRegistrations", json=body, headers={"Link": LINK}, **kw)


def ids(resp) -> list[str]:
    assert resp.status_code == 200, resp.text
    return sorted(r["id"] for r in resp.json())


def test_registration_crud_and_compaction(client):
    r = post(client, reg())
    assert r.status_code == 201, r.text
    assert r.headers["location"].endswith(
        "/csourceRegistrations/urn:ngsi-ld:ContextSourceRegistration:r1"
    )
    assert post(client, reg()).status_code == 409
    path = "csourceRegistrations/urn:ngsi-ld:ContextSourceRegistration:r1"
    got = client.get(path, headers={"Link": LINK}).json()
    assert got["information"][0]["entities"][0]["type"] == "Building"
    assert got["mode"] == "inclusive" and got["operations"] == ["federationOps"]
    assert "createdAt" not in got
    # without the @context: the expanded names
    got = client.get(path).json()
    assert got["information"][0]["entities"][0]["type"] == EX + "Building"
    assert "createdAt" in client.get(path, params={"options": "sysAttrs"}).json()
    r = client.patch(path, json={"endpoint": "http://127.0.0.1:9/other"})
    assert r.status_code == 204, r.text
    assert client.get(path).json()["endpoint"] == "http://127.0.0.1:9/other"
    r = client.patch(path, json={"expiresAt": "2099-01-01T00:00:00Z"})
    assert r.status_code == 204
    assert client.get(path).json()["expiresAt"] == "2099-01-01T00:00:00Z"
    assert client.patch(path, json={"expiresAt": None}).status_code == 204
    assert "expiresAt" not in client.get(path).json()
    assert client.patch(path, json={"information": None}).status_code == 400
    assert client.delete(path).status_code == 204
    assert client.get(path).status_code == 404
    assert client.delete(path).status_code == 404
    assert client.patch(path, json={"endpoint": "http://cs.example.org"}).status_code == 404
    assert client.get("csourceRegistrations/notauri").status_code == 400


def test_registration_without_id_gets_one(client):
    body = reg()
    del body["id"]
    r = post(client, body)
    assert r.status_code == 201
    rid = r.headers["location"].rsplit("/", 1)[1]
    assert rid.startswith("urn:ngsi-ld:ContextSourceRegistration:")
    assert client.get("csourceRegistrations/" + rid).status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        {"type": "Building"},
        {"information": []},
        {"information": [{}]},
        {"information": [{"entities": [{"id": "urn:x:1"}]}]},
        {"information": [{"entities": [{"type": "T", "id": "not a uri"}]}]},
        {"endpoint": "not a url"},
        {"endpoint": None},
        {"mode": "sometimes"},
        {"operations": ["fly"]},
        {"expiresAt": "2001-01-01T00:00:00Z"},
        {"expiresAt": "tomorrow"},
        {"observationInterval": {"endAt": "2020-01-01T00:00:00Z"}},
        {"location": {"type": "Point", "coordinates": [500, 0]}},
        {"id": "not a uri"},
    ],
)
def test_invalid_registrations_are_400(client, change):
    body = {k: v for k, v in reg(**change).items() if v is not None}
    r = post(client, body)
    assert r.status_code == 400, r.text
    assert r.json()["type"].endswith("BadRequestData")
    # nothing was written
    assert client.get(
        "csourceRegistrations/urn:ngsi-ld:ContextSourceRegistration:r1"
    ).status_code in (404,)


def test_endpoint_allow_list(backend, tmp_path):
    a = make_app(make_config(backend, tmp_path))  # no HERZSTADT_NGSI_CSOURCE_HOSTS
    from tests.ngsi.conftest import Client

    c = Client(a, "")
    try:
        r = post(c, reg())
        assert r.status_code == 400
        assert "HERZSTADT_NGSI_CSOURCE_HOSTS" in r.json()["detail"]
    finally:
        c.close()
        a.close()


def test_private_addresses_need_the_setting(backend, tmp_path):
    a = make_app(make_config(backend, tmp_path, csource_hosts=["127.0.0.1"]))
    from tests.ngsi.conftest import Client

    c = Client(a, "")
    try:
        r = post(c, reg(endpoint="http://127.0.0.1:1026"))
        assert r.status_code == 400
        assert "HERZSTADT_NGSI_CSOURCE_ALLOW_PRIVATE" in r.json()["detail"]
    finally:
        c.close()
        a.close()


def test_exclusive_registrations_conflict(client):
    ex = reg(mode="exclusive")
    assert post(client, ex).status_code == 201
    # same entity id and attribute: 409, nothing written
    other = reg("urn:ngsi-ld:ContextSourceRegistration:r2")
    r = post(client, other)
    assert r.status_code == 409, r.text
    assert (
        client.get("csourceRegistrations/urn:ngsi-ld:ContextSourceRegistration:r2").status_code
        == 404
    )
    # another attribute of the same entity: fine
    other["information"] = [
        {
            "entities": [{"id": "urn:ngsi-ld:Building:b1", "type": "Building"}],
            "propertyNames": ["height"],
        }
    ]
    assert post(client, other).status_code == 201


def test_discovery(client):
    assert post(client, reg()).status_code == 201
    located = {
        "id": "urn:ngsi-ld:ContextSourceRegistration:r2",
        "type": "ContextSourceRegistration",
        "information": [{"entities": [{"type": "Building"}]}],
        "endpoint": "http://cs.example.org:1026",
        "location": {"type": "Point", "coordinates": [7.75, 49.44]},
        "observationInterval": {"startAt": "2020-08-01T00:00:00Z", "endAt": "2021-08-01T00:00:00Z"},
        "csourceProperty1": "aValue",
    }
    assert post(client, located).status_code == 201
    r1, r2 = "urn:ngsi-ld:ContextSourceRegistration:r1", "urn:ngsi-ld:ContextSourceRegistration:r2"
    h = {"Link": LINK}

    def q(**params):
        return ids(client.get("csourceRegistrations", params=params, headers=h))

    assert q(type="Building") == [r1, r2]
    assert q(type="Vehicle") == [r1]
    assert q(type="Car") == []
    assert q(type="Building", attrs="name") == [r1, r2]  # r2 offers every attribute
    assert q(type="Building", attrs="height") == [r2]
    assert q(attrs="owner") == [r1, r2]
    assert q(id="urn:ngsi-ld:Vehicle:v47", type="Vehicle") == [r1]
    assert q(id="urn:ngsi-ld:Vehicle:v48", type="Vehicle") == []
    assert q(type="Building", id="urn:ngsi-ld:Building:b2") == [r2]
    assert q(type="Building", idPattern=".*b1$") == [r1, r2]
    assert q(type="Building", q='csourceProperty1=="aValue"') == [r2]
    assert q(type="Building", csf='csourceProperty1=="other"') == []
    near = {"georel": "near;maxDistance==2000", "geometry": "Point", "coordinates": "[7.751,49.44]"}
    assert q(type="Building", **near) == [r2]
    far = dict(near, coordinates="[8.75,49.44]")
    assert q(type="Building", **far) == []
    assert q(type="Building", timerel="before", timeAt="2021-01-01T00:00:00Z") == [r2]
    assert q(type="Building", timerel="after", timeAt="2022-01-01T00:00:00Z") == []
    assert q(
        type="Building",
        timerel="between",
        timeAt="2019-01-01T00:00:00Z",
        endTimeAt="2020-09-01T00:00:00Z",
    ) == [r2]
    r = client.get(
        "csourceRegistrations", params={"type": "Building", "limit": 1, "count": "true"}, headers=h
    )
    assert len(r.json()) == 1 and r.headers["ngsild-results-count"] == "2"
    assert 'rel="next"' in r.headers["link"]
    for bad in (
        {},
        {"id": "notauri"},
        {"type": "Building", "q": "(broken"},
        {"type": "Building", "georel": "within"},
        {"type": "Building", "timerel": "before"},
        {"type": "Building", "timerel": "whenever", "timeAt": "2020-01-01T00:00:00Z"},
        {"type": "Building", "timeproperty": "observedAt", "timeAt": "2020-01-01T00:00:00Z"},
    ):
        r = client.get("csourceRegistrations", params=bad, headers=h)
        assert r.status_code == 400, (bad, r.text)


def test_expired_registrations_are_not_discovered(client, app):
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert post(client, reg(expiresAt=soon)).status_code == 201
    store = app.broker.store
    assert [r.id for r in matching_registrations(store, client.tenant, types=[EX + "Building"])]
    import time

    time.sleep(1.2)
    assert matching_registrations(store, client.tenant, types=[EX + "Building"]) == []
    assert (
        ids(client.get("csourceRegistrations", params={"type": "Building"}, headers={"Link": LINK}))
        == []
    )


def test_matching_registrations_api(client, app):
    assert post(client, reg()).status_code == 201
    ops = reg(
        "urn:ngsi-ld:ContextSourceRegistration:r2",
        mode="redirect",
        operations=["updateOps"],
        information=[{"entities": [{"type": "Building"}]}],
    )
    assert post(client, ops).status_code == 201
    st, t = app.broker.store, client.tenant
    b, v = EX + "Building", DEF + "Vehicle"

    def m(**kw):
        return [r.id for r in matching_registrations(st, t, **kw)]

    r1, r2 = "urn:ngsi-ld:ContextSourceRegistration:r1", "urn:ngsi-ld:ContextSourceRegistration:r2"
    assert m(types=[b]) == [r1, r2]
    assert m(types=[b], operation="queryEntity") == [r1]
    assert m(types=[b], operation="updateAttrs") == [r2]
    assert m(types=[b], modes=["redirect"]) == [r2]
    assert m(types=[b], entity_ids=["urn:ngsi-ld:Building:b1"], attrs=[EX + "name"]) == [r1, r2]
    assert m(types=[b], entity_ids=["urn:ngsi-ld:Building:b9"]) == [r2]
    assert m(types=[v], entity_ids=["urn:ngsi-ld:Vehicle:47"]) == [r1]
    assert m(types=[v], entity_ids=["urn:ngsi-ld:Vehicle:48"]) == []
    assert m(types=[v], id_pattern=".*47$") == [r1]
    assert m(types=[DEF + "Car"]) == []
    assert m() == [r1, r2]
    reg1 = matching_registrations(st, t, types=[b], operation="retrieveEntity")[0]
    assert reg1.endpoint == "http://cs.example.org:1026" and reg1.mode == "inclusive"
    info = reg1.matching_info([b], ["urn:ngsi-ld:Building:b1"], None, None)
    assert info[0].property_names == (EX + "name",)
    assert info[0].relationship_names == (EX + "owner",)
    assert reg1.context == "https://example.org/ngsi-ld/test-context.jsonld"
    assert "_context" not in client.get("csourceRegistrations/" + r1).json()
    # another tenant sees none of them
    assert matching_registrations(st, t + "x") == []


# ----------------------------------------------------------------------- csource subscriptions
SUB = {
    "id": "urn:ngsi-ld:Subscription:cs1",
    "type": "Subscription",
    "entities": [{"type": "Building"}],
    "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify"}},
}


def outbox(app, tenant: str, sid: str = "urn:ngsi-ld:Subscription:cs1") -> list[dict]:
    store = app.broker.store
    p = store.placeholder
    with store.reading() as cur:
        cur.execute(
            f"SELECT payload, target FROM ngsi_notification WHERE tenant={p} AND sub_id={p}"
            " ORDER BY id",
            (tenant, sid),
        )
        rows = cur.fetchall()
    return [orjson.loads(r[0]) for r in rows]


def test_csource_subscription_crud(client):
    r = client.post("csourceSubscriptions", json=SUB, headers={"Link": LINK})
    assert r.status_code == 201, r.text
    assert r.headers["location"].endswith("/csourceSubscriptions/urn:ngsi-ld:Subscription:cs1")
    assert client.post("csourceSubscriptions", json=SUB).status_code == 409
    path = "csourceSubscriptions/urn:ngsi-ld:Subscription:cs1"
    got = client.get(path, headers={"Link": LINK}).json()
    assert got["status"] == "active" and got["entities"] == [{"type": "Building"}]
    assert client.patch(path, json={"isActive": False}).status_code == 204
    assert client.get(path).json()["status"] == "paused"
    r = client.get("csourceSubscriptions", params={"count": "true"})
    assert len(r.json()) == 1 and r.headers["ngsild-results-count"] == "1"
    # csource subscriptions are not entity subscriptions
    assert client.get("subscriptions").json() == []
    assert client.delete(path).status_code == 204
    assert client.get(path).status_code == 404
    assert client.delete(path).status_code == 404
    assert client.get("csourceSubscriptions/notauri").status_code == 400
    assert client.post("csourceSubscriptions", json=dict(SUB, type="Other")).status_code == 400
    past = dict(SUB, expiresAt="2001-01-01T00:00:00Z")
    assert client.post("csourceSubscriptions", json=past).status_code == 400
    bad = dict(SUB, notification={"endpoint": {"uri": "http://elsewhere.example.org/n"}})
    r = client.post("csourceSubscriptions", json=bad)
    assert r.status_code == 400 and "HERZSTADT_NGSI_NOTIFY_HOSTS" in r.json()["detail"]


def test_csource_notifications(client, app):
    t = client.tenant
    # an existing matching registration: notified on creation of the subscription
    assert post(client, reg()).status_code == 201
    assert client.post("csourceSubscriptions", json=SUB, headers={"Link": LINK}).status_code == 201
    n = outbox(app, t)
    assert [x["triggerReason"] for x in n] == ["newlyMatching"]
    assert n[0]["type"] == "ContextSourceNotification"
    assert n[0]["subscriptionId"] == "urn:ngsi-ld:Subscription:cs1"
    data = n[0]["data"][0]
    assert data["id"] == "urn:ngsi-ld:ContextSourceRegistration:r1"
    # only the RegistrationInfo that matched (Building, not Vehicle), compacted
    assert [i["entities"][0]["type"] for i in data["information"]] == ["Building"]
    path = "csourceRegistrations/urn:ngsi-ld:ContextSourceRegistration:r1"
    assert client.patch(path, json={"endpoint": "http://127.0.0.1:9/x"}).status_code == 204
    # no longer matching: the information becomes Vehicle only
    r = client.patch(
        path, json={"information": [{"entities": [{"type": "Vehicle"}]}]}, headers={"Link": LINK}
    )
    assert r.status_code == 204
    # matching again, then deleted
    r = client.patch(
        path, json={"information": [{"entities": [{"type": "Building"}]}]}, headers={"Link": LINK}
    )
    assert r.status_code == 204
    assert client.delete(path).status_code == 204
    # a registration that never matches: nothing
    other = reg(
        "urn:ngsi-ld:ContextSourceRegistration:r9", information=[{"entities": [{"type": "Car"}]}]
    )
    assert post(client, other).status_code == 201
    reasons = [x["triggerReason"] for x in outbox(app, t)]
    assert reasons == [
        "newlyMatching",
        "updated",
        "noLongerMatching",
        "newlyMatching",
        "noLongerMatching",
    ]
    # a paused subscription is not notified
    sp = "csourceSubscriptions/urn:ngsi-ld:Subscription:cs1"
    assert client.patch(sp, json={"isActive": False}).status_code == 204
    assert post(client, reg("urn:ngsi-ld:ContextSourceRegistration:r3")).status_code == 201
    assert len(outbox(app, t)) == 5
    # re-activated and widened to Car: the newly matching ones (r3 Building, r9 Car)
    r = client.patch(
        sp,
        json={"isActive": True, "entities": [{"type": "Building"}, {"type": "Car"}]},
        headers={"Link": LINK},
    )
    assert r.status_code == 204
    last = outbox(app, t)[-1]
    assert last["triggerReason"] == "newlyMatching"
    assert sorted(d["id"] for d in last["data"]) == [
        "urn:ngsi-ld:ContextSourceRegistration:r3",
        "urn:ngsi-ld:ContextSourceRegistration:r9",
    ]
    # deleting the subscription drops its pending notifications
    assert client.delete(sp).status_code == 204
    assert outbox(app, t) == []


def test_csource_subscription_watched_attributes_and_q(client, app):
    sub = dict(
        SUB,
        watchedAttributes=["height"],
        q='csourceProperty1=="aValue"',
    )
    assert client.post("csourceSubscriptions", json=sub, headers={"Link": LINK}).status_code == 201
    assert post(client, reg()).status_code == 201  # name/owner only, no csourceProperty1
    plain = reg(
        "urn:ngsi-ld:ContextSourceRegistration:r2",
        information=[{"entities": [{"type": "Building"}], "propertyNames": ["height"]}],
        csourceProperty1="aValue",
    )
    assert post(client, plain).status_code == 201
    n = outbox(app, client.tenant)
    assert [d["id"] for x in n for d in x["data"]] == ["urn:ngsi-ld:ContextSourceRegistration:r2"]
    assert n[0]["data"][0]["csourceProperty1"] == "aValue"


def test_registration_parsing_and_operation_groups():
    from herzstadt.ngsi.csource.registry import Registration

    doc = {
        "id": "urn:r",
        "endpoint": "http://cs.example.org",
        "operations": ["retrieveOps", "updateAttrs"],
        "information": [
            {"entities": [{"type": "T", "idPattern": "^urn:a"}]},
            {"propertyNames": ["p"]},
        ],
    }
    r = Registration.from_doc("t", doc)
    assert r.mode == "inclusive" and r.context is None
    assert r.offers("queryEntity") and r.offers("updateAttrs") and not r.offers("createEntity")
    assert not r.offers("queryTemporal")  # federationOps only by default
    assert Registration.from_doc("t", {**doc, "operations": None}).offers("queryTemporal")
    assert r.matches(["T"], ["urn:a1"]) and not r.matches(["T"], ["urn:b1"], attrs=["q"])
    # the second RegistrationInfo (no entities) offers p for any entity
    assert r.matches(["U"], ["urn:b1"], attrs=["p"])
    assert [len(i.entities) for i in r.matching_info(["U"], None, None, ["p"])] == [0]


def test_csource_subscription_patch_without_context_uses_its_own(client, app):
    sub = dict(SUB, entities=[{"type": "Car"}])
    assert client.post("csourceSubscriptions", json=sub, headers={"Link": LINK}).status_code == 201
    assert post(client, reg()).status_code == 201  # Building (test @context): not a Car
    assert outbox(app, client.tenant) == []
    sp = "csourceSubscriptions/urn:ngsi-ld:Subscription:cs1"
    # no Link header, plain JSON: "Building" is read with the subscription's @context
    assert client.patch(sp, json={"entities": [{"type": "Building"}]}).status_code == 204
    n = outbox(app, client.tenant)
    assert [x["triggerReason"] for x in n] == ["newlyMatching"]
    assert n[0]["data"][0]["id"] == "urn:ngsi-ld:ContextSourceRegistration:r1"
    got = client.get(sp, headers={"Link": LINK}).json()
    assert got["entities"] == [{"type": "Building"}]
    # a fragment that names its @context is read with it (core: the default vocabulary)
    core = client.get(sp).json()
    assert core["entities"] == [{"type": EX + "Building"}]
    r = client.patch(
        sp,
        content=b'{"entities": [{"type": "Building"}], "@context": []}',
        headers={"Content-Type": "application/ld+json"},
    )
    assert r.status_code == 204
    assert client.get(sp).json()["entities"] == [{"type": "Building"}]


def test_patch_without_content_type(client):
    assert client.post("csourceSubscriptions", json=SUB, headers={"Link": LINK}).status_code == 201
    sp = "csourceSubscriptions/urn:ngsi-ld:Subscription:cs1"
    r = client.patch(sp, content=b'{"notification": {"format": "keyValues",,}}')
    assert r.status_code == 400 and r.json()["type"].endswith("/InvalidRequest")
    assert client.patch(sp, content=b'{"isActive": false}').status_code == 415


def test_periodic_csource_notifications(client, app):
    import time

    from herzstadt.ngsi.csource import subs

    store = app.broker.store
    t = client.tenant

    def tick(at: float) -> int:
        with store.write("") as tx:
            return subs.periodic(app.broker, tx.cur, store.placeholder, at)

    assert post(client, reg()).status_code == 201
    sub = dict(SUB, timeInterval=60)
    assert client.post("csourceSubscriptions", json=sub, headers={"Link": LINK}).status_code == 201
    assert [x["triggerReason"] for x in outbox(app, t)] == ["newlyMatching"]  # initially
    # a periodic subscription is not notified on change
    path = "csourceRegistrations/urn:ngsi-ld:ContextSourceRegistration:r1"
    assert client.patch(path, json={"endpoint": "http://127.0.0.1:9/x"}).status_code == 204
    assert len(outbox(app, t)) == 1
    now = time.time()
    assert tick(now) == 0  # not due before timeInterval
    assert tick(now + 61) == 1
    n = outbox(app, t)
    assert [x["triggerReason"] for x in n] == ["newlyMatching", "updated"]
    assert [d["id"] for d in n[1]["data"]] == ["urn:ngsi-ld:ContextSourceRegistration:r1"]
    assert n[1]["data"][0]["endpoint"] == "http://127.0.0.1:9/x"
    assert tick(now + 62) == 0  # next one timeInterval later
    assert tick(now + 122) == 1
    # nothing matches: no notification; paused: none either
    assert client.delete(path).status_code == 204
    assert tick(now + 183) == 0
    assert post(client, reg()).status_code == 201
    sp = "csourceSubscriptions/urn:ngsi-ld:Subscription:cs1"
    assert client.patch(sp, json={"isActive": False}).status_code == 204
    assert tick(now + 244) == 0
    assert len(outbox(app, t)) == 3


def test_expiry_of_a_registration_is_notified_once(client, app):
    """5.11.7: a registration that expires no longer matches: ``noLongerMatching`` once, from the
    notifier's periodic check (only to the subscriptions it matched)."""
    import time

    from herzstadt.ngsi.csource import subs

    store = app.broker.store
    t = client.tenant

    def tick(at: float) -> int:
        with store.write("") as tx:
            return subs.expired(app.broker, tx.cur, store.placeholder, at)

    now = time.time()
    later = dt.datetime.fromtimestamp(now + 3600, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert post(client, reg(expiresAt=later)).status_code == 201
    car = reg(
        "urn:ngsi-ld:ContextSourceRegistration:r9",
        information=[{"entities": [{"type": "Car"}]}],
        expiresAt=later,
    )
    assert post(client, car).status_code == 201
    assert client.post("csourceSubscriptions", json=SUB, headers={"Link": LINK}).status_code == 201
    assert [x["triggerReason"] for x in outbox(app, t)] == ["newlyMatching"]
    tick(now)  # the first check sets the mark (or the notifier's has)
    assert tick(now + 1) == 0  # not expired yet
    assert tick(now + 3601) == 1  # r1 expired; r9 (Car) never matched
    n = outbox(app, t)
    assert [x["triggerReason"] for x in n] == ["newlyMatching", "noLongerMatching"]
    assert [d["id"] for d in n[1]["data"]] == ["urn:ngsi-ld:ContextSourceRegistration:r1"]
    assert [i["entities"][0]["type"] for i in n[1]["data"][0]["information"]] == ["Building"]
    assert tick(now + 3700) == 0  # once
    assert len(outbox(app, t)) == 2


def test_expiry_is_not_notified_to_periodic_or_paused_subscriptions(client, app):
    import time

    from herzstadt.ngsi.csource import subs

    store = app.broker.store

    def tick(at: float) -> int:
        with store.write("") as tx:
            return subs.expired(app.broker, tx.cur, store.placeholder, at)

    now = time.time()
    later = dt.datetime.fromtimestamp(now + 3600, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert post(client, reg(expiresAt=later)).status_code == 201
    periodic = dict(SUB, id="urn:ngsi-ld:Subscription:cs2", timeInterval=60)
    paused = dict(SUB, id="urn:ngsi-ld:Subscription:cs3", isActive=False)
    for s in (periodic, paused):
        assert (
            client.post("csourceSubscriptions", json=s, headers={"Link": LINK}).status_code == 201
        )
    tick(now)
    assert tick(now + 3601) == 0


def test_counters_appear_only_after_a_notification(client, app):
    """A state row written for throttling or the next periodic notification is no notification:
    ``timesSent``/``timesFailed`` appear after the first outcome only (entity and csource
    subscriptions alike)."""
    store = app.broker.store
    p = store.placeholder
    t = client.tenant
    periodic = dict(SUB, timeInterval=60)  # its next periodic time is stored on creation
    assert (
        client.post("csourceSubscriptions", json=periodic, headers={"Link": LINK}).status_code
        == 201
    )
    got = client.get("csourceSubscriptions/urn:ngsi-ld:Subscription:cs1").json()
    assert "timesSent" not in got["notification"] and "timesFailed" not in got["notification"]
    sub = {
        "id": "urn:ngsi-ld:Subscription:e1",
        "type": "Subscription",
        "entities": [{"type": "Building"}],
        "timeInterval": 5,
        "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify"}},
    }
    assert client.post("subscriptions", json=sub, headers={"Link": LINK}).status_code == 201
    with store.write("") as tx:
        tx.cur.execute(
            f"INSERT INTO ngsi_sub_state(tenant, sub_id, next_periodic, last_sent) VALUES ({p},{p},{p},{p})",
            (t, "urn:ngsi-ld:Subscription:e1", 1.0, 1.0),
        )
    path = "subscriptions/urn:ngsi-ld:Subscription:e1"
    assert "timesSent" not in client.get(path).json()["notification"]
    with store.write("") as tx:
        tx.cur.execute(
            f"UPDATE ngsi_sub_state SET times_sent=1, last_notification={p}, last_success={p}"
            f" WHERE tenant={p} AND sub_id={p}",
            ("2026-12-01T00:00:00Z", "2026-12-01T00:00:00Z", t, "urn:ngsi-ld:Subscription:e1"),
        )
    n = client.get(path).json()["notification"]
    assert n["timesSent"] == 1 and n["timesFailed"] == 0 and n["status"] == "ok"
