"""The living Pfaff-Areal: fragments of the demo's entities, ``herzstadt simulate`` (in-process,
MQTT), the background task ``simulate`` and the backfill of 30 days of history."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

from herzstadt import cli
from herzstadt.urbandata.simulation import backfill, district, runner
from herzstadt.urbandata.simulation.publish import (
    MqttTarget,
    PublishError,
    device_topic,
    without_credentials,
)

UTC = dt.UTC
SNAPSHOT = Path(__file__).resolve().parents[2] / "herzstadt/urbandata/demo/pfaff-areal.jsonld"
ENTITIES = district.load_snapshot(SNAPSHOT)
NOT_SIMULATED = {"IssueReporting"}


def _short(t: str) -> str:
    return t.rstrip("/").rsplit("/", 1)[-1]


# --------------------------------------------------------------------------- fragments
def test_every_sensor_of_the_snapshot_gets_a_fragment_with_observed_at_and_its_unit_codes():
    t = dt.datetime(2026, 11, 30, 7, 30, tzinfo=UTC)
    fragments = district.fragments(ENTITIES, t)
    by_id = {e["id"]: e for e in ENTITIES}
    expected = {e["id"] for e in ENTITIES if e["type"] not in NOT_SIMULATED}
    assert {f["id"] for f in fragments} == expected and len(expected) == 39
    for f in fragments:
        original = by_id[f["id"]]
        assert f["type"] == original["type"] and f["@context"] == original["@context"]
        measured = {k: v for k, v in f.items() if isinstance(v, dict) and "observedAt" in v}
        assert measured, f["id"]
        for name, attr in measured.items():
            assert attr["observedAt"] == "2026-11-30T07:30:00.000Z"
            assert attr["type"] == "Property"
            # the snapshot's attribute names and units
            assert name in original, (f["id"], name)
            assert attr.get("unitCode") == original[name].get("unitCode"), (f["id"], name)
    weather = next(f for f in fragments if f["type"] == "WeatherObserved")
    assert weather["dateObserved"]["value"] == "2026-11-30T07:30:00.000Z"
    noise = next(f for f in fragments if f["type"] == "NoiseLevelObserved")
    assert noise["dateObserved"]["value"] == "2026-11-30T07:15:00.000Z/2026-11-30T07:30:00.000Z"


def test_fragments_keep_counts_consistent_with_the_snapshot_capacities():
    for k in range(0, 1440 * 2, 45):
        t = dt.datetime(2026, 11, 28, tzinfo=UTC) + dt.timedelta(minutes=k)
        for f in district.fragments(ENTITIES, t):
            original = next(e for e in ENTITIES if e["id"] == f["id"])
            if f["type"] == "OffStreetParking":
                total = original["totalSpotNumber"]["value"]
                free, used = f["availableSpotNumber"]["value"], f["occupiedSpotNumber"]["value"]
                assert free + used == total and 0 <= free <= total
                if "firstAvailableFloor" in f:
                    floor = f["firstAvailableFloor"]["value"]
                    assert original["lowestFloor"]["value"] <= floor
                    assert floor <= original["highestFloor"]["value"]
            elif f["type"] == "BikeHireDockingStation":
                usable = original["totalSlotNumber"]["value"] - f["outOfServiceSlotNumber"]["value"]
                assert f["availableBikeNumber"]["value"] + f["freeSlotNumber"]["value"] == usable
            elif f["type"] == "EVChargingStation":
                assert 0 <= f["availableCapacity"]["value"] <= original["capacity"]["value"]
            elif f["type"] == "ParkingSpot":
                assert f["status"]["value"] in ("free", "occupied")


def test_a_backfill_window_has_2880_quarter_hours_on_the_utc_grid():
    times = district.quarter_hours(dt.datetime(2026, 11, 30, 18, 7, 12, tzinfo=UTC))
    assert len(times) == 2880 and times[-1] == dt.datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
    assert times[0] == times[-1] - dt.timedelta(minutes=15) * 2879
    assert all(b - a == dt.timedelta(minutes=15) for a, b in itertools.pairwise(times))


def test_temporal_fragments_hold_one_instance_per_time_and_attribute():
    times = district.quarter_hours(dt.datetime(2026, 11, 30, tzinfo=UTC), days=1)
    frags = district.temporal_fragments(ENTITIES, times)
    pv = next(f for f in frags if f["type"] == "PhotovoltaicMeasurement")
    assert [i["observedAt"] for i in pv["activePower"]] == [district.iso(t) for t in times]
    assert "dateObserved" not in pv  # only measured attributes have a history
    assert {i["unitCode"] for i in pv["activePower"]} == {"KWT"}


def test_mqtt_urls_and_topics():
    t = MqttTarget.parse("mqtts://sim%40city:p%3Ass@broker.example?version=3.1.1")
    assert (t.host, t.port, t.tls, t.username, t.password, t.version) == (
        "broker.example",
        8883,
        True,
        "sim@city",
        "p:ss",
        "3.1.1",
    )
    assert MqttTarget.parse("mqtt://127.0.0.1").port == 1883
    for bad in ("http://x", "mqtt://", "mqtt://h?version=4"):
        with pytest.raises(PublishError):
            MqttTarget.parse(bad)
    assert without_credentials("mqtt://u:secret@h:1883?version=5") == "mqtt://h:1883?version=5"
    assert without_credentials("https://x.example/") == "https://x.example/"
    assert device_topic("hzd_k") == "herzstadt/hzd_k/entities"
    assert device_topic("hzd_k", "/site/a/") == "site/a/herzstadt/hzd_k/entities"


# --------------------------------------------------------------------------- in the database
def _entity(city, entity):
    from herzstadt.urbandata.broker import get_broker

    result = backfill.temporal_call(
        get_broker(),
        city.ngsi_tenant,
        "GET",
        f"entities/{quote(entity['id'], safe=':')}",
        context=entity["@context"],
    )
    assert result.status == 200
    return result.body


@pytest.mark.django_db
def test_simulate_once_writes_every_simulated_entity(demo, capsys):
    before = time.time()
    assert cli.main(["simulate", "--once"]) == 0
    out = capsys.readouterr().out
    assert "39 entities → the broker (in-process)" in out
    for entity in ENTITIES:
        stored = _entity(demo, entity)
        if entity["type"] in NOT_SIMULATED:
            # untouched: the snapshot's value and time
            assert stored["resolutionStatus"]["observedAt"].startswith("2026-11-2")
            continue
        measured = [k for k, v in entity.items() if isinstance(v, dict) and "observedAt" in v]
        for name in measured:
            if entity["type"] == "PhotovoltaicMeasurement" and name == "inverterStatus":
                continue  # not simulated: keeps the snapshot's value
            observed = dt.datetime.fromisoformat(stored[name]["observedAt"].replace("Z", "+00:00"))
            assert observed.timestamp() >= before - 1, (entity["id"], name)
        # what the simulation does not send stays (options=update)
        assert stored["name"]["value"] == entity["name"]["value"]
        assert stored["location"]["value"] == entity["location"]["value"]


@pytest.mark.django_db
def test_simulate_refuses_bad_usage_without_a_traceback(demo, capsys):
    assert cli.main(["simulate", "--once", "--city", "atlantis"]) == cli.EXIT_USAGE
    assert cli.main(["simulate", "--once", "--via", "http"]) == cli.EXIT_USAGE
    assert cli.main(["simulate", "--once", "--interval", "0"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "atlantis" in err and "--url" in err and "Traceback" not in err


@pytest.mark.django_db
def test_simulate_over_mqtt_publishes_fragments_with_a_working_device_key(demo, monkeypatch):
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from herzstadt.urbandata.verifier import SiteVerifier

    prefix = f"hz-sim-test-{uuid.uuid4().hex}"
    monkeypatch.setenv("HERZSTADT_MQTT_TOPIC_PREFIX", prefix)
    received: list[mqtt.MQTTMessage] = []
    subscribed = threading.Event()
    got = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"sub-{uuid.uuid4().hex[:10]}")
    client.on_connect = lambda c, u, f, r, p: c.subscribe(f"{prefix}/#", qos=1)
    client.on_subscribe = lambda *a: subscribed.set()

    def on_message(c, u, msg):
        received.append(msg)
        got.set()

    client.on_message = on_message
    try:
        client.connect("127.0.0.1", 1883)
    except OSError:
        pytest.skip("no MQTT broker on 127.0.0.1:1883")
    client.loop_start()
    try:
        assert subscribed.wait(10)
        assert (
            cli.main(["simulate", "--once", "--via", "mqtt", "--url", "mqtt://127.0.0.1:1883"]) == 0
        )
        assert got.wait(10)
    finally:
        client.disconnect()
        client.loop_stop()
    (msg,) = received
    parts = msg.topic.split("/")
    assert parts[0] == prefix and parts[1] == "herzstadt" and parts[3] == "entities"
    payload = json.loads(msg.payload)
    assert isinstance(payload, list) and len(payload) == 39
    assert all(
        "observedAt" in v
        for f in payload
        for v in f.values()
        if isinstance(v, dict) and "unitCode" in v
    )
    # the key in the topic is the demo city's simulator device, allowed the simulated types
    principal = SiteVerifier().authenticate("apikey", parts[2])
    assert principal is not None and principal.kind == "device"
    assert principal.tenant == demo.ngsi_tenant
    assert {_short(t) for t in principal.entity_types} == {
        e["type"] for e in ENTITIES if e["type"] not in NOT_SIMULATED
    }


@pytest.mark.django_db
def test_the_mqtt_sink_reports_an_unreachable_broker(demo, capsys):
    code = cli.main(["simulate", "--once", "--via", "mqtt", "--url", "mqtt://127.0.0.1:9"])
    assert code == cli.EXIT_CONFIG
    assert "unreachable" in capsys.readouterr().err


def test_the_task_does_nothing_when_switched_off(monkeypatch):
    from herzstadt.core import registry

    assert "simulate" in {t.key for t in registry.background_tasks()}
    monkeypatch.delenv("HERZSTADT_SIMULATE", raising=False)
    published = []
    monkeypatch.setattr(runner, "demo_cities", lambda: published.append(1) or [])
    stop = threading.Event()
    worker = threading.Thread(target=runner.task, args=(stop,))
    worker.start()
    time.sleep(0.3)
    assert worker.is_alive() and not published  # waits for the stop, touches nothing
    stop.set()
    worker.join(5)
    assert not worker.is_alive() and not published
    for off in ("0", "no", "", "off"):
        monkeypatch.setenv("HERZSTADT_SIMULATE", off)
        assert not runner.enabled()
    monkeypatch.setenv("HERZSTADT_SIMULATE", "1")
    assert runner.enabled()


@pytest.mark.django_db(transaction=True)
def test_the_task_ticks_when_switched_on_and_one_worker_claims_each_tick(demo, monkeypatch):
    monkeypatch.setenv("HERZSTADT_SIMULATE", "1")
    monkeypatch.setenv("HERZSTADT_SIMULATE_INTERVAL", "1")
    garage = next(e for e in ENTITIES if e["type"] == "OffStreetParking")
    stop = threading.Event()
    workers = [threading.Thread(target=runner.task, args=(stop,)) for _ in range(2)]
    started = time.time()
    for w in workers:
        w.start()
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            observed = _entity(demo, garage)["availableSpotNumber"]["observedAt"]
            when = dt.datetime.fromisoformat(observed.replace("Z", "+00:00")).timestamp()
            if when >= started - 1:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the simulation did not write within 20 s")
    finally:
        stop.set()
        for w in workers:
            w.join(10)
    assert when == int(when)  # ticks on the grid of the interval
    at = dt.datetime.fromtimestamp(when, UTC)
    assert not runner._claim(demo.pk, at, 1.0)  # claimed already by one of the workers


# --------------------------------------------------------------------------- backfill
class FakeTemporal:
    """The temporal API's two calls the backfill makes, in memory (the real one is another
    branch's): append instances, and an entity's instances of an attribute between two times."""

    def __init__(self):
        from herzstadt.ngsi.broker import NO_CONTENT
        from herzstadt.ngsi.routes import Op, Route, Router

        self.store: dict[tuple[str, str], list[dict]] = {}
        self.contexts: list = []
        self.gets = 0

        def post(broker, req, params, eid):
            self.contexts.append(req.raw_context)
            for name, instances in req.body.items():
                self.store.setdefault((eid, name), []).extend(instances)
            return NO_CONTENT

        def get(broker, req, params, eid):
            from herzstadt.ngsi.broker import Result

            self.gets += 1
            found = [
                i
                for i in self.store.get((eid, params["attrs"]), [])
                if params["timeAt"] <= i["observedAt"] < params["endTimeAt"]
            ]
            return Result(200, {"id": eid, "type": "T", params["attrs"]: found[-1:]})

        self.router = Router(
            [
                Route(
                    "temporal/entities/{entityId}",
                    {"GET": Op(get, frozenset(), parse=lambda p, c: dict(p))},
                ),
                Route(
                    "temporal/entities/{entityId}/attrs",
                    {"POST": Op(post, frozenset(), body=True)},
                ),
            ]
        )


@pytest.mark.django_db
def test_backfill_writes_2880_instances_per_attribute_once(city, monkeypatch):
    from herzstadt.ngsi import routes
    from herzstadt.urbandata.broker import get_broker

    fake = FakeTemporal()
    monkeypatch.setattr(routes, "ROUTER", fake.router)
    now = dt.datetime(2026, 11, 30, 18, 10, tzinfo=UTC)
    report = backfill.backfill(get_broker(), city.ngsi_tenant, ENTITIES, now)
    assert report.entities == 39 and report.skipped == 0 and not report.unavailable
    assert {len(v) for v in fake.store.values()} == {2880}
    assert report.instances == 2880 * len(fake.store)
    assert all(isinstance(c, list) and c for c in fake.contexts)  # the entities' @context
    instances = fake.store[(ENTITIES[0]["id"], "availableSpotNumber")]
    assert instances[-1]["observedAt"] == "2026-11-30T18:00:00.000Z"
    # a second start (later, same window) writes nothing
    again = backfill.backfill(get_broker(), city.ngsi_tenant, ENTITIES, now + dt.timedelta(hours=2))
    assert again.entities == 0 and again.skipped == 39 and again.instances == 0
    assert {len(v) for v in fake.store.values()} == {2880}
    assert "backfilled" in again.summary()


@pytest.mark.django_db
def test_backfill_without_a_temporal_api_is_reported_not_raised(city):
    from herzstadt.ngsi import routes
    from herzstadt.urbandata.broker import get_broker

    op = routes.ROUTER.match("temporal/entities/x/attrs")[0].methods["POST"]
    if op.handler.__name__ != "not_implemented":
        pytest.skip("the broker has a temporal API now")
    report = backfill.backfill(get_broker(), city.ngsi_tenant, ENTITIES, dt.datetime.now(UTC))
    assert report.unavailable and report.instances == 0
    assert "not backfilled" in report.summary()


# --------------------------------------------------------------------------- over HTTP
class _Receiver:
    """A local HTTP endpoint that records the requests and answers with ``status``."""

    def __init__(self, status: int = 204):
        import http.server

        self.requests: list[tuple[str, dict, bytes]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(
                    (self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                self.send_response(status)
                payload = (
                    b'{"success": [], "errors": [{"entityId": "x"}]}' if status == 207 else b""
                )
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_simulate_over_http_upserts_with_the_api_key_and_tenant(capsys):
    receiver = _Receiver()
    try:
        code = cli.main(
            [
                "simulate", "--once", "--via", "http", "--url", receiver.url + "/",
                "--api-key", "hzk_secret", "--tenant", "kaiserslautern",
            ]
        )  # fmt: skip
    finally:
        receiver.close()
    assert code == 0, capsys.readouterr().err
    ((path, headers, body),) = receiver.requests
    assert path == "/ngsi-ld/v1/entityOperations/upsert?options=update"
    assert headers["x-api-key"] == "hzk_secret" and headers["ngsild-tenant"] == "kaiserslautern"
    assert headers["content-type"] == "application/ld+json"
    entities = json.loads(body)
    assert len(entities) == 39 and all("@context" in e for e in entities)


def test_http_errors_and_partial_success_are_reported(capsys):
    for status, expected in ((401, "answered 401"), (207, "rejected")):
        receiver = _Receiver(status)
        try:
            code = cli.main(
                ["simulate", "--once", "--via", "http", "--url", receiver.url, "--api-key", "k"]
            )
        finally:
            receiver.close()
        assert code == cli.EXIT_ERROR
        err = capsys.readouterr().err
        assert expected in err and "Traceback" not in err


@pytest.mark.django_db
def test_with_the_simulation_on_the_demo_loads_current_values_and_backfills(
    city, monkeypatch, capsys
):
    from herzstadt.demo import load_demo

    garage = next(e for e in ENTITIES if e["type"] == "OffStreetParking")
    monkeypatch.setenv("HERZSTADT_SIMULATE", "0")
    load_demo()
    assert _entity(city, garage)["availableSpotNumber"]["observedAt"].startswith("2026-11-21")
    cli._start_simulation(False)
    assert "Simulation: off" in capsys.readouterr().out

    monkeypatch.setenv("HERZSTADT_SIMULATE", "1")
    before = dt.datetime.now(UTC)
    load_demo()
    stored = _entity(city, garage)
    observed = dt.datetime.fromisoformat(
        stored["availableSpotNumber"]["observedAt"].replace("Z", "+00:00")
    )
    assert before - dt.timedelta(seconds=1) <= observed <= dt.datetime.now(UTC)
    assert observed.microsecond == 0  # a whole second, on the ticks' grid
    simulated = district.fragments(ENTITIES, observed)
    value = next(f for f in simulated if f["id"] == garage["id"])["availableSpotNumber"]["value"]
    assert stored["availableSpotNumber"]["value"] == value
    assert stored["name"]["value"] == garage["name"]["value"]  # the rest of the snapshot
    cli._start_simulation(True)
    out = capsys.readouterr().out
    assert "History: Kaiserslautern:" in out and "change every 10 s" in out


def test_backfill_through_the_real_temporal_api_is_idempotent():
    """With the broker's temporal API (skipped while it answers 501): a day of history lands as
    instances, and a second start writes nothing."""
    from herzstadt.ngsi import routes
    from herzstadt.urbandata.broker import get_broker

    op = routes.ROUTER.match("temporal/entities/x/attrs")[0].methods["POST"]
    if op.handler.__name__ == "not_implemented":
        pytest.skip("the broker has no temporal API yet")
    from herzstadt.ngsi.tenants import delete_tenant, ensure_tenant
    from herzstadt.urbandata.simulation.publish import InProcessSink

    # a tenant of its own: the broker's store outlives each test's transaction
    tenant = f"simtest{uuid.uuid4().hex[:12]}"
    broker = get_broker()
    ensure_tenant(broker, tenant)
    try:
        _real_backfill(broker, tenant, InProcessSink)
    finally:
        delete_tenant(broker, tenant)


def _real_backfill(broker, tenant, sink):
    sink(tenant).publish(ENTITIES)
    now = dt.datetime(2026, 11, 30, 12, 5, tzinfo=UTC)
    report = backfill.backfill(broker, tenant, ENTITIES, now, days=1)
    assert not report.unavailable and report.entities == 39 and report.instances == 96 * 127
    again = backfill.backfill(broker, tenant, ENTITIES, now, days=1)
    assert again.instances == 0 and again.skipped == 39

    pv = next(e for e in ENTITIES if e["type"] == "PhotovoltaicMeasurement")
    result = backfill.temporal_call(
        broker,
        tenant,
        "GET",
        f"temporal/entities/{pv['id']}",
        {
            "attrs": "activePower",
            "timerel": "between",
            "timeAt": "2026-11-29T12:00:00Z",
            "endTimeAt": "2026-11-30T12:00:01Z",
        },
        context=pv["@context"],
    )
    instances = result.body["activePower"]
    expected = district.temporal_fragments(
        ENTITIES, district.quarter_hours(now, days=1), only={pv["id"]}
    )[0]["activePower"]
    assert len(instances) == 96
    got = {i["observedAt"][:19]: i["value"] for i in instances}
    assert got == {i["observedAt"][:19]: i["value"] for i in expected}


def test_the_clock_runs_a_time_lapse_and_ticks_sit_on_the_grid(monkeypatch):
    real = [dt.datetime(2026, 11, 30, 12, 0, tzinfo=UTC)]
    clock = runner.Clock(speed=360, now=lambda: real[0])
    assert clock() == real[0]
    real[0] += dt.timedelta(seconds=10)
    assert clock() == dt.datetime(2026, 11, 30, 13, 0, tzinfo=UTC)  # an hour in 10 s
    assert runner.Clock(now=lambda: real[0])() == real[0]
    t = dt.datetime(2026, 11, 30, 12, 0, 17, 400000, tzinfo=UTC)
    assert runner.tick_time(t, 10) == dt.datetime(2026, 11, 30, 12, 0, 10, tzinfo=UTC)
    assert runner.tick_time(t, 2.5) == dt.datetime(2026, 11, 30, 12, 0, 15, tzinfo=UTC)
    for raw, expected in (("", 10.0), ("30", 30.0), ("abc", 10.0), ("0.2", 10.0), ("nan", 10.0)):
        monkeypatch.setenv("HERZSTADT_SIMULATE_INTERVAL", raw)
        assert runner.interval_from_env() == expected


def test_run_publishes_until_stopped_and_survives_a_failing_tick():
    class Flaky:
        def __init__(self):
            self.calls = 0

        def publish(self, fragments):
            self.calls += 1
            if self.calls == 2:
                raise PublishError("broker away")
            return len(fragments)

        def close(self):
            pass

    sink, stop, ticks = Flaky(), threading.Event(), []

    def on_tick(at, written):
        ticks.append(written)
        if len(ticks) == 2:
            stop.set()

    assert runner.run(sink, ENTITIES, interval=0.01, stop=stop, on_tick=on_tick) == 2
    assert sink.calls == 3 and ticks == [39, 39]  # the second tick failed, the third went on
    with pytest.raises(PublishError):
        runner.run(_failing(), ENTITIES, once=True)  # --once reports the failure


def _failing():
    class Failing:
        def publish(self, fragments):
            raise PublishError("no")

        def close(self):
            pass

    return Failing()
