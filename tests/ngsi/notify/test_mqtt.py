"""Notifications to the local Mosquitto (127.0.0.1:1883): MQTT 3.1.1 and 5, QoS 0 and 1."""

from __future__ import annotations

import json
import socket
import threading
import uuid

import paho.mqtt.client as mqtt
import pytest

from herzstadt.ngsi.notify.runner import Notifier

from .conftest import until
from .test_notify import building, sub


def _mosquitto() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 1883), 1).close()
        return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _mosquitto(), reason="no MQTT broker on 127.0.0.1:1883")


class Listener:
    def __init__(self, topic: str):
        self.messages: list[dict] = []
        self.ready = threading.Event()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex}")
        self.c.on_connect = lambda c, *a: c.subscribe(topic, qos=1)
        self.c.on_subscribe = lambda *a: self.ready.set()
        self.c.on_message = lambda c, u, m: self.messages.append(
            {"topic": m.topic, "qos": m.qos, "payload": json.loads(m.payload)}
        )
        self.c.connect("127.0.0.1", 1883)
        self.c.loop_start()
        assert self.ready.wait(5)

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


@pytest.mark.parametrize(("version", "qos"), [("mqtt3.1.1", 0), ("mqtt5.0", 1)])
def test_mqtt_notification(world, version, qos):
    client, broker, cfg = world
    cfg.notify_hosts.append("127.0.0.1:1883")
    broker.config.notify_hosts = cfg.notify_hosts
    root = f"herzstadt-test/{uuid.uuid4().hex}"
    listener = Listener(root + "/#")
    try:
        n = Notifier(broker)
        body = sub(
            f"mqtt://127.0.0.1:1883/{root}/notify",
            notification={
                "endpoint": {
                    "uri": f"mqtt://127.0.0.1:1883/{root}/notify",
                    "notifierInfo": [
                        {"key": "MQTT-Version", "value": version},
                        {"key": "MQTT-QoS", "value": qos},
                    ],
                    "receiverInfo": [{"key": "X-Origin", "value": "herzstadt"}],
                }
            },
        )
        assert client.post("subscriptions", json=body).status_code == 201, body
        assert client.post("entities", json=building()).status_code == 201
        until(lambda: listener.messages, n.step)
        m = listener.messages[0]
        assert m["topic"] == f"{root}/notify" and m["qos"] == qos
        assert m["payload"]["metadata"]["Content-Type"] == "application/json"
        assert m["payload"]["metadata"]["X-Origin"] == "herzstadt"
        assert m["payload"]["metadata"]["Link"].startswith("<https://uri.etsi.org/")
        note = m["payload"]["body"]
        assert note["type"] == "Notification" and note["data"][0]["id"] == building()["id"]
        until(
            lambda: (
                client.get(f"subscriptions/{body['id']}").json()["notification"].get("timesSent")
            ),
            n.step,
        )
    finally:
        listener.close()


def test_mqtt_broker_not_listening_counts_a_failure(world):
    client, broker, cfg = world
    cfg.notify_hosts.append("127.0.0.1:1")
    broker.config.notify_hosts = cfg.notify_hosts
    cfg.notify_max_attempts = 1
    broker.config.notify_max_attempts = 1
    n = Notifier(broker)
    body = sub("mqtt://127.0.0.1:1/t")
    assert client.post("subscriptions", json=body).status_code == 201
    assert client.post("entities", json=building()).status_code == 201
    until(
        lambda: client.get(f"subscriptions/{body['id']}").json()["notification"].get("timesFailed"),
        n.step,
    )
