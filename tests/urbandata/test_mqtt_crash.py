"""Crash safety of the MQTT ingestion: a real ``herzstadt worker`` process is killed with SIGKILL
while it ingests N QoS 1 messages, then started again (same client id, so it resumes its MQTT
session): every message is stored in the end — none that Mosquitto counted as acknowledged is
missing, because the worker acknowledges only after its write committed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from django.conf import settings
from django.db import connection
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from herzstadt.ngsi.errors import NgsiError
from tests.urbandata.test_ingest import (
    device_key,
    entity,
)
from tests.urbandata.test_mqtt import AQ, MOSQUITTO, _mosquitto_up, aq, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not _mosquitto_up(), reason="no MQTT broker on 127.0.0.1:1883"),
]


@pytest.fixture
def city(city):
    """The city with a tenant of its own: the broker's PostgreSQL schema outlives a test run."""
    city.ngsi_tenant = f"dev{uuid.uuid4().hex[:12]}"
    city.save(update_fields=["ngsi_tenant"])
    return city


N = 300


def _database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(prefix: str, client_id: str, log) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "herzstadt.settings",
        "DATABASE_URL": _database_url(),
        "HERZSTADT_NGSI_DATABASE": settings.HERZSTADT_NGSI_DATABASE,
        "HERZSTADT_DATA_DIR": str(settings.DATA_DIR),
        "HERZSTADT_MQTT_URL": f"mqtt://127.0.0.1:1883/?client_id={client_id}",
        "HERZSTADT_MQTT_TOPIC_PREFIX": prefix,
    }
    env.pop("HERZSTADT_TTS_MQTT_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "herzstadt", "worker", "--task", "mqtt-ingest"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stored(city, ids) -> set[str]:
    found = set()
    for eid in ids:
        try:
            entity(city, eid)
        except NgsiError:
            continue
        found.add(eid)
    return found


def test_sigkill_during_ingestion_loses_no_acknowledged_message(city):
    _cred, key = device_key(city, types=(AQ,))
    connection.close()  # the worker process must see the committed key
    prefix, client_id = f"t-{uuid.uuid4().hex}", f"crash-{uuid.uuid4().hex}"
    topic = f"{prefix}/herzstadt/{key}/entities"
    log = tempfile.NamedTemporaryFile(prefix="mqtt-worker-", suffix=".log", delete=False)  # noqa: SIM115
    worker = start_worker(prefix, client_id, log)
    publisher = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"pub-{uuid.uuid4().hex}",
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    publisher.connect(*MOSQUITTO)
    publisher.loop_start()
    try:
        # the worker is subscribed once a probe message is stored
        probe = f"urn:ngsi-ld:AQ:probe-{uuid.uuid4().hex}"
        deadline = time.monotonic() + 60
        while not stored(city, [probe]) and time.monotonic() < deadline:
            publisher.publish(topic, orjson.dumps(aq(probe, no2=0)), qos=1).wait_for_publish(10)
            time.sleep(0.5)
        assert stored(city, [probe]), Path(log.name).read_text()

        run = uuid.uuid4().hex[:8]  # the broker's PostgreSQL schema outlives a test run
        ids = [f"urn:ngsi-ld:AQ:{run}-{i}" for i in range(N)]
        infos = []

        def publish_all() -> None:  # a steady stream, so the kill lands in the middle of it
            for i, eid in enumerate(ids):
                infos.append(publisher.publish(topic, orjson.dumps(aq(eid, no2=i)), qos=1))
                if i % 5 == 4:
                    time.sleep(0.05)

        sender = threading.Thread(target=publish_all)
        sender.start()
        assert wait_for(lambda: stored(city, ids[N // 4 : N // 4 + 1]), timeout=60)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        sender.join(30)
        for info in infos:
            info.wait_for_publish(10)  # Mosquitto has every message (PUBACK to the publisher)
        at_kill = len(stored(city, ids))
        assert at_kill < N  # the kill happened during the ingestion
        print("stored when killed:", at_kill, "of", N)

        worker = start_worker(prefix, client_id, log)
        assert wait_for(lambda: len(stored(city, ids)) == N, timeout=90), (
            at_kill,
            len(stored(city, ids)),
            Path(log.name).read_text()[-3000:],
        )
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        if worker.poll() is None:
            worker.terminate()
            worker.wait(20)
        log.close()
        os.unlink(log.name)
