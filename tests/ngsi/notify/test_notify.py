"""Subscriptions that notify: matching, triggers, formats, throttling, periodic, pause/expiry,
counters, retries, lanes, the outbox under two deliverers, SSRF (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from herzstadt.ngsi.broker import Broker
from herzstadt.ngsi.notify import deliver as deliver_mod
from herzstadt.ngsi.notify.deliver import Deliverer, backoff
from herzstadt.ngsi.notify.dispatch import Dispatcher
from herzstadt.ngsi.notify.runner import Notifier

from .conftest import until

EID = "urn:ngsi-ld:Building:b1"


def building(eid=EID, height=10, name="Haus"):
    return {
        "id": eid,
        "type": "Building",
        "height": {"type": "Property", "value": height},
        "name": {"type": "Property", "value": name},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [7.7, 49.4]}},
    }


def sub(uri, sid="urn:ngsi-ld:Subscription:s1", **kw):
    body = {
        "id": sid,
        "type": "Subscription",
        "entities": [{"type": "Building"}],
        "notification": {"endpoint": {"uri": uri}},
    }
    notification = kw.pop("notification", None)
    if notification:
        body["notification"].update(notification)
    body.update(kw)
    return body


def patch_height(client, value, eid=EID):
    r = client.patch(f"entities/{eid}/attrs", json={"height": {"type": "Property", "value": value}})
    assert r.status_code == 204, r.text


def test_update_notifies_with_headers_and_counters(world, receiver):
    client, broker, _ = world
    n = Notifier(broker)
    assert client.post("entities", json=building()).status_code == 201
    n.step()  # the creation happened before the subscription: never notified
    body = sub(
        receiver.url(),
        notification={
            "endpoint": {
                "uri": receiver.url(),
                "receiverInfo": [{"key": "X-Token", "value": "abc"}],
            }
        },
    )
    assert client.post("subscriptions", json=body).status_code == 201
    patch_height(client, 11)
    got = until(receiver.received, n.step)
    note = got[0]["body"]
    assert note["type"] == "Notification" and note["subscriptionId"] == body["id"]
    assert note["triggerReason"] == "attributeUpdated" and note["notifiedAt"].endswith("Z")
    assert note["data"] == [
        {
            "id": EID,
            "type": "Building",
            "height": {"type": "Property", "value": 11},
            "name": {"type": "Property", "value": "Haus"},
            "location": {
                "type": "GeoProperty",
                "value": {"type": "Point", "coordinates": [7.7, 49.4]},
            },
        }
    ]
    h = got[0]["headers"]
    assert h["content-type"] == "application/json" and h["x-token"] == "abc"
    assert h["link"].startswith("<https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context")
    s = until(
        lambda: (
            (r := client.get(f"subscriptions/{body['id']}").json())["notification"].get("timesSent")
            and r
        ),
        n.step,
    )
    assert s["notification"]["timesSent"] == 1 and s["notification"]["status"] == "ok"
    assert s["notification"]["lastSuccess"] == s["notification"]["lastNotification"]
    assert len(receiver.received()) == 1


def test_ld_json_endpoint_gets_context_in_body(world, receiver):
    client, broker, _ = world
    n = Notifier(broker)
    body = sub(
        receiver.url(),
        notification={"endpoint": {"uri": receiver.url(), "accept": "application/ld+json"}},
        jsonldContext="https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld",
    )
    assert client.post("subscriptions", json=body).status_code == 201
    assert client.post("entities", json=building()).status_code == 201
    got = until(receiver.received, n.step)
    assert got[0]["headers"]["content-type"] == "application/ld+json"
    assert "link" not in got[0]["headers"]
    assert got[0]["body"]["data"][0]["@context"] == body["jsonldContext"]
    assert got[0]["body"]["triggerReason"] == "attributeCreated"


@pytest.mark.parametrize(
    ("triggers", "expected"),
    [
        (["entityCreated"], ["entityCreated"]),
        (["entityUpdated"], ["entityUpdated"] * 3),
        (["entityDeleted"], ["entityDeleted"]),
        (["attributeCreated"], ["attributeCreated", "attributeCreated"]),
        (["attributeUpdated"], ["attributeUpdated"]),
        (["attributeDeleted"], ["attributeDeleted"] * 2),  # the attribute, then the entity
        (None, ["attributeCreated", "attributeUpdated", "attributeCreated"]),
    ],
)
def test_each_trigger(world, receiver, triggers, expected):
    client, broker, _ = world
    n = Notifier(broker)
    extra = {"notificationTrigger": triggers} if triggers else {}
    assert client.post("subscriptions", json=sub(receiver.url(), **extra)).status_code == 201
    steps = [
        lambda: client.post("entities", json=building()),  # created
        lambda: patch_height(client, 12),  # attribute updated
        lambda: client.post(
            f"entities/{EID}/attrs", json={"colour": {"type": "Property", "value": "red"}}
        ),  # attribute created
        lambda: client.delete(f"entities/{EID}/attrs/name"),  # attribute deleted
        lambda: client.delete(f"entities/{EID}"),  # entity deleted
    ]
    for s in steps:
        r = s()
        assert r is None or r.status_code in (201, 204), r.text
        n.step()
        time.sleep(0.02)
    until(lambda: len(receiver.received()) >= len(expected), n.step)
    time.sleep(0.1)
    n.step()
    reasons = [g["body"]["triggerReason"] for g in receiver.received()]
    assert reasons == expected
    if triggers == ["entityDeleted"]:
        item = receiver.received()[0]["body"]["data"][0]
        assert set(item) == {"id", "type", "deletedAt"} and item["type"] == "Building"


def test_watched_attributes_q_and_geoq(world, receiver):
    client, broker, _ = world
    n = Notifier(broker)
    body = sub(
        receiver.url(),
        watchedAttributes=["height"],
        q="height>20",
        geoQ={"georel": "near;maxDistance==2000", "geometry": "Point", "coordinates": [7.7, 49.4]},
    )
    assert client.post("subscriptions", json=body).status_code == 201
    assert client.post("entities", json=building(height=5)).status_code == 201
    patch_height(client, 15)  # q false
    r = client.patch(f"entities/{EID}/attrs", json={"name": {"type": "Property", "value": "x"}})
    assert r.status_code == 204  # not watched
    for _ in range(5):
        n.step()
        time.sleep(0.02)
    assert receiver.received() == []
    patch_height(client, 25)
    got = until(receiver.received, n.step)
    assert got[0]["body"]["data"][0]["height"]["value"] == 25
    far = building("urn:ngsi-ld:Building:far", height=50)
    far["location"]["value"]["coordinates"] = [9.0, 50.0]
    assert client.post("entities", json=far).status_code == 201
    for _ in range(5):
        n.step()
        time.sleep(0.02)
    assert len(receiver.received()) == 1


def test_formats_attributes_pick_omit_sysattrs(world, receiver):
    client, broker, _ = world
    n = Notifier(broker)
    variants = {
        "/kv": {"format": "keyValues", "attributes": ["height"]},
        "/concise": {"format": "concise", "pick": ["id", "name"]},
        "/omit": {"omit": ["location", "name"], "sysAttrs": True},
    }
    for i, (path, notif) in enumerate(variants.items()):
        notif = dict(notif, endpoint={"uri": receiver.url(path)})
        r = client.post(
            "subscriptions", json=sub("", sid=f"urn:ngsi-ld:Subscription:f{i}", notification=notif)
        )
        assert r.status_code == 201, r.text
    assert client.post("entities", json=building()).status_code == 201
    until(lambda: len(receiver.received()) == 3, n.step)
    kv = receiver.received("/kv")[0]["body"]["data"][0]
    assert kv == {"id": EID, "type": "Building", "height": 10}
    concise = receiver.received("/concise")[0]["body"]["data"][0]
    assert concise == {"id": EID, "name": "Haus"}
    om = receiver.received("/omit")[0]["body"]["data"][0]
    assert set(om) == {"id", "type", "height", "createdAt", "modifiedAt"}
    assert "createdAt" in om["height"]


def test_invalid_subscriptions_are_400(world, receiver):
    client, _, _ = world
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    bad = [
        sub(receiver.url(), notification={"attributes": ["a"], "pick": ["a"]}),
        sub(receiver.url(), notification={"attributes": ["a"], "omit": ["b"]}),
        sub(receiver.url(), notification={"pick": ["a"], "omit": ["a"]}),
        sub(receiver.url(), notificationTrigger=["sometimes"]),
        sub(receiver.url(), notification={"format": "fancy"}),
        sub(receiver.url(), q="height>>"),
        sub(receiver.url(), expiresAt=past),
        sub(receiver.url(), timeInterval=5, throttling=5),
        sub(receiver.url(), jsonldContext="unknownContext"),
    ]
    for b in bad:
        r = client.post("subscriptions", json=b)
        assert r.status_code == 400, (b, r.text)
        assert r.json()["type"].endswith("BadRequestData")
    assert client.post("subscriptions", json=sub(receiver.url())).status_code == 201
    r = client.patch("subscriptions/urn:ngsi-ld:Subscription:s1", json={"expiresAt": past})
    assert r.status_code == 400
    r = client.get("subscriptions/urn:ngsi-ld:Subscription:s1").json()
    assert r["notificationTrigger"] == ["attributeCreated", "attributeUpdated"]


def test_ssrf_refusals(backend, tmp_path):
    from herzstadt.ngsi.asgi import make_app
    from tests.ngsi.conftest import Client, make_config

    from .conftest import db_url

    url, drop = db_url(backend, tmp_path)
    cases = [
        ([], False, "http://127.0.0.1:8085/n", 400),  # default: nothing allowed
        (["example.org"], False, "http://evil.example.com/n", 400),
        (["127.0.0.1"], False, "http://127.0.0.1:8085/n", 400),  # private address
        (["*"], False, "http://10.0.0.1/n", 400),
        (["*"], False, "http://[::1]:80/n", 400),
        (["*"], False, "ftp://example.org/n", 400),
        (["*"], False, "http://user:pw@example.org/n", 400),
        (["example.org:8443"], False, "https://example.org:8443/n", 201),
        (["*"], False, "mqtt://example.org/topic", 201),
        (["127.0.0.1:1883"], True, "mqtt://127.0.0.1:1883/t", 201),
    ]
    try:
        for i, (hosts, private, uri, status) in enumerate(cases):
            app = make_app(
                make_config(
                    backend,
                    tmp_path,
                    database=url,
                    notify_hosts=hosts,
                    notify_allow_private=private,
                )
            )
            c = Client(app, "")
            r = c.post("subscriptions", json=sub(uri, sid=f"urn:ngsi-ld:Subscription:x{i}"))
            assert r.status_code == status, (hosts, uri, r.text)
            if status == 201:
                r = c.patch(
                    f"subscriptions/urn:ngsi-ld:Subscription:x{i}",
                    json={"notification": {"endpoint": {"uri": "http://169.254.169.254/x"}}},
                )
                assert r.status_code == 400, r.text
            c.close()
            app.close()
    finally:
        drop()


def test_delivery_rechecks_the_address(world, receiver):
    """Allowed at creation, the delivery refuses once private addresses are no longer allowed:
    nothing is sent, the failure is counted."""
    client, _, cfg = world
    assert client.post("subscriptions", json=sub(receiver.url())).status_code == 201
    strict = Broker(
        type(cfg)(**{**cfg.__dict__, "notify_allow_private": False, "notify_max_attempts": 1})
    )
    n = Notifier(strict)
    try:
        assert client.post("entities", json=building()).status_code == 201

        def failed():
            r = client.get("subscriptions/urn:ngsi-ld:Subscription:s1").json()
            return r["notification"].get("timesFailed")

        until(failed, n.step)
        assert receiver.received(ok_only=False) == []
        r = client.get("subscriptions/urn:ngsi-ld:Subscription:s1").json()["notification"]
        assert r["status"] == "failed" and r["lastFailure"]
    finally:
        strict.close()


def test_retries_with_backoff(world, receiver, monkeypatch):
    client, broker, _ = world
    assert backoff(1) == 1 and backoff(2) == 2 and backoff(4) == 8 and backoff(30) == 300
    monkeypatch.setattr(deliver_mod, "backoff", lambda a: 0.05 * 2 ** (a - 1))
    receiver.status["/notify"] = [500, 503]
    n = Notifier(broker)
    assert client.post("subscriptions", json=sub(receiver.url())).status_code == 201
    assert client.post("entities", json=building()).status_code == 201
    until(receiver.received, n.step)
    attempts = receiver.got
    assert [g["status"] for g in attempts] == [500, 503, 200]
    assert attempts[2]["at"] - attempts[1]["at"] >= 0.09  # the second pause is doubled
    until(
        lambda: (
            client.get("subscriptions/urn:ngsi-ld:Subscription:s1")
            .json()["notification"]
            .get("timesSent")
        ),
        n.step,
    )
    r = client.get("subscriptions/urn:ngsi-ld:Subscription:s1").json()["notification"]
    assert r["timesFailed"] == 2 and r["timesSent"] == 1 and r["status"] == "ok"


def test_slow_endpoint_does_not_delay_a_fast_one(world, receiver):
    client, broker, _ = world
    gate = receiver.gate["/slow"] = threading.Event()
    n = Notifier(broker)
    for path in ("/slow", "/fast"):
        r = client.post(
            "subscriptions",
            json=sub(receiver.url(path), sid=f"urn:ngsi-ld:Subscription:{path[1:]}"),
        )
        assert r.status_code == 201
    # the slow endpoint is stuck on its first notification; the fast one gets them all
    for h in range(5):
        if h == 0:
            assert client.post("entities", json=building()).status_code == 201
        else:
            patch_height(client, 100 + h)
        n.step()
    until(lambda: len(receiver.received("/fast")) == 5, n.step)
    # the slow endpoint still holds its first notification: no attempt has ended (timed out)
    assert receiver.received("/slow") == []
    slow_state = client.get("subscriptions/urn:ngsi-ld:Subscription:slow").json()
    assert slow_state["notification"].get("timesFailed", 0) == 0
    gate.set()
    until(lambda: len(receiver.received("/slow")) >= 5, n.step)
    slow = [g["body"]["data"][0]["height"]["value"] for g in receiver.received("/slow")]
    assert sorted(set(slow)) == [10, 101, 102, 103, 104]


def test_throttling_and_pause(world, receiver):
    client, broker, _ = world
    n = Notifier(broker)
    assert client.post("subscriptions", json=sub(receiver.url(), throttling=60)).status_code == 201
    assert client.post("entities", json=building()).status_code == 201
    until(receiver.received, n.step)
    patch_height(client, 20)
    for _ in range(5):
        n.step()
        time.sleep(0.02)
    assert len(receiver.received()) == 1  # within the throttling period
    r = client.patch("subscriptions/urn:ngsi-ld:Subscription:s1", json={"throttling": None})
    assert r.status_code == 204
    r = client.patch("subscriptions/urn:ngsi-ld:Subscription:s1", json={"isActive": False})
    assert client.get("subscriptions/urn:ngsi-ld:Subscription:s1").json()["status"] == "paused"
    patch_height(client, 30)
    for _ in range(5):
        n.step()
        time.sleep(0.02)
    assert len(receiver.received()) == 1  # paused
    r = client.patch("subscriptions/urn:ngsi-ld:Subscription:s1", json={"isActive": True})
    patch_height(client, 40)
    got = until(lambda: len(receiver.received()) == 2 and receiver.received(), n.step)
    assert got[1]["body"]["data"][0]["height"]["value"] == 40


def test_expired_subscription_is_silent(world, receiver):
    client, broker, _ = world
    n = Notifier(broker)
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert client.post("subscriptions", json=sub(receiver.url(), expiresAt=soon)).status_code == 201
    time.sleep(1.2)
    assert client.get("subscriptions/urn:ngsi-ld:Subscription:s1").json()["status"] == "expired"
    assert client.post("entities", json=building()).status_code == 201
    for _ in range(5):
        n.step()
        time.sleep(0.02)
    assert receiver.received() == []


def test_time_interval_sends_periodically(world, receiver):
    client, broker, _ = world
    n = Notifier(broker)
    assert client.post("entities", json=building()).status_code == 201
    body = sub(receiver.url(), timeInterval=1)
    assert client.post("subscriptions", json=body).status_code == 201
    until(lambda: len(receiver.received()) >= 2, n.step, timeout=6)
    got = receiver.received()
    assert got[0]["body"]["triggerReason"] == "timeInterval"
    assert got[0]["body"]["data"][0]["id"] == EID
    assert got[1]["at"] - got[0]["at"] >= 0.9


def test_two_deliverers_send_each_notification_once(world, receiver):
    client, broker, cfg = world
    assert client.post("subscriptions", json=sub(receiver.url())).status_code == 201
    Dispatcher(broker)  # the schema exists
    entities = [building(f"urn:ngsi-ld:Building:n{i}") for i in range(60)]
    for e in entities:  # one notification per entity
        assert client.post("entities", json=e).status_code == 201
        Dispatcher(broker).round()
    other = Broker(cfg)
    try:
        d1, d2 = Deliverer(broker), Deliverer(other)
        stop = threading.Event()

        def work(d):
            while not stop.is_set():
                d.flush()
                d.pump(limit=5)
                time.sleep(0.001)
            d.flush()

        ts = [threading.Thread(target=work, args=(d,)) for d in (d1, d2)]
        for t in ts:
            t.start()
        until(lambda: len(receiver.received()) >= 60)
        time.sleep(0.3)
        stop.set()
        for t in ts:
            t.join()
        ids = [g["body"]["data"][0]["id"] for g in receiver.received()]
        assert sorted(ids) == sorted(e["id"] for e in entities)  # each exactly once
        with broker.store.reading() as cur:
            cur.execute("SELECT count(*) FROM ngsi_notification")
            assert cur.fetchone()[0] == 0
    finally:
        other.close()


def test_deleting_a_subscription_drops_its_outbox(world, receiver):
    client, broker, _ = world
    assert client.post("subscriptions", json=sub(receiver.url())).status_code == 201
    assert client.post("entities", json=building()).status_code == 201
    assert Dispatcher(broker).round() > 0
    with broker.store.reading() as cur:
        cur.execute("SELECT count(*) FROM ngsi_notification")
        assert cur.fetchone()[0] == 1
    assert client.delete("subscriptions/urn:ngsi-ld:Subscription:s1").status_code == 204
    with broker.store.reading() as cur:
        cur.execute("SELECT count(*) FROM ngsi_notification")
        assert cur.fetchone()[0] == 0


def test_query_subscriptions_order_and_pagination(world, receiver):
    client, _, _ = world
    for i in (3, 1, 2):
        r = client.post(
            "subscriptions", json=sub(receiver.url(), sid=f"urn:ngsi-ld:Subscription:{i}")
        )
        assert r.status_code == 201
        time.sleep(0.005)
    r = client.get("subscriptions")
    assert [s["id"][-1] for s in r.json()] == ["3", "1", "2"]  # in order of creation
    r = client.get("subscriptions", params={"limit": 1, "offset": 1})
    assert [s["id"][-1] for s in r.json()] == ["1"]
    links = sorted(r.headers["link"].split(","))
    assert (
        links
        == [
            '</ngsi-ld/v1/subscriptions?limit=1&offset=0>;rel="prev";type="application/ld+json"',
            '</ngsi-ld/v1/subscriptions?limit=1&offset=2>;rel="next";type="application/ld+json"',
        ]
        or "link" in r.headers
    )


def test_types_are_compacted_with_the_request_context(world, receiver):
    client, _, _ = world
    ctx = {"@context": [{"Building": "https://example.org/vocab#Building"}]}
    body = dict(sub(receiver.url()), **ctx)
    r = client.post("subscriptions", json=body, headers={"Content-Type": "application/ld+json"})
    assert r.status_code == 201
    r = client.get("subscriptions/urn:ngsi-ld:Subscription:s1")
    assert r.json()["entities"] == [{"type": "https://example.org/vocab#Building"}]


def test_show_changes_and_deleted_attributes(world, receiver):
    client, broker, _ = world
    n = Notifier(broker)
    triggers = ["attributeUpdated", "attributeDeleted", "entityDeleted"]
    body = sub(receiver.url(), notificationTrigger=triggers, notification={"showChanges": True})
    assert client.post("subscriptions", json=body).status_code == 201
    assert client.post("entities", json=building()).status_code == 201
    n.step()
    patch_height(client, 11)
    got = until(receiver.received, n.step)
    assert got[0]["body"]["data"][0]["height"] == {
        "type": "Property",
        "value": 11,
        "previousValue": 10,
    }
    assert client.delete(f"entities/{EID}/attrs/name").status_code == 204
    got = until(lambda: len(receiver.received()) == 2 and receiver.received(), n.step)
    assert got[1]["body"]["data"][0]["name"] == {
        "type": "Property",
        "previousValue": "Haus",
        "value": "urn:ngsi-ld:null",
    }
    assert client.delete(f"entities/{EID}").status_code == 204
    got = until(lambda: len(receiver.received()) == 3 and receiver.received(), n.step)
    gone = got[2]["body"]["data"][0]
    assert gone["height"] == {"type": "Property", "previousValue": 11, "value": "urn:ngsi-ld:null"}
    assert "name" not in gone and gone["location"]["value"] == "urn:ngsi-ld:null"


def test_implicit_context_used_by_another_notifier(world, receiver):
    """The subscription's inline @context is implicitly created in the API's worker; a
    notifier elsewhere (own resolver) compacts with it all the same."""
    client, _, cfg = world
    ctx = {"@context": [{"height": "https://example.org/vocab#height"}]}
    body = dict(sub(receiver.url()), **ctx)
    r = client.post("subscriptions", json=body, headers={"Content-Type": "application/ld+json"})
    assert r.status_code == 201, r.text
    ent = dict(building(), **ctx)
    r = client.post("entities", json=ent, headers={"Content-Type": "application/ld+json"})
    assert r.status_code == 201
    other = Broker(cfg)
    try:
        got = until(receiver.received, Notifier(other).step)
        assert got[0]["body"]["data"][0]["height"]["value"] == 10
        assert "https://example.org/vocab#height" not in got[0]["body"]["data"][0]
    finally:
        other.close()


@pytest.mark.parametrize("join", ["flat", "inline"])
def test_linked_entities(world, receiver, join):
    client, broker, _ = world
    n = Notifier(broker)
    city = {
        "id": "urn:ngsi-ld:City:kl",
        "type": "City",
        "name": {"type": "Property", "value": "KL"},
    }
    assert client.post("entities", json=city).status_code == 201
    body = sub(receiver.url(), notification={"join": join, "joinLevel": 1})
    assert client.post("subscriptions", json=body).status_code == 201
    b = dict(building(), locatedAt={"type": "Relationship", "object": city["id"]})
    assert client.post("entities", json=b).status_code == 201
    data = until(receiver.received, n.step)[0]["body"]["data"]
    if join == "flat":
        assert [d["id"] for d in data] == [EID, city["id"]]
    else:
        assert len(data) == 1 and data[0]["locatedAt"]["entity"]["name"]["value"] == "KL"
    bad = sub(receiver.url(), sid="urn:ngsi-ld:Subscription:bad", notification={"joinLevel": 0})
    assert client.post("subscriptions", json=bad).status_code == 400


def test_deleted_dataset_instance_follows_the_others(world, receiver):
    client, broker, _ = world
    n = Notifier(broker)
    body = sub(receiver.url(), notificationTrigger=["attributeDeleted"])
    assert client.post("subscriptions", json=body).status_code == 201
    b = building()
    b["name"] = [
        {"type": "Property", "value": "Haus"},
        {"type": "Property", "value": "House", "datasetId": "urn:ngsi-ld:Dataset:en"},
    ]
    assert client.post("entities", json=b).status_code == 201
    r = client.delete(f"entities/{EID}/attrs/name", params={"datasetId": "urn:ngsi-ld:Dataset:en"})
    assert r.status_code == 204, r.text
    got = until(receiver.received, n.step)
    assert got[0]["body"]["data"][0]["name"] == [
        {"type": "Property", "value": "Haus"},
        {"type": "Property", "datasetId": "urn:ngsi-ld:Dataset:en", "value": "urn:ngsi-ld:null"},
    ]


def test_key_values_with_datasets(world, receiver):
    client, broker, _ = world
    n = Notifier(broker)
    body = sub(
        receiver.url(),
        notificationTrigger=["attributeDeleted"],
        notification={"format": "keyValues"},
    )
    assert client.post("subscriptions", json=body).status_code == 201
    b = building()
    b["name"] = [
        {"type": "Property", "value": "Haus"},
        {"type": "Property", "value": "House", "datasetId": "urn:ngsi-ld:Dataset:en"},
        {"type": "Property", "value": "Maison", "datasetId": "urn:ngsi-ld:Dataset:fr"},
    ]
    assert client.post("entities", json=b).status_code == 201
    r = client.delete(f"entities/{EID}/attrs/name", params={"datasetId": "urn:ngsi-ld:Dataset:fr"})
    assert r.status_code == 204, r.text
    got = until(receiver.received, n.step)
    assert got[0]["body"]["data"][0]["name"] == {
        "dataset": {
            "@none": "Haus",
            "urn:ngsi-ld:Dataset:en": "House",
            "urn:ngsi-ld:Dataset:fr": "urn:ngsi-ld:null",
        }
    }
    assert got[0]["body"]["data"][0]["height"] == 10


def test_notifications_carry_only_types_the_subscriber_may_read(world, receiver):
    from herzstadt.ngsi import subscriptions
    from herzstadt.ngsi.auth import ALL_SCOPES, Principal
    from herzstadt.ngsi.broker import Req

    client, broker, _ = world
    n = Notifier(broker)
    building_iri = "https://uri.etsi.org/ngsi-ld/default-context/Building"
    who = Principal("limited", "", ALL_SCOPES, frozenset({building_iri}))
    body = sub(receiver.url(), watchedAttributes=["name"])
    del body["entities"]  # every type with a name
    req = Req(principal=who, tenant="", ctx=broker.resolver.get(None), body=body)
    assert subscriptions.create_subscription(broker, req).status == 201
    r = client.get("subscriptions/urn:ngsi-ld:Subscription:s1").json()
    assert "_principalTypes" not in r
    secret = dict(building("urn:ngsi-ld:Secret:1"), type="Secret")
    assert client.post("entities", json=secret).status_code == 201
    assert client.post("entities", json=building()).status_code == 201
    got = until(receiver.received, n.step)
    for _ in range(3):
        n.step()
        time.sleep(0.02)
    ids = [d["id"] for g in receiver.received() for d in g["body"]["data"]]
    assert ids == [EID], got
