"""Sustained ingest through MQTT: attribute instances per second written by the real worker.

    flock /work/bench.lock python3 -m uv run python benchmarks/mqtt_ingest.py \
        [--publishers 2] [--messages 2000] [--entities 10] [--attributes 10] [--workers 1] \
        [--qos 1] [--mqtt-url mqtt://…] [--database-url postgresql://…/postgres] [--json FILE]

Without ``--mqtt-url`` it starts a Mosquitto of its own on a free loopback port with the limits of
``deploy/mosquitto/mosquitto.conf`` (a Mosquitto with the default limits — 20 messages in flight and
1,000 queued per subscriber — drops QoS 1 messages for a subscriber that falls behind a burst; the
run would then never complete).

1. Prepares a scratch database (PostgreSQL: ``herzstadt_mqtt_bench`` on the given server, created
   and dropped again; else SQLite in a temporary directory): ``herzstadt migrate``, a hosted city
   and a device key for the entity type ``BenchSensor``.
2. Starts ``--workers`` real ``herzstadt worker --task mqtt-ingest`` processes (each its own MQTT
   client id; they share the work through the shared subscription) under a topic prefix of its own.
3. Starts ``--publishers`` publisher processes; each publishes ``--messages`` messages on
   ``herzstadt/<key>/entities``, each an array of ``--entities`` NGSI-LD entities (the same
   sensors again and again) with ``--attributes`` numeric Properties with ``observedAt`` plus a
   sequence number, at QoS ``--qos`` as fast as the broker takes them.
4. Waits until every sensor holds the last sequence number its publisher sent (checked from this
   process every 0.25 s through the broker), then reports attribute instances written per
   second, from the first publish to that moment. Messages lost on the way would never complete
   the run (it fails after ``--timeout``).

Figures: docs/performance.md ("MQTT ingestion").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SCRATCH_DB = "herzstadt_mqtt_bench"
TYPE = "https://uri.etsi.org/ngsi-ld/default-context/BenchSensor"


def scratch_database(url: str, create: bool) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB} WITH (FORCE)")
        if create:
            conn.execute(f"CREATE DATABASE {SCRATCH_DB}")
    return urlunsplit(urlsplit(url)._replace(path=f"/{SCRATCH_DB}"))


MOSQUITTO_CONF = ROOT / "deploy" / "mosquitto" / "mosquitto.conf"


def own_mosquitto(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A Mosquitto on a free loopback port with the shipped limits (no persistence, no log)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    keep = (
        "max_inflight_messages",
        "max_queued_messages",
        "max_queued_bytes",
        "message_size_limit",
    )
    lines = [
        line for line in MOSQUITTO_CONF.read_text().splitlines() if line.split(" ", 1)[0] in keep
    ]
    conf = tmp / "mosquitto.conf"
    conf.write_text(
        "\n".join(
            [
                f"listener {port} 127.0.0.1",
                "allow_anonymous true",
                "persistence false",
                "sys_interval 1",
                *lines,
            ]
        )
        + "\n"
    )
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    return proc, f"mqtt://127.0.0.1:{port}"


def dropped(mqtt_url: str) -> int | None:
    """Messages the broker dropped (``$SYS/broker/publish/messages/dropped``; None: not told)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    url = urlsplit(mqtt_url)
    got: list[int] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-sys-{uuid.uuid4().hex}")
    client.on_message = lambda _c, _u, m: got.append(int(m.payload))
    client.connect(url.hostname or "127.0.0.1", url.port or 1883)
    client.subscribe("$SYS/broker/publish/messages/dropped")
    deadline = time.monotonic() + 3
    while not got and time.monotonic() < deadline:
        client.loop(0.1)
    client.disconnect()
    return got[0] if got else None


def entity_id(publisher: int, n: int) -> str:
    return f"urn:ngsi-ld:BenchSensor:p{publisher}-{n}"


def publish(args: argparse.Namespace) -> int:
    """One publisher process (``--publish-as N``): prints the seconds it took."""
    import orjson
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

    url = urlsplit(args.mqtt_url)
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"bench-pub-{uuid.uuid4().hex}",
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    client.max_inflight_messages_set(200)
    client.max_queued_messages_set(0)
    client.connect(url.hostname or "127.0.0.1", url.port or 1883)
    client.loop_start()
    me = args.publish_as
    started = time.monotonic()
    info = None
    for seq in range(args.messages):
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        batch = []
        for n in range(args.entities):
            e = {"id": entity_id(me, n), "type": "BenchSensor"}
            for a in range(args.attributes):
                e[f"m{a}"] = {"type": "Property", "value": seq + a / 10, "observedAt": now}
            e["seq"] = {"type": "Property", "value": seq}
            batch.append(e)
        info = client.publish(args.topic, orjson.dumps(batch), qos=args.qos)
        while info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:  # the in-flight window is full
            time.sleep(0.001)
            info = client.publish(args.topic, orjson.dumps(batch), qos=args.qos)
    if info is not None:
        info.wait_for_publish(120)
    elapsed = time.monotonic() - started
    client.loop_stop()
    client.disconnect()
    print(json.dumps({"publisher": me, "seconds": elapsed}))
    return 0


def prepare(env: dict[str, str]) -> str:
    run = [sys.executable, "-m", "herzstadt"]
    subprocess.run([*run, "migrate", "-v", "0"], env=env, cwd=ROOT, check=True)
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "herzstadt.settings"
    import django

    django.setup()
    from herzstadt.core.models import City, CityRole
    from herzstadt.urbandata import access
    from herzstadt.urbandata.models import DeviceCredential

    city = City.objects.create(
        slug="benchstadt",
        name="Benchstadt",
        role=CityRole.HOSTED,
        ngsi_tenant="bench",
        lon=7.77,
        lat=49.44,
    )
    _cred, key = access.create_device(
        city, None, DeviceCredential(name="bench", device_id="bench", entity_types=[TYPE])
    )
    return key


def done(args: argparse.Namespace) -> bool:
    """Whether every sensor holds its publisher's last sequence number."""
    from herzstadt.ngsi.auth import system_principal
    from herzstadt.ngsi.errors import NgsiError
    from herzstadt.ngsi.params import RetrieveOptions
    from herzstadt.ngsi.service import Req, retrieve_entity
    from herzstadt.urbandata.broker import get_broker

    broker = get_broker()
    req = Req(principal=system_principal("bench"), tenant="bench", ctx=broker.resolver.get(None))
    for p in range(args.publishers):
        for n in range(args.entities):
            try:
                doc = retrieve_entity(broker, req, RetrieveOptions(), entity_id(p, n)).body
            except NgsiError:
                return False
            if doc.get("seq", {}).get("value") != args.messages - 1:
                return False
    return True


def wait_for_workers(args: argparse.Namespace, topic: str) -> None:
    """Until a probe message is stored: the workers are connected and subscribed (a message
    published before that would be lost, there being no session yet)."""
    import orjson
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from herzstadt.ngsi.auth import system_principal
    from herzstadt.ngsi.errors import NgsiError
    from herzstadt.ngsi.params import RetrieveOptions
    from herzstadt.ngsi.service import Req, retrieve_entity
    from herzstadt.urbandata.broker import get_broker

    url = urlsplit(args.mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-probe-{uuid.uuid4().hex}")
    client.connect(url.hostname or "127.0.0.1", url.port or 1883)
    client.loop_start()
    broker = get_broker()
    req = Req(principal=system_principal("bench"), tenant="bench", ctx=broker.resolver.get(None))
    probe = {"id": "urn:ngsi-ld:BenchSensor:probe", "type": "BenchSensor"}
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            for _ in range(args.workers * 4):  # shared: every worker should get one
                client.publish(topic, orjson.dumps(probe), qos=1).wait_for_publish(10)
            time.sleep(0.5)
            try:
                retrieve_entity(broker, req, RetrieveOptions(), probe["id"])
                time.sleep(2.0 if args.workers > 1 else 0.0)  # the others subscribe too
                return
            except NgsiError:
                continue
        raise SystemExit("the workers did not start")
    finally:
        client.loop_stop()
        client.disconnect()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--publishers", type=int, default=2)
    ap.add_argument("--messages", type=int, default=2000, help="per publisher")
    ap.add_argument("--entities", type=int, default=10, help="per message")
    ap.add_argument("--attributes", type=int, default=10, help="numeric attributes per entity")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--qos", type=int, default=1, choices=(0, 1))
    ap.add_argument("--mqtt-url", default="", help="default: a Mosquitto of its own")
    ap.add_argument("--database-url", default="")
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--json", default="")
    ap.add_argument("--publish-as", type=int, default=-1, help=argparse.SUPPRESS)
    ap.add_argument("--topic", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.publish_as >= 0:
        return publish(args)

    data_dir = Path(tempfile.mkdtemp(prefix="herzstadt-mqtt-bench-"))
    env = {
        **os.environ,
        "HERZSTADT_DATA_DIR": str(data_dir),
        "HERZSTADT_LOG_LEVEL": "WARNING",
    }
    for name in ("DATABASE_URL", "HERZSTADT_NGSI_DATABASE", "HERZSTADT_TTS_MQTT_URL"):
        env.pop(name, None)
    if args.database_url:
        env["DATABASE_URL"] = scratch_database(args.database_url, create=True)
    prefix = f"bench-{uuid.uuid4().hex[:12]}"
    workers: list[subprocess.Popen[bytes]] = []
    broker = None
    if not args.mqtt_url:
        broker, args.mqtt_url = own_mosquitto(data_dir)
    try:
        key = prepare(env)
        for i in range(args.workers):
            wenv = {
                **env,
                "HERZSTADT_MQTT_URL": f"{args.mqtt_url}/?client_id={prefix}-w{i}",
                "HERZSTADT_MQTT_TOPIC_PREFIX": prefix,
            }
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "herzstadt", "worker", "--task", "mqtt-ingest"],
                    env=wenv,
                    cwd=ROOT,
                )
            )
        topic = f"{prefix}/herzstadt/{key}/entities"
        wait_for_workers(args, topic)
        started = time.monotonic()
        pubs = [
            subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--publish-as",
                    str(p),
                    "--topic",
                    topic,
                    "--messages",
                    str(args.messages),
                    "--entities",
                    str(args.entities),
                    "--attributes",
                    str(args.attributes),
                    "--qos",
                    str(args.qos),
                    "--mqtt-url",
                    args.mqtt_url,
                ],
                stdout=subprocess.PIPE,
                cwd=ROOT,
            )
            for p in range(args.publishers)
        ]
        publish_seconds = []
        print(f"publishing to {topic[:40]}…", file=sys.stderr)
        for p in pubs:
            out, _ = p.communicate(timeout=args.timeout)
            publish_seconds.append(json.loads(out.decode().strip().splitlines()[-1])["seconds"])
        deadline = started + args.timeout
        print(f"published in {max(publish_seconds):.1f} s; waiting for the writes", file=sys.stderr)
        while not done(args):
            if time.monotonic() > deadline:
                print("timed out: not every message was stored", file=sys.stderr)
                return 1
            time.sleep(0.25)
        elapsed = time.monotonic() - started
        time.sleep(1.5)  # the next $SYS update
        lost = dropped(args.mqtt_url) if broker is not None else None
        messages = args.publishers * args.messages
        instances = messages * args.entities * (args.attributes + 1)
        result = {
            "database": "postgresql" if args.database_url else "sqlite",
            "workers": args.workers,
            "publishers": args.publishers,
            "qos": args.qos,
            "messages": messages,
            "entities_per_message": args.entities,
            "attribute_instances": instances,
            "seconds": round(elapsed, 2),
            "messages_per_s": round(messages / elapsed),
            "attribute_instances_per_s": round(instances / elapsed),
            "publish_seconds_max": round(max(publish_seconds), 2),
            "dropped_by_broker": lost,
        }
        print(json.dumps(result, indent=2))
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2))
        return 1 if lost else 0
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            try:
                w.wait(30)
            except subprocess.TimeoutExpired:
                w.kill()
        if broker is not None:
            broker.terminate()
            broker.wait(10)
        from django.db import connections

        connections.close_all()
        if args.database_url:
            scratch_database(args.database_url, create=False)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
