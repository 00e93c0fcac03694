"""Where the simulated values go: the broker in-process, a herzstadt over HTTP, or MQTT.

Every sink takes a list of NGSI-LD fragments (normalized, ``observedAt`` on each attribute, the
entity's ``@context``) and writes them as an upsert that only updates the attributes it sends
(``options=update``: names, locations and the rest of the snapshot stay):

- :class:`InProcessSink`: the broker's batch-upsert use case, as the system principal of the city's
  tenant (``herzstadt demo``'s background task and ``herzstadt simulate`` on the server itself);
- :class:`HttpSink`: ``POST {url}/ngsi-ld/v1/entityOperations/upsert?options=update`` with an API
  key (the URL is the operator's own choice on the command line);
- :class:`MqttSink`: ``[prefix/]herzstadt/<device-key>/entities`` with a JSON array of the fragments
  (QoS 1, waits for the broker's acknowledgement), the topic scheme of herzstadt's MQTT ingestion.
"""

from __future__ import annotations

import json
import ssl
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

Entity = dict[str, Any]
#: Fragments per message or request (MQTT ingestion accepts 256 KiB by default: 40 fragments
#: take about 30 KiB).
CHUNK = 100


class PublishError(RuntimeError):
    pass


class Sink(Protocol):
    def publish(self, fragments: Sequence[Entity]) -> int: ...

    def close(self) -> None: ...


def _chunks(items: Sequence[Entity], size: int = CHUNK) -> list[Sequence[Entity]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class InProcessSink:
    """The broker's use case in this process (thread-safe: each thread gets its broker)."""

    def __init__(self, tenant: str, client_id: str = "simulator") -> None:
        self.tenant = tenant
        self.client_id = client_id

    def publish(self, fragments: Sequence[Entity]) -> int:
        from herzstadt.ngsi.auth import system_principal
        from herzstadt.ngsi.params import WriteOptions
        from herzstadt.ngsi.service import Req, batch_upsert
        from herzstadt.urbandata.broker import get_broker

        broker = get_broker()
        written = 0
        for chunk in _chunks(fragments):
            req = Req(
                principal=system_principal(self.tenant, self.client_id),
                tenant=self.tenant,
                ctx=broker.resolver.get(None),
                body=list(chunk),
                ld=True,
            )
            result = batch_upsert(broker, req, WriteOptions(update=True))
            if result.status not in (201, 204):
                errors = (
                    result.body.get("errors", []) if isinstance(result.body, dict) else result.body
                )
                raise PublishError(f"the broker rejected simulated values: {errors}")
            written += len(chunk)
        return written

    def close(self) -> None:
        pass


class HttpSink:
    """A herzstadt (or any NGSI-LD broker) over HTTP, with an API key."""

    def __init__(self, url: str, api_key: str, tenant: str = "", timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise PublishError(f"not an http(s) URL: {url!r}")
        self.endpoint = url.rstrip("/") + "/ngsi-ld/v1/entityOperations/upsert?options=update"
        self.api_key = api_key
        self.tenant = tenant
        self.timeout = timeout

    def publish(self, fragments: Sequence[Entity]) -> int:
        written = 0
        for chunk in _chunks(fragments):
            headers = {"Content-Type": "application/ld+json", "X-API-Key": self.api_key}
            if self.tenant:
                headers["NGSILD-Tenant"] = self.tenant
            request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
                self.endpoint, data=json.dumps(list(chunk)).encode(), headers=headers, method="POST"
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    status = response.status
                    body = response.read()
            except urllib.error.HTTPError as e:
                detail = e.read()[:500].decode("utf-8", "replace")
                raise PublishError(f"{self.endpoint} answered {e.code}: {detail}") from None
            except (urllib.error.URLError, OSError) as e:
                raise PublishError(f"{self.endpoint} is unreachable: {e}") from None
            if status == 207:
                raise PublishError(
                    f"some values were rejected: {body[:500].decode('utf-8', 'replace')}"
                )
            written += len(chunk)
        return written

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class MqttTarget:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None
    ca: str | None = None
    version: str = "5"

    @classmethod
    def parse(cls, url: str) -> MqttTarget:
        """``mqtt://[user:password@]host[:port][?version=3.1.1&ca=/path]`` or ``mqtts://…``."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise PublishError(f"not an mqtt:// or mqtts:// URL: {url!r}")
        tls = parts.scheme == "mqtts"
        query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
        version = query.get("version", "5")
        if version not in ("5", "3.1.1"):
            raise PublishError(f"unsupported MQTT version {version!r} (5 or 3.1.1)")
        return cls(
            host=parts.hostname,
            port=parts.port or (8883 if tls else 1883),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            ca=unquote(query["ca"]) if query.get("ca") else None,
            version=version,
        )


def without_credentials(url: str) -> str:
    """``url`` without ``user:password@`` (for messages and logs)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=netloc).geturl()


def device_topic(device_key: str, prefix: str = "") -> str:
    prefix = prefix.strip().strip("/")
    topic = f"herzstadt/{device_key}/entities"
    return f"{prefix}/{topic}" if prefix else topic


class MqttSink:
    """Publishes with QoS 1 to the device topic and waits until the MQTT broker acknowledged."""

    def __init__(
        self, target: MqttTarget, device_key: str, prefix: str = "", timeout: float = 30.0
    ) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

        self.topic = device_topic(device_key, prefix)
        self.timeout = timeout
        self._connected = threading.Event()
        self._failure: str | None = None
        protocol = (
            MQTTProtocolVersion.MQTTv5 if target.version == "5" else MQTTProtocolVersion.MQTTv311
        )
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"herzstadt-simulator-{uuid.uuid4().hex[:12]}",
            protocol=protocol,
        )
        if target.username:
            self.client.username_pw_set(target.username, target.password)
        if target.tls:
            context = ssl.create_default_context(cafile=target.ca)
            self.client.tls_set_context(context)
        self.client.on_connect = self._on_connect
        self.client.reconnect_delay_set(1, 30)
        try:
            self.client.connect(target.host, target.port, keepalive=60)
        except OSError as e:
            raise PublishError(
                f"MQTT broker {target.host}:{target.port} unreachable: {e}"
            ) from None
        self.client.loop_start()
        if not self._connected.wait(timeout) or self._failure:
            self.close()
            raise PublishError(
                f"MQTT broker {target.host}:{target.port} refused the connection: "
                f"{self._failure or 'timeout'}"
            )

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if getattr(reason, "is_failure", False):
            self._failure = str(reason)
        self._connected.set()

    def publish(self, fragments: Sequence[Entity]) -> int:
        written = 0
        for chunk in _chunks(fragments):
            info = self.client.publish(self.topic, json.dumps(list(chunk)).encode(), qos=1)
            try:
                info.wait_for_publish(self.timeout)
            except (RuntimeError, ValueError) as e:  # not queued (connection lost)
                raise PublishError(f"MQTT publish failed: {e}") from None
            if not info.is_published():
                # the topic names the device key: never in a message
                raise PublishError("MQTT publish not acknowledged in time")
            written += len(chunk)
        return written

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
