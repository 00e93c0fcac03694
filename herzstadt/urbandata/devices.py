"""The device registry's use cases: checking and saving provisioned devices (for the JSON API and
the back office) and the JSON form of a device.

Entity types and attribute names are stored expanded (IRIs): a full IRI stays as it is, a short
name is expanded with the NGSI-LD core @context (e.g. ``location`` →
``https://uri.etsi.org/ngsi-ld/location``, ``temperature`` → the default context's IRI).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from herzstadt.core.models import City
from herzstadt.ngsi.model.vocab import is_uri
from herzstadt.urbandata.broker import get_broker
from herzstadt.urbandata.models import Device, DeviceCredential, DeviceProtocol

#: Measures mapped per device, at most.
MAX_RULES = 100
RULE_FIELDS = frozenset({"key", "attribute", "kind", "unitCode", "scale", "offset"})


class DeviceError(ValueError):
    """Invalid device data: ``errors`` maps a field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def expand(name: str) -> str:
    """A type or attribute name as the broker stores it (IRIs stay, names get the core @context)."""
    if ":" in name:
        return name
    return get_broker().resolver.get(None).expand(name)


def _text(data: dict[str, Any], key: str, errors: dict[str, str], *, required: bool) -> str:
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[key] = _("must be text")
        return ""
    value = value.strip()
    if required and not value:
        errors[key] = _("is required")
    if len(value) > 200 and key in ("deviceId", "application", "timeKey"):
        errors[key] = _("is too long")
    return value


def check_mapping(rules: Any) -> list[dict[str, Any]]:
    """The checked mapping rules (see :class:`~herzstadt.urbandata.models.Device`), or
    :class:`ValueError` with a message for people."""
    if not isinstance(rules, list):
        raise ValueError(_("The mapping must be a list of rules."))
    if len(rules) > MAX_RULES:
        raise ValueError(_("At most %(n)s rules.") % {"n": MAX_RULES})
    out: list[dict[str, Any]] = []
    keys: set[str] = set()
    for n, rule in enumerate(rules, 1):
        if not isinstance(rule, dict):
            raise ValueError(_("Rule %(n)s is not an object.") % {"n": n})
        unknown = set(rule) - RULE_FIELDS
        if unknown:
            raise ValueError(
                _("Rule %(n)s has unknown fields: %(f)s")
                % {"n": n, "f": ", ".join(sorted(unknown))}
            )
        key, attribute = rule.get("key"), rule.get("attribute")
        if not isinstance(key, str) or not key or len(key) > 120:
            raise ValueError(_("Rule %(n)s needs a measure key.") % {"n": n})
        if key in keys:
            raise ValueError(_("The measure %(key)s is mapped twice.") % {"key": key})
        keys.add(key)
        if not isinstance(attribute, str) or not attribute.strip() or len(attribute) > 500:
            raise ValueError(_("Rule %(n)s needs an attribute name.") % {"n": n})
        attribute = expand(attribute.strip())
        if not is_uri(attribute) or attribute.endswith(("/id", "/type")):
            raise ValueError(_("Rule %(n)s: not a usable attribute name.") % {"n": n})
        kind = rule.get("kind", "Property")
        if kind not in ("Property", "GeoProperty"):
            raise ValueError(_("Rule %(n)s: kind is Property or GeoProperty.") % {"n": n})
        checked: dict[str, Any] = {"key": key, "attribute": attribute, "kind": kind}
        unit = rule.get("unitCode")
        if unit not in (None, ""):
            if not isinstance(unit, str) or len(unit) > 20 or kind == "GeoProperty":
                raise ValueError(_("Rule %(n)s: unitCode is a short code (UN/CEFACT).") % {"n": n})
            checked["unitCode"] = unit
        for number in ("scale", "offset"):
            v = rule.get(number)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or kind == "GeoProperty":
                raise ValueError(
                    _("Rule %(n)s: %(field)s must be a number.") % {"n": n, "field": number}
                )
            checked[number] = v
        out.append(checked)
    return out


def check(city: City, data: dict[str, Any], instance: Device | None = None) -> Device:
    """A device of ``city`` from JSON-like ``data`` (all fields; an update sends them all), not
    saved; :class:`DeviceError` names what is wrong."""
    errors: dict[str, str] = {}
    if not isinstance(data, dict):
        raise DeviceError({"": _("a JSON object is needed")})
    device = instance or Device(city=city)
    device.device_id = _text(data, "deviceId", errors, required=True)
    protocol = data.get("protocol", DeviceProtocol.IOTA_JSON)
    if protocol not in DeviceProtocol.values or protocol == DeviceProtocol.NGSI_LD:
        errors["protocol"] = _("is iota-json or tts")
    device.protocol = protocol
    device.application = _text(data, "application", errors, required=protocol == "tts")
    device.entity_id = _text(data, "entityId", errors, required=True)
    if device.entity_id and not is_uri(device.entity_id):
        errors["entityId"] = _("must be a URI, e.g. urn:ngsi-ld:AirQualityObserved:sensor-1")
    entity_type = _text(data, "entityType", errors, required=True)
    device.entity_type = expand(entity_type) if entity_type else ""
    device.time_key = _text(data, "timeKey", errors, required=False)
    try:
        device.mapping = check_mapping(data.get("mapping", []))
    except ValueError as e:
        errors["mapping"] = str(e)
    key_id = data.get("deviceKey")
    credential = (
        DeviceCredential.objects.filter(city=city, pk=key_id).first()
        if isinstance(key_id, int) and not isinstance(key_id, bool)
        else None
    )
    if credential is None:
        errors["deviceKey"] = _("must be the id of a device key of this city")
    else:
        device.credential = credential
        if device.entity_type and device.entity_type not in credential.entity_types:
            errors["entityType"] = _("the device key may not write this entity type")
    if not errors:
        clash = Device.objects.filter(
            city=city,
            protocol=device.protocol,
            application=device.application,
            device_id=device.device_id,
        ).exclude(pk=device.pk)
        if clash.exists():
            errors["deviceId"] = _("this city has such a device already")
    if errors:
        raise DeviceError(errors)
    return device


def as_json(device: Device) -> dict[str, Any]:
    return {
        "id": device.pk,
        "deviceId": device.device_id,
        "protocol": device.protocol,
        "application": device.application,
        "entityId": device.entity_id,
        "entityType": device.entity_type,
        "timeKey": device.time_key,
        "mapping": device.mapping,
        "deviceKey": device.credential_id,
        "createdAt": device.created_at.isoformat(),
        "lastSeenAt": device.last_seen_at.isoformat() if device.last_seen_at else None,
        "messagesReceived": device.messages_received,
        "messagesRejected": device.messages_rejected,
    }
