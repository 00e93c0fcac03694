"""What MQTT device messages mean: topics, the three payload formats, the writes and dead letters.

:func:`ingest` takes a batch of received messages and writes them into the broker through its
use case (``batch_upsert`` with ``options=update``: only the attributes sent are updated or
appended, never any other is deleted), with the principal of the device key that sent them, so
the key's entity types, the city's tenant and the audit trail apply. It returns only after the
writes and the dead letters have committed, so the caller may then acknowledge the messages.
Nothing here knows MQTT connections (see :mod:`herzstadt.urbandata.mqtt`).

Topics (after the optional ``HERZSTADT_MQTT_TOPIC_PREFIX``):

- ``herzstadt/<device-key>/entities`` — NGSI-LD entities or fragments (normalized or concise),
  ``…/entities/keyValues`` — the same in keyValues; one object or an array;
- ``<device-key>/<device-id>/attrs`` and ``/json/<device-key>/<device-id>/attrs`` — IoT Agent
  JSON measures of a provisioned device (:class:`~herzstadt.urbandata.models.Device`);
- ``v3/<application-id>@<tenant-id>/devices/<device-id>/up`` — The Things Stack uplinks of a
  provisioned device.

A message that cannot succeed (bad JSON, unknown key or device, a type the key may not write,
invalid NGSI-LD, too large) becomes a :class:`~herzstadt.urbandata.models.DeadLetter`.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from herzstadt.core.models import CityRole
from herzstadt.core.ttlcache import TTLCache
from herzstadt.ngsi import model
from herzstadt.ngsi.auth import Principal, hash_key
from herzstadt.ngsi.errors import NgsiError
from herzstadt.ngsi.params import WriteOptions
from herzstadt.ngsi.service import Req, batch_upsert
from herzstadt.urbandata.broker import get_broker
from herzstadt.urbandata.models import (
    DEVICE_KEY_PREFIX,
    KEY_PREFIX_LENGTH,
    DeadLetter,
    Device,
    DeviceCredential,
    DeviceProtocol,
)
from herzstadt.urbandata.verifier import _touch, device_principal

log = logging.getLogger("herzstadt.mqtt")

#: Characters of a payload kept in a dead letter.
DEAD_LETTER_EXCERPT = 2000
#: Dead letters kept per city (the newest) and at most this old.
DEAD_LETTERS_PER_CITY = 1000
DEAD_LETTER_MAX_AGE = dt.timedelta(days=30)
#: Largest payload accepted (bytes), unless HERZSTADT_MQTT_MAX_PAYLOAD says otherwise.
DEFAULT_MAX_PAYLOAD = 256 * 1024

GEO_TYPES = frozenset(
    {
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
    }
)

#: key digest → credential (or None), device (credential pk, id) / (application, id) → device;
#: a revoked key or a changed device takes effect within this time
credential_cache = TTLCache(ttl=30.0, max_entries=4096)
device_cache = TTLCache(ttl=30.0, max_entries=8192)


@dataclass(slots=True)
class Message:
    """One received MQTT message (``topic`` without the configured prefix)."""

    topic: str
    payload: bytes
    received: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    qos: int = 0
    mid: int = 0
    token: Any = None  # the listener's, for the acknowledgement


class Rejected(Exception):
    """The message cannot succeed: it becomes a dead letter."""

    def __init__(self, reason: str, city_id: int | None = None, device_id: str = "") -> None:
        super().__init__(reason)
        self.reason = reason[:500]
        self.city_id = city_id
        self.device_id = device_id
        self.device_pk: int | None = None  # a registered device's message: counted as rejected


@dataclass(frozen=True, slots=True)
class Sender:
    """A device key: its city, tenant and broker principal."""

    pk: int
    city_id: int
    tenant: str
    principal: Principal
    last_used_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    pk: int
    device_id: str
    sender: Sender
    entity_id: str
    entity_type: str
    mapping: tuple[dict[str, Any], ...]
    time_key: str


@dataclass(slots=True)
class Plan:
    """What one message writes: entities in one tenant as one principal."""

    index: int
    sender: Sender
    items: list[dict[str, Any]]
    ld: bool
    device: DeviceSpec | None = None


# --------------------------------------------------------------------------- look-ups
def _sender(key: str) -> Sender | None:
    if not key.startswith(DEVICE_KEY_PREFIX):
        return None
    digest = hash_key(key)

    def load() -> Sender | None:
        cred = (
            DeviceCredential.objects.select_related("city")
            .filter(key_hash=digest, city__role=CityRole.HOSTED)
            .first()
        )
        if cred is None or not cred.active:
            return None
        return Sender(
            cred.pk, cred.city_id, cred.city.ngsi_tenant, device_principal(cred), cred.last_used_at
        )

    found: Sender | None = credential_cache.get_or_set(digest, load)
    recent = timezone.now() - dt.timedelta(minutes=1)
    if found is not None and (found.last_used_at is None or found.last_used_at < recent):
        _touch(DeviceCredential, found, timezone.now())
        credential_cache.set(
            digest,
            Sender(found.pk, found.city_id, found.tenant, found.principal, timezone.now()),
        )
    return found


def _spec(device: Device, sender: Sender) -> DeviceSpec:
    return DeviceSpec(
        device.pk,
        device.device_id,
        sender,
        device.entity_id,
        device.entity_type,
        tuple(m for m in device.mapping or () if isinstance(m, dict)),
        device.time_key,
    )


def _iota_device(sender: Sender, device_id: str) -> DeviceSpec | None:
    def load() -> DeviceSpec | None:
        device = Device.objects.filter(
            credential_id=sender.pk, device_id=device_id, protocol=DeviceProtocol.IOTA_JSON
        ).first()
        return None if device is None else _spec(device, sender)

    found: DeviceSpec | None = device_cache.get_or_set(("iota", sender.pk, device_id), load)
    return found


def _tts_device(application: str, device_id: str) -> DeviceSpec | None:
    def load() -> DeviceSpec | None:
        devices = list(
            Device.objects.select_related("credential", "credential__city").filter(
                protocol=DeviceProtocol.TTS,
                application=application,
                device_id=device_id,
                city__role=CityRole.HOSTED,
            )[:2]
        )
        if len(devices) != 1 or not devices[0].credential.active:
            return None
        cred = devices[0].credential
        sender = Sender(
            cred.pk, cred.city_id, cred.city.ngsi_tenant, device_principal(cred), cred.last_used_at
        )
        return _spec(devices[0], sender)

    found: DeviceSpec | None = device_cache.get_or_set(("tts", application, device_id), load)
    return found


# --------------------------------------------------------------------------- payloads
def _json(payload: bytes, city_id: int | None = None, device_id: str = "") -> Any:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as e:
        raise Rejected(f"the payload is not JSON: {e}", city_id, device_id) from None


def observed_at(value: Any) -> str:
    """An ISO 8601 time (any offset, up to nanoseconds) as NGSI-LD's UTC DateTime."""
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError("not a date-time string")
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip())
    when = dt.datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return _iso(when)


def _iso(when: dt.datetime) -> str:
    when = when.astimezone(dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def key_values_entity(item: Any) -> Any:
    """A keyValues entity in normalized form (GeoJSON geometries become GeoProperties)."""
    if not isinstance(item, dict):
        return item
    out: dict[str, Any] = {}
    for name, value in item.items():
        if name in ("id", "@id", "type", "@type", "@context", "scope"):
            out[name] = value
        elif (
            isinstance(value, dict) and value.get("type") in GEO_TYPES and "coordinates" in value
        ) or (isinstance(value, dict) and value.get("type") == "GeometryCollection"):
            out[name] = {"type": "GeoProperty", "value": value}
        else:
            out[name] = {"type": "Property", "value": value}
    return out


def _measure(rule: dict[str, Any], value: Any, observed: str) -> dict[str, Any]:
    """One mapped measure as an NGSI-LD attribute."""
    if rule.get("kind") == "GeoProperty":
        if isinstance(value, list) and len(value) in (2, 3):
            value = {"type": "Point", "coordinates": value}
        if not (isinstance(value, dict) and value.get("type") in GEO_TYPES):
            raise ValueError(f"measure {rule.get('key')!r}: not a GeoJSON geometry or [lon, lat]")
        return {"type": "GeoProperty", "value": value, "observedAt": observed}
    scale, offset = rule.get("scale"), rule.get("offset")
    if scale is not None or offset is not None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"measure {rule.get('key')!r}: a number is needed for scale/offset")
        value = value * (1.0 if scale is None else float(scale)) + float(offset or 0.0)
    attr: dict[str, Any] = {"type": "Property", "value": value, "observedAt": observed}
    if rule.get("unitCode"):
        attr["unitCode"] = rule["unitCode"]
    return attr


def mapped_entity(spec: DeviceSpec, measures: dict[str, Any], received: dt.datetime) -> dict:
    """The fragment a device's measures write: its mapped attributes only."""
    observed = _iso(received)
    if spec.time_key and spec.time_key in measures:
        try:
            observed = observed_at(measures[spec.time_key])
        except ValueError:
            raise Rejected(
                f"{spec.time_key!r} is not an ISO 8601 time", spec.sender.city_id, spec.device_id
            ) from None
    entity: dict[str, Any] = {"id": spec.entity_id, "type": spec.entity_type}
    for rule in spec.mapping:
        key = rule.get("key")
        if key in measures and rule.get("attribute"):
            try:
                entity[rule["attribute"]] = _measure(rule, measures[key], observed)
            except ValueError as e:
                raise Rejected(str(e), spec.sender.city_id, spec.device_id) from None
    if len(entity) == 2:
        raise Rejected("no mapped measure in the message", spec.sender.city_id, spec.device_id)
    return entity


def masked(topic: str) -> str:
    """The topic with device keys cut to their recognisable beginning (dead letters and logs
    never hold a key)."""
    return "/".join(
        p[:KEY_PREFIX_LENGTH] + "…" if p.startswith(DEVICE_KEY_PREFIX) else p
        for p in topic.split("/")
    )


def _parts(topic: str) -> list[str]:
    return topic.split("/")


def plan(index: int, msg: Message, max_payload: int) -> Plan:
    """What the message writes, or :class:`Rejected`."""
    parts = _parts(msg.topic)
    if len(parts) in (3, 4) and parts[0] == "herzstadt" and parts[2] == "entities":
        if len(parts) == 4 and parts[3] != "keyValues":
            raise Rejected("unknown topic")
        return _plan_entities(index, msg, parts[1], len(parts) == 4, max_payload)
    if len(parts) == 3 and parts[2] == "attrs":
        return _plan_iota(index, msg, parts[0], parts[1], max_payload)
    if len(parts) == 5 and parts[:2] == ["", "json"] and parts[4] == "attrs":
        return _plan_iota(index, msg, parts[2], parts[3], max_payload)
    if len(parts) == 4 and parts[0] == "json" and parts[3] == "attrs":
        return _plan_iota(index, msg, parts[1], parts[2], max_payload)
    if len(parts) == 5 and parts[0] == "v3" and parts[2] == "devices" and parts[4] == "up":
        return _plan_tts(index, msg, parts[1], parts[3], max_payload)
    raise Rejected("unknown topic")


def _size(msg: Message, max_payload: int, city_id: int | None, device_id: str = "") -> None:
    if len(msg.payload) > max_payload:
        raise Rejected(f"the payload exceeds {max_payload} bytes", city_id, device_id)


def _plan_entities(index: int, msg: Message, key: str, kv: bool, max_payload: int) -> Plan:
    sender = _sender(key)
    if sender is None:
        raise Rejected("unknown, revoked or expired device key")
    _size(msg, max_payload, sender.city_id)
    body = _json(msg.payload, sender.city_id)
    items = body if isinstance(body, list) else [body]
    broker = get_broker()
    if not items or len(items) > broker.config.max_batch_entities:
        raise Rejected(
            f"one entity or an array of 1 to {broker.config.max_batch_entities} entities is needed",
            sender.city_id,
        )
    if kv:
        items = [key_values_entity(i) for i in items]
    with_ctx = {isinstance(i, dict) and "@context" in i for i in items}
    if len(with_ctx) > 1:
        raise Rejected("either every entity of a message has an @context or none", sender.city_id)
    ld = with_ctx == {True}
    now = model.now_iso()
    for item in items:
        if not isinstance(item, dict):
            raise Rejected("each entity must be a JSON object", sender.city_id)
        try:
            ctx = (
                broker.resolver.get(item["@context"], sender.tenant)
                if ld
                else broker.resolver.get(None)
            )
            doc = model.parse_entity(item, ctx, now)
        except NgsiError as e:
            raise Rejected(f"{e.title}: {e.detail}", sender.city_id) from None
        if not sender.principal.may_touch(doc.get("type")):
            raise Rejected(
                f"entity {doc['id']}: its type is not one this device key may write",
                sender.city_id,
            )
    return Plan(index, sender, items, ld)


def _plan_iota(index: int, msg: Message, key: str, device_id: str, max_payload: int) -> Plan:
    sender = _sender(key)
    if sender is None:
        raise Rejected("unknown, revoked or expired device key", device_id=device_id)
    spec = _iota_device(sender, device_id)
    if spec is None:
        raise Rejected("no such device for this key", sender.city_id, device_id)
    try:
        _size(msg, max_payload, sender.city_id, device_id)
        measures = _json(msg.payload, sender.city_id, device_id)
        if not isinstance(measures, dict):
            raise Rejected("the measures must be a JSON object", sender.city_id, device_id)
        return _plan_device(index, spec, measures, msg.received)
    except Rejected as r:
        r.device_pk = spec.pk
        raise


def _plan_tts(index: int, msg: Message, application: str, device_id: str, max_payload: int) -> Plan:
    spec = _tts_device(application, device_id)
    if spec is None:
        raise Rejected("no such device (The Things Stack)", device_id=device_id)
    try:
        return _plan_uplink(index, msg, spec, max_payload)
    except Rejected as r:
        r.device_pk = spec.pk
        raise


def _plan_uplink(index: int, msg: Message, spec: DeviceSpec, max_payload: int) -> Plan:
    city, device_id = spec.sender.city_id, spec.device_id
    _size(msg, max_payload, city, device_id)
    uplink = _json(msg.payload, city, device_id)
    message = uplink.get("uplink_message") if isinstance(uplink, dict) else None
    decoded = message.get("decoded_payload") if isinstance(message, dict) else None
    if not isinstance(decoded, dict):
        raise Rejected("no uplink_message.decoded_payload object", city, device_id)
    received = msg.received
    when = uplink.get("received_at") or message.get("received_at")
    if when is not None:
        try:
            received = dt.datetime.fromisoformat(observed_at(when).replace("Z", "+00:00"))
        except ValueError:
            raise Rejected("received_at is not an ISO 8601 time", city, device_id) from None
    return _plan_device(index, spec, decoded, received)


def _plan_device(
    index: int, spec: DeviceSpec, measures: dict[str, Any], received: dt.datetime
) -> Plan:
    if not spec.sender.principal.may_touch([spec.entity_type]):
        raise Rejected(
            "the device's entity type is not one its key may write",
            spec.sender.city_id,
            spec.device_id,
        )
    entity = mapped_entity(spec, measures, received)
    broker = get_broker()
    try:
        model.parse_entity(entity, broker.resolver.get(None), model.now_iso())
    except NgsiError as e:
        raise Rejected(f"{e.title}: {e.detail}", spec.sender.city_id, spec.device_id) from None
    return Plan(index, spec.sender, [entity], False, spec)


# --------------------------------------------------------------------------- writes
def _write(plans: list[Plan], rejected: dict[int, Rejected]) -> None:
    """Upsert the plans, grouped by principal, in batches of the broker's size."""
    broker = get_broker()
    groups: dict[tuple[str, str, bool], list[Plan]] = {}
    for p in plans:
        groups.setdefault((p.sender.tenant, p.sender.principal.client_id, p.ld), []).append(p)
    limit = broker.config.max_batch_entities
    for (tenant, _client, ld), members in groups.items():
        chunk: list[Plan] = []
        size = 0
        for p in members:
            if chunk and size + len(p.items) > limit:
                _upsert(broker, tenant, ld, chunk, rejected)
                chunk, size = [], 0
            chunk.append(p)
            size += len(p.items)
        if chunk:
            _upsert(broker, tenant, ld, chunk, rejected)


def _upsert(broker: Any, tenant: str, ld: bool, chunk: list[Plan], rejected: dict) -> None:
    principal = chunk[0].sender.principal
    items = [i for p in chunk for i in p.items]
    req = Req(principal=principal, tenant=tenant, ctx=broker.resolver.get(None), body=items, ld=ld)
    city = chunk[0].sender.city_id
    try:
        result = batch_upsert(broker, req, WriteOptions(update=True))
    except NgsiError as e:
        if e.status >= 500:  # the store is busy or failing: not the message's fault, try again
            raise
        for p in chunk:
            rejected[p.index] = Rejected(f"{e.title}: {e.detail}", city, _dev(p))
        return
    if result.status == 207:
        failed = {e["entityId"]: e["error"].get("detail", "") for e in result.body["errors"]}
        for p in chunk:
            bad = [i.get("id") for i in p.items if i.get("id") in failed]
            if bad:
                rejected[p.index] = Rejected(f"entity {bad[0]}: {failed[bad[0]]}", city, _dev(p))


def _dev(p: Plan) -> str:
    return p.device.device_id if p.device else ""


_prune_lock = threading.Lock()
_last_prune = [0.0]


def prune_dead_letters(city_ids: set[int | None]) -> None:
    """Keep the newest :data:`DEAD_LETTERS_PER_CITY` per city, none older than the maximum age."""
    now = time.monotonic()
    with _prune_lock:
        due = now - _last_prune[0] > 60.0
        if due:
            _last_prune[0] = now
    if due:
        DeadLetter.objects.filter(received_at__lt=timezone.now() - DEAD_LETTER_MAX_AGE).delete()
    for city_id in city_ids:
        of_city = (
            DeadLetter.objects.filter(city__isnull=True)
            if city_id is None
            else DeadLetter.objects.filter(city_id=city_id)
        )
        edge = of_city.order_by("-pk").values_list("pk", flat=True)[
            DEAD_LETTERS_PER_CITY : DEAD_LETTERS_PER_CITY + 1
        ]
        edge_pk = list(edge)
        if edge_pk:
            of_city.filter(pk__lte=edge_pk[0]).delete()


def ingest(messages: list[Message], max_payload: int = DEFAULT_MAX_PAYLOAD) -> list[str | None]:
    """Write the messages (see the module); returns, per message, None or why it was rejected.

    Returns after everything (writes, dead letters, device counters) has committed. A database
    failure (or the broker's 5xx) raises: then nothing may be acknowledged and the messages must
    come again."""
    plans: list[Plan] = []
    rejected: dict[int, Rejected] = {}
    for i, msg in enumerate(messages):
        try:
            plans.append(plan(i, msg, max_payload))
        except Rejected as r:
            rejected[i] = r
    _write(plans, rejected)
    planned = {p.index for p in plans}
    seen: dict[int, list[int]] = {}
    for p in plans:
        if p.device is not None:
            counts = seen.setdefault(p.device.pk, [0, 0])
            counts[0 if p.index not in rejected else 1] += 1
    for i, refused in rejected.items():
        if refused.device_pk is not None and i not in planned:
            seen.setdefault(refused.device_pk, [0, 0])[1] += 1
    now = timezone.now()
    with transaction.atomic():
        DeadLetter.objects.bulk_create(
            DeadLetter(
                city_id=r.city_id,
                received_at=messages[i].received,
                topic=masked(messages[i].topic)[:500],
                payload=messages[i].payload[:DEAD_LETTER_EXCERPT].decode("utf-8", "replace"),
                reason=r.reason,
                device_id=r.device_id[:200],
            )
            for i, r in sorted(rejected.items())
        )
        for pk, (ok, bad) in seen.items():
            Device.objects.filter(pk=pk).update(
                last_seen_at=now,
                messages_received=F("messages_received") + ok + bad,
                messages_rejected=F("messages_rejected") + bad,
            )
    if rejected:
        for i, why in sorted(rejected.items()):
            log.info("rejected MQTT message on %s: %s", masked(messages[i].topic), why.reason)
        prune_dead_letters({why.city_id for why in rejected.values()})
    return [rejected[i].reason if i in rejected else None for i in range(len(messages))]
