"""The MQTT listener of the device ingestion (background task ``mqtt-ingest``).

Connects to ``HERZSTADT_MQTT_URL`` (``mqtt://`` or ``mqtts://``, ``user:password@``, port;
MQTT 5 unless ``?version=3.1.1``) with paho-mqtt and subscribes to the device topics (see
:mod:`herzstadt.urbandata.ingest`) as a shared subscription (``$share/herzstadt/…``): when several
workers run, each message goes to one of them. The session is persistent (clean start off, a
session expiry), so QoS 1 messages that arrive while a worker is down wait for it.

Messages go from paho's network thread into a bounded queue; a writer thread takes batches from
it, writes them (:func:`~herzstadt.urbandata.ingest.ingest`) and only then acknowledges the QoS 1
messages (``manual_ack``). A message that was received but not written is never acknowledged: the
broker sends it again after a reconnect or a restart (at least once). Lost connections are
retried with exponential backoff (with jitter, capped). ``HERZSTADT_TTS_MQTT_URL`` names a second
broker (The Things Stack's MQTT integration; the API key as password) from which only uplinks are
read.

URL options (query): ``version`` (``5``, ``3.1.1``), ``client_id`` (default
``herzstadt-<host name>``; every worker process needs its own, so its session is its own),
``share`` (the shared-subscription group, default ``herzstadt``; empty: no sharing),
``session_expiry`` (seconds, default 86400), ``keepalive`` (seconds, default 60), ``ca`` (a CA file
for mqtts).
"""

from __future__ import annotations

import logging
import os
import queue
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import paho.mqtt.client as mqtt
from django.db import DatabaseError, close_old_connections, connection
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from herzstadt.ngsi.errors import NgsiError
from herzstadt.urbandata import ingest

log = logging.getLogger("herzstadt.mqtt")

#: Reconnect pauses: from BACKOFF_MIN doubling to BACKOFF_MAX, each with up to 50 % jitter off.
BACKOFF_MIN = 0.5
BACKOFF_MAX = 30.0
#: Messages waiting to be written (paho's thread waits when it is full) and taken at once.
QUEUE_SIZE = 20000
BATCH_SIZE = 2000
#: QoS 1 messages the broker may send before we acknowledge (MQTT 5 Receive Maximum).
RECEIVE_MAXIMUM = 10000

ALL_TOPICS = (
    "herzstadt/+/entities",
    "herzstadt/+/entities/keyValues",
    "+/+/attrs",
    "json/+/+/attrs",
    "/json/+/+/attrs",
    "v3/+/devices/+/up",
)
TTS_TOPICS = ("v3/+/devices/+/up",)


class ConfigError(ValueError):
    pass


@dataclass
class MqttSettings:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None
    version: MQTTProtocolVersion = MQTTProtocolVersion.MQTTv5
    client_id: str = ""
    share: str = "herzstadt"
    session_expiry: int = 86400
    keepalive: int = 60
    ca_file: str | None = None
    prefix: str = ""
    topics: tuple[str, ...] = ALL_TOPICS
    max_payload: int = ingest.DEFAULT_MAX_PAYLOAD

    @classmethod
    def from_url(cls, url: str, **kw: Any) -> MqttSettings:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ConfigError(f"not an mqtt:// or mqtts:// URL: {parts.scheme}://…")
        q = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        versions = {
            "5": MQTTProtocolVersion.MQTTv5,
            "3.1.1": MQTTProtocolVersion.MQTTv311,
            "4": MQTTProtocolVersion.MQTTv311,
        }
        if q.get("version", "5") not in versions:
            raise ConfigError("version must be 5 or 3.1.1")
        tls = parts.scheme == "mqtts"
        try:
            settings = cls(
                host=parts.hostname,
                port=parts.port or (8883 if tls else 1883),
                tls=tls,
                username=unquote(parts.username) if parts.username else None,
                password=unquote(parts.password) if parts.password else None,
                version=versions[q.get("version", "5")],
                client_id=q.get("client_id") or f"herzstadt-{socket.gethostname()}",
                share=q.get("share", "herzstadt"),
                session_expiry=int(q.get("session_expiry", "86400")),
                keepalive=int(q.get("keepalive", "60")),
                ca_file=q.get("ca") or None,
            )
        except ValueError as e:
            raise ConfigError(str(e)) from None
        for k, v in kw.items():
            setattr(settings, k, v)
        return settings

    def filters(self) -> list[str]:
        """The subscription filters (shared, with the prefix)."""
        root = self.prefix + "/" if self.prefix else ""
        share = f"$share/{self.share}/" if self.share else ""
        return [share + root + t for t in self.topics]

    def unprefixed(self, topic: str) -> str | None:
        """The topic without the prefix (None: not below the prefix)."""
        if not self.prefix:
            return topic
        root = self.prefix + "/"
        return topic[len(root) :] if topic.startswith(root) else None


def backoff(attempt: int, rng: Callable[[], float] = random.random) -> float:
    """The pause before reconnect attempt ``attempt`` (0, 1, …): exponential, capped, jittered."""
    base = min(BACKOFF_MAX, BACKOFF_MIN * (2**attempt))
    return base * (0.5 + 0.5 * rng())


@dataclass
class Stats:
    received: int = 0
    written: int = 0
    rejected: int = 0
    acked: int = 0
    connects: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Listener:
    """One connection to one MQTT broker, its queue and its writer thread (see the module)."""

    def __init__(
        self,
        settings: MqttSettings,
        process: Callable[[list[ingest.Message], int], list[str | None]] = ingest.ingest,
    ) -> None:
        self.settings = settings
        self.process = process
        self.queue: queue.Queue[ingest.Message] = queue.Queue(QUEUE_SIZE)
        self.stats = Stats()
        self.connected = threading.Event()
        self._generation = 0  # bumped on every connection: acks of an old one are dropped
        self._client: mqtt.Client | None = None
        self._idle = threading.Event()  # the writer holds nothing unacknowledged
        self._idle.set()

    # ------------------------------------------------------------------ paho
    def _make_client(self) -> mqtt.Client:
        s = self.settings
        v5 = s.version == MQTTProtocolVersion.MQTTv5
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=s.client_id,
            protocol=s.version,
            clean_session=None if v5 else False,
            manual_ack=True,
            reconnect_on_failure=False,
        )
        if s.username is not None:
            client.username_pw_set(s.username, s.password)
        if s.tls:
            client.tls_set(ca_certs=s.ca_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _on_connect(self, client: mqtt.Client, _u: Any, _flags: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("MQTT connection to %s refused: %s", self.settings.host, reason)
            return
        self._generation += 1
        with self.stats.lock:
            self.stats.connects += 1
        if self.settings.version == MQTTProtocolVersion.MQTTv5:
            # retained messages only with a new subscription, not again after every reconnect
            options = SubscribeOptions(
                qos=1, retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB
            )
            client.subscribe([(f, options) for f in self.settings.filters()])
        else:
            client.subscribe([(f, 1) for f in self.settings.filters()])
        log.info("MQTT ingestion connected to %s:%s", self.settings.host, self.settings.port)
        self.connected.set()

    def _on_disconnect(self, *_args: Any) -> None:
        self.connected.clear()

    def _on_message(self, _client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        topic = self.settings.unprefixed(msg.topic)
        item = ingest.Message(
            topic if topic is not None else msg.topic,
            bytes(msg.payload),
            qos=msg.qos,
            mid=msg.mid,
            token=self._generation,
        )
        with self.stats.lock:
            self.stats.received += 1
        self.queue.put(item)  # blocks paho's thread while the writer is behind (bounded)

    # ------------------------------------------------------------------ writer
    def _take(self, stop: threading.Event) -> list[ingest.Message]:
        try:
            first = self.queue.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        while len(batch) < BATCH_SIZE:
            try:
                batch.append(self.queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _writer(self, halt: threading.Event, done: threading.Event) -> None:
        pending: list[ingest.Message] = []
        failures = 0
        try:
            while not (halt.is_set() and not pending):
                if not pending:
                    pending = self._take(halt)
                    if not pending:
                        self._idle.set()
                        continue
                    self._idle.clear()
                try:
                    close_old_connections()
                    outcome = self.process(pending, self.settings.max_payload)
                except (DatabaseError, OSError, NgsiError):
                    # not written: not acknowledged; try again (the broker redelivers anyway
                    # after a reconnect)
                    log.exception("MQTT ingestion could not write; retrying")
                    connection.close()
                    if halt.wait(backoff(failures)):
                        return
                    failures += 1
                    continue
                failures = 0
                self._ack(pending, outcome)
                pending = []
        finally:
            connection.close()
            done.set()

    def _ack(self, batch: list[ingest.Message], outcome: list[str | None]) -> None:
        client = self._client
        acked = 0
        for msg in batch:
            if msg.qos > 0 and client is not None and msg.token == self._generation:
                client.ack(msg.mid, msg.qos)
                acked += 1
        bad = sum(1 for o in outcome if o is not None)
        with self.stats.lock:
            self.stats.written += len(batch) - bad
            self.stats.rejected += bad
            self.stats.acked += acked

    # ------------------------------------------------------------------ run
    def run(self, stop: threading.Event) -> None:
        """Listen and write until ``stop`` is set."""
        done, halt = threading.Event(), threading.Event()
        writer = threading.Thread(
            target=self._writer, args=(halt, done), name="mqtt-writer", daemon=True
        )
        writer.start()
        attempt = 0
        try:
            while not stop.is_set():
                client = self._make_client()
                self._client = client
                if self._session(client, stop):
                    attempt = 0
                if stop.is_set():
                    break
                pause = backoff(attempt)
                attempt += 1
                log.info("MQTT ingestion reconnects in %.1f s", pause)
                stop.wait(pause)
        finally:
            halt.set()
            done.wait(30.0)
            if self._client is not None:
                self._client.disconnect()  # returns an error code when not connected

    def _session(self, client: mqtt.Client, stop: threading.Event) -> bool:
        """One connection, until it drops or ``stop``; whether it was established."""
        s = self.settings
        props = None
        if s.version == MQTTProtocolVersion.MQTTv5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = s.session_expiry
            props.ReceiveMaximum = RECEIVE_MAXIMUM
        try:
            kwargs: dict[str, Any] = {"keepalive": s.keepalive}
            if props is not None:
                kwargs.update(clean_start=False, properties=props)
            client.connect(s.host, s.port, **kwargs)
        except (OSError, ssl.SSLError, ValueError) as e:
            log.warning("MQTT ingestion cannot connect to %s:%s: %s", s.host, s.port, e)
            return False
        established = False
        while not stop.is_set():
            rc = client.loop(timeout=0.5)
            if self.connected.is_set():
                established = True
            if rc != mqtt.MQTT_ERR_SUCCESS:
                log.warning("MQTT ingestion lost its connection (%s)", rc)
                break
        self.connected.clear()
        if stop.is_set():
            # let the writer finish what it holds (it acks over this connection), then close
            deadline = time.monotonic() + 10.0
            while time.monotonic() < deadline and not (self.queue.empty() and self._idle.is_set()):
                client.loop(timeout=0.1)
            client.loop(timeout=0.1)
            client.disconnect()
        return established


def settings_from_env() -> list[MqttSettings]:
    """The listeners the environment asks for (none without ``HERZSTADT_MQTT_URL`` and
    ``HERZSTADT_TTS_MQTT_URL``)."""
    prefix = os.environ.get("HERZSTADT_MQTT_TOPIC_PREFIX", "").strip().strip("/")
    max_payload = int(os.environ.get("HERZSTADT_MQTT_MAX_PAYLOAD", str(ingest.DEFAULT_MAX_PAYLOAD)))
    found = []
    url = os.environ.get("HERZSTADT_MQTT_URL", "").strip()
    if url:
        found.append(MqttSettings.from_url(url, prefix=prefix, max_payload=max_payload))
    tts = os.environ.get("HERZSTADT_TTS_MQTT_URL", "").strip()
    if tts:
        s = MqttSettings.from_url(tts, topics=TTS_TOPICS, max_payload=max_payload)
        if "client_id=" not in tts:
            s.client_id += "-tts"
        if url:  # the main broker then carries no uplinks
            found[0].topics = tuple(t for t in ALL_TOPICS if t not in TTS_TOPICS)
        found.append(s)
    return found


def run_task(stop: threading.Event) -> None:
    """The ``mqtt-ingest`` background task: the configured listeners until ``stop``."""
    configured = settings_from_env()
    if not configured:
        stop.wait()  # nothing to do; return when the worker stops
        return
    threads = [
        threading.Thread(target=Listener(s).run, args=(stop,), name=f"mqtt-{i}", daemon=True)
        for i, s in enumerate(configured)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
