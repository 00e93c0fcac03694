"""The MQTT listener against the local Mosquitto (127.0.0.1:1883): every test has a topic root of
its own (``HERZSTADT_MQTT_TOPIC_PREFIX``-style ``t-<uuid>``) and its own client ids."""

from __future__ import annotations

import socket
import threading
import time
import uuid

import orjson
import paho.mqtt.client as mqtt
import pytest
from django.db import DatabaseError
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from herzstadt.urbandata import ingest
from herzstadt.urbandata.models import DeadLetter, DeviceCredential
from herzstadt.urbandata.mqtt import (
    ConfigError,
    Listener,
    MqttSettings,
    backoff,
    settings_from_env,
)
from tests.urbandata.test_ingest import (
    CORE,
    device_key,
    entity,
)

MOSQUITTO = ("127.0.0.1", 1883)
AQ = CORE + "AirQualityObserved"


def _mosquitto_up() -> bool:
    try:
        socket.create_connection(MOSQUITTO, timeout=1).close()
        return True
    except OSError:
        return False


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


def wait_for(check, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


class Running:
    """A listener in a thread of this process."""

    def __init__(self, prefix, client_id=None, version="5", process=ingest.ingest, share=None):
        url = f"mqtt://127.0.0.1:1883/?version={version}&client_id={client_id or 'c-' + uuid.uuid4().hex}"
        if share is not None:
            url += f"&share={share}"
        self.listener = Listener(MqttSettings.from_url(url, prefix=prefix), process)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.listener.run, args=(self.stop,), daemon=True)
        self.thread.start()
        assert self.listener.connected.wait(10)
        time.sleep(0.2)  # the SUBACK

    def close(self):
        self.stop.set()
        self.thread.join(20)
        assert not self.thread.is_alive()


@pytest.fixture
def prefix():
    return f"t-{uuid.uuid4().hex}"


@pytest.fixture
def publisher():
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"pub-{uuid.uuid4().hex}",
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    client.connect(*MOSQUITTO)
    client.loop_start()
    yield client
    client.loop_stop()
    client.disconnect()


def publish(client, topic, payload, qos=1):
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    client.publish(topic, body, qos=qos).wait_for_publish(10)


def aq(eid, **values):
    return {
        "id": eid,
        "type": "AirQualityObserved",
        **{k: {"type": "Property", "value": v} for k, v in values.items()},
    }


def test_url_settings():
    s = MqttSettings.from_url(
        "mqtts://dev%40city:p%2Fw@mqtt.example:8884/?version=3.1.1&share=&client_id=w1"
    )
    assert (s.host, s.port, s.tls, s.username, s.password) == (
        "mqtt.example",
        8884,
        True,
        "dev@city",
        "p/w",
    )
    assert s.version == MQTTProtocolVersion.MQTTv311 and s.client_id == "w1"
    assert s.filters()[0] == "herzstadt/+/entities"  # no sharing
    s = MqttSettings.from_url("mqtt://broker", prefix="t-1")
    assert s.port == 1883 and s.version == MQTTProtocolVersion.MQTTv5
    assert s.filters()[0] == "$share/herzstadt/t-1/herzstadt/+/entities"
    assert s.unprefixed("t-1/herzstadt/k/entities") == "herzstadt/k/entities"
    assert s.unprefixed("other/herzstadt/k/entities") is None
    for bad in ("http://x", "mqtt://x/?version=6", "mqtt://x/?keepalive=soon"):
        with pytest.raises(ConfigError):
            MqttSettings.from_url(bad)


def test_settings_from_env(monkeypatch):
    monkeypatch.delenv("HERZSTADT_MQTT_URL", raising=False)
    monkeypatch.delenv("HERZSTADT_TTS_MQTT_URL", raising=False)
    assert settings_from_env() == []
    monkeypatch.setenv("HERZSTADT_MQTT_URL", "mqtt://127.0.0.1")
    monkeypatch.setenv("HERZSTADT_MQTT_TOPIC_PREFIX", "/p/")
    monkeypatch.setenv(
        "HERZSTADT_TTS_MQTT_URL", "mqtts://app@ttn:NNSXS.key@eu1.cloud.thethings.network/?share="
    )
    main, tts = settings_from_env()
    assert main.prefix == "p" and not any(t.startswith("v3/") for t in main.topics)
    assert tts.topics == ("v3/+/devices/+/up",) and tts.password == "NNSXS.key" and tts.prefix == ""
    assert tts.client_id.endswith("-tts")


def test_backoff_grows_is_capped_and_jittered():
    assert backoff(0, lambda: 1.0) == 0.5
    assert backoff(3, lambda: 1.0) == 4.0
    assert backoff(30, lambda: 1.0) == 30.0
    assert backoff(30, lambda: 0.0) == 15.0


@pytest.mark.parametrize("version", ["5", "3.1.1"])
def test_entities_over_mqtt_are_written_and_acknowledged(city, prefix, publisher, version):
    _cred, key = device_key(city, types=(AQ,))
    run = Running(prefix, version=version)
    try:
        publish(publisher, f"{prefix}/herzstadt/{key}/entities", aq("urn:ngsi-ld:AQ:m1", no2=12))
        publish(
            publisher,
            f"{prefix}/herzstadt/{key}/entities/keyValues",
            [{"id": "urn:ngsi-ld:AQ:m1", "type": "AirQualityObserved", "pm10": 5}],
            qos=0,
        )
        publish(publisher, f"{prefix}/herzstadt/{key}/entities", b"{broken")
        assert wait_for(
            lambda: run.listener.stats.written == 2 and run.listener.stats.rejected == 1
        )
        doc = entity(city, "urn:ngsi-ld:AQ:m1")
        assert doc["no2"]["value"] == 12 and doc["pm10"]["value"] == 5
        assert DeadLetter.objects.get().reason.startswith("the payload is not JSON")
        assert run.listener.stats.acked == 2  # the QoS 1 messages (also the dead letter)
    finally:
        run.close()


def test_two_listeners_share_the_work(city, prefix, publisher):
    _cred, key = device_key(city, types=(AQ,))
    a, b = Running(prefix), Running(prefix)
    try:
        for i in range(40):
            publish(
                publisher, f"{prefix}/herzstadt/{key}/entities", aq(f"urn:ngsi-ld:AQ:s{i}", no2=i)
            )
        assert wait_for(lambda: a.listener.stats.written + b.listener.stats.written == 40)
        assert a.listener.stats.written > 0 and b.listener.stats.written > 0
        time.sleep(0.5)
        assert a.listener.stats.received + b.listener.stats.received == 40  # each message once
        assert entity(city, "urn:ngsi-ld:AQ:s39")["no2"]["value"] == 39
    finally:
        a.close()
        b.close()


def test_reconnects_after_the_connection_drops(city, prefix, publisher):
    _cred, key = device_key(city, types=(AQ,))
    run = Running(prefix)
    try:
        run.listener._client.socket().shutdown(socket.SHUT_RDWR)
        assert wait_for(lambda: run.listener.stats.connects >= 2)
        assert run.listener.connected.wait(10)
        time.sleep(0.2)
        publish(publisher, f"{prefix}/herzstadt/{key}/entities", aq("urn:ngsi-ld:AQ:r1", no2=1))
        assert wait_for(lambda: run.listener.stats.written == 1)
    finally:
        run.close()


def test_qos1_is_acknowledged_only_after_the_write_commits(city, prefix, publisher):
    """The first listener receives the message but its write never commits (the database fails,
    then it is stopped): Mosquitto keeps the message and sends it again to the session, which a
    second listener with the same client id resumes and writes."""
    _cred, key = device_key(city, types=(AQ,))
    client_id = f"c-{uuid.uuid4().hex}"
    calls = []

    def failing(messages, max_payload):
        calls.append(len(messages))
        raise DatabaseError("the database is down")

    first = Running(prefix, client_id=client_id, process=failing)
    try:
        publish(publisher, f"{prefix}/herzstadt/{key}/entities", aq("urn:ngsi-ld:AQ:q1", no2=7))
        assert wait_for(lambda: calls)
        assert first.listener.stats.acked == 0
    finally:
        first.close()
    assert not DeadLetter.objects.exists()
    second = Running(prefix, client_id=client_id)
    try:
        assert wait_for(lambda: second.listener.stats.written == 1)
        assert entity(city, "urn:ngsi-ld:AQ:q1")["no2"]["value"] == 7
    finally:
        second.close()


def test_a_revoked_key_is_refused(city, prefix, publisher):
    cred, key = device_key(city, types=(AQ,))
    DeviceCredential.objects.filter(pk=cred.pk).update(revoked_at="2026-01-01T00:00:00Z")
    run = Running(prefix)
    try:
        publish(publisher, f"{prefix}/herzstadt/{key}/entities", aq("urn:ngsi-ld:AQ:x", no2=1))
        assert wait_for(lambda: run.listener.stats.rejected == 1)
        assert "revoked" in DeadLetter.objects.get().reason
    finally:
        run.close()
