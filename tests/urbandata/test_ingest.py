"""Device ingestion without a network: the three formats, mapping, key limits and dead letters
(:func:`herzstadt.urbandata.ingest.ingest`, what the MQTT listener calls with each batch)."""

from __future__ import annotations

import datetime as dt
import uuid

import orjson
import pytest

from herzstadt.ngsi.auth import system_principal
from herzstadt.ngsi.params import RetrieveOptions
from herzstadt.ngsi.service import Req, retrieve_entity
from herzstadt.urbandata import access, ingest
from herzstadt.urbandata.broker import get_broker
from herzstadt.urbandata.ingest import Message
from herzstadt.urbandata.models import DeadLetter, Device, DeviceCredential, DeviceProtocol

pytestmark = pytest.mark.django_db

AQ = "https://smartdatamodels.org/dataModel.Environment/AirQualityObserved"
PARKING = "https://smartdatamodels.org/dataModel.Parking/OffStreetParking"
NO2 = "https://smartdatamodels.org/dataModel.Environment/no2"
TEMP = "https://smartdatamodels.org/temperature"
CORE = "https://uri.etsi.org/ngsi-ld/default-context/"


@pytest.fixture
def city(city):
    """The city with a tenant of its own: the broker's PostgreSQL schema outlives a test run."""
    city.ngsi_tenant = f"dev{uuid.uuid4().hex[:12]}"
    city.save(update_fields=["ngsi_tenant"])
    return city


def device_key(city, types=(AQ,), name="sensor"):
    cred, key = access.create_device(
        city,
        None,
        DeviceCredential(
            name=name, device_id=f"{name}-{uuid.uuid4().hex[:6]}", entity_types=list(types)
        ),
    )
    return cred, key


def entity(city, eid):
    broker = get_broker()
    req = Req(
        principal=system_principal(city.ngsi_tenant),
        tenant=city.ngsi_tenant,
        ctx=broker.resolver.get(None),
    )
    return retrieve_entity(broker, req, RetrieveOptions(), eid).body


def run(*messages):
    return ingest.ingest(
        [Message(t, p if isinstance(p, bytes) else orjson.dumps(p)) for t, p in messages]
    )


def test_ngsi_ld_entities_update_only_the_attributes_sent(city):
    _cred, key = device_key(city, types=(CORE + "AirQualityObserved",))
    eid = "urn:ngsi-ld:AirQualityObserved:t1"
    first = {
        "id": eid,
        "type": "AirQualityObserved",
        "no2": {"type": "Property", "value": 41.0, "unitCode": "GQ"},
        "pm10": {"type": "Property", "value": 17},
    }
    assert run((f"herzstadt/{key}/entities", first)) == [None]
    # a fragment (keyValues, an array) changes no2 and adds o3; pm10 stays
    kv = [
        {
            "id": eid,
            "type": "AirQualityObserved",
            "no2": 44.5,
            "o3": 80,
            "location": {"type": "Point", "coordinates": [7.75, 49.44]},
        }
    ]
    assert run((f"herzstadt/{key}/entities/keyValues", kv)) == [None]
    doc = entity(city, eid)
    assert doc["no2"]["value"] == 44.5
    assert doc["pm10"]["value"] == 17
    assert doc["o3"]["value"] == 80
    assert doc["location"]["type"] == "GeoProperty"
    # normalized fragment without pm10: pm10 still stays
    assert run(
        (
            f"herzstadt/{key}/entities",
            {"id": eid, "type": "AirQualityObserved", "no2": {"type": "Property", "value": 1}},
        )
    ) == [None]
    assert entity(city, eid)["pm10"]["value"] == 17
    # an @context in the entity is used (application/ld+json style)
    ld = {
        "id": eid,
        "type": "AirQualityObserved",
        "@context": ["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"],
        "no2": {"type": "Property", "value": 2},
    }
    assert run((f"herzstadt/{key}/entities", ld)) == [None]
    assert entity(city, eid)["no2"]["value"] == 2
    assert not DeadLetter.objects.exists()


def test_the_device_keys_types_limit_what_it_writes(city):
    _cred, key = device_key(city, types=(CORE + "AirQualityObserved",))
    out = run(
        (
            f"herzstadt/{key}/entities",
            {
                "id": "urn:ngsi-ld:OffStreetParking:x",
                "type": "OffStreetParking",
                "free": {"type": "Property", "value": 3},
            },
        )
    )
    assert out[0] and "may write" in out[0]
    letter = DeadLetter.objects.get()
    assert letter.city == city and "OffStreetParking" in letter.payload
    # the same id with an allowed type exists under another (forbidden) type: not overwritten
    _other, admin_key = device_key(city, types=(CORE + "OffStreetParking",), name="parking")
    assert run(
        (
            f"herzstadt/{admin_key}/entities",
            {
                "id": "urn:ngsi-ld:X:1",
                "type": "OffStreetParking",
                "free": {"type": "Property", "value": 3},
            },
        )
    ) == [None]
    out = run(
        (
            f"herzstadt/{key}/entities",
            {
                "id": "urn:ngsi-ld:X:1",
                "type": "AirQualityObserved",
                "no2": {"type": "Property", "value": 3},
            },
        )
    )
    assert out[0] and "urn:ngsi-ld:X:1" in out[0]
    assert "no2" not in entity(city, "urn:ngsi-ld:X:1")


def test_malformed_messages_become_dead_letters_and_never_raise(city, other_city):
    _cred, key = device_key(city, types=(CORE + "AirQualityObserved",))
    revoked, revoked_key = device_key(city, name="old")
    revoked.revoke()
    messages = [
        (f"herzstadt/{key}/entities", b"{not json"),
        (f"herzstadt/{key}/entities", b"[]"),
        (f"herzstadt/{key}/entities", {"id": "not a uri", "type": "AirQualityObserved"}),
        (
            f"herzstadt/{key}/entities",
            [{"id": "urn:a:1", "type": "AirQualityObserved", "no2": {"type": "Property"}}],
        ),
        ("herzstadt/hzd_unknown/entities", {"id": "urn:a:1", "type": "AirQualityObserved"}),
        (f"herzstadt/{revoked_key}/entities", {"id": "urn:a:1", "type": "AirQualityObserved"}),
        (f"{key}/no-such-device/attrs", {"t": 1}),
        ("v3/app@ttn/devices/nobody/up", {"uplink_message": {"decoded_payload": {"t": 1}}}),
        ("somewhere/else", b"x"),
        (f"herzstadt/{key}/entities", b"[" + b"1," * 200_000 + b"1]"),
    ]
    out = run(*messages)
    assert all(out), out
    letters = list(DeadLetter.objects.order_by("pk"))
    assert len(letters) == len(messages)
    assert "not JSON" in letters[0].reason
    assert letters[4].city is None and letters[5].city is None
    assert letters[0].city == city
    assert key not in letters[0].topic and letters[0].topic.startswith("herzstadt/hzd_")
    assert "exceeds" in letters[9].reason and len(letters[9].payload) == ingest.DEAD_LETTER_EXCERPT


def test_dead_letters_are_bounded_per_city(city, monkeypatch):
    monkeypatch.setattr(ingest, "DEAD_LETTERS_PER_CITY", 5)
    _cred, key = device_key(city)
    run(*[(f"herzstadt/{key}/entities", b"bad") for _ in range(12)])
    assert DeadLetter.objects.filter(city=city).count() == 5
    old = DeadLetter.objects.first()
    DeadLetter.objects.filter(pk=old.pk).update(received_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    monkeypatch.setattr(ingest, "_last_prune", [0.0])
    run((f"herzstadt/{key}/entities", b"bad"))
    assert not DeadLetter.objects.filter(pk=old.pk).exists()


def _iota_device(city, cred, **kw):
    fields = dict(
        city=city,
        device_id="thermo-7",
        protocol=DeviceProtocol.IOTA_JSON,
        entity_id="urn:ngsi-ld:AirQualityObserved:thermo-7",
        entity_type=AQ,
        credential=cred,
        time_key="TimeInstant",
        mapping=[
            {"key": "n", "attribute": NO2, "kind": "Property", "unitCode": "GQ"},
            {
                "key": "t",
                "attribute": TEMP,
                "kind": "Property",
                "unitCode": "CEL",
                "scale": 0.1,
                "offset": -40,
            },
            {"key": "loc", "attribute": "location", "kind": "GeoProperty"},
        ],
    )
    fields.update(kw)
    return Device.objects.create(**fields)


def test_iot_agent_measures_write_mapped_attributes_only(city):
    cred, key = device_key(city)
    device = _iota_device(city, cred)
    eid = device.entity_id
    # the entity has an attribute the device does not map: it must survive
    _c, admin_key = device_key(city, name="loader")
    run(
        (
            f"herzstadt/{admin_key}/entities",
            {
                "id": eid,
                "type": AQ,
                "name": {"type": "Property", "value": "Pfaff"},
                NO2: {"type": "Property", "value": 1},
            },
        )
    )
    out = run(
        (
            f"{key}/thermo-7/attrs",
            {"n": 40.5, "t": 612, "other": 1, "TimeInstant": "2026-11-30T10:00:00+01:00"},
        ),
        (f"/json/{key}/thermo-7/attrs", {"loc": [7.75, 49.44]}),
    )
    assert out == [None, None]
    doc = entity(city, eid)
    assert doc["name"]["value"] == "Pfaff"
    assert doc[NO2]["value"] == 40.5 and doc[NO2]["unitCode"] == "GQ"
    assert doc[NO2]["observedAt"] == "2026-11-30T09:00:00.000Z"
    assert doc[TEMP]["value"] == pytest.approx(21.2) and doc[TEMP]["unitCode"] == "CEL"
    assert doc["location"]["value"]["coordinates"] == [7.75, 49.44]
    assert "other" not in doc
    device.refresh_from_db()
    assert device.messages_received == 2 and device.last_seen_at is not None
    # bad time, text for a scaled measure, nothing mapped: dead letters, counted
    out = run(
        (f"{key}/thermo-7/attrs", {"n": 1, "TimeInstant": "yesterday"}),
        (f"{key}/thermo-7/attrs", {"t": "warm"}),
        (f"{key}/thermo-7/attrs", {"unmapped": 1}),
        (f"{key}/thermo-7/attrs", [1, 2]),
    )
    assert all(out)
    assert DeadLetter.objects.filter(device_id="thermo-7").count() == 4
    device.refresh_from_db()
    assert device.messages_received == 6 and device.messages_rejected == 4
    assert entity(city, eid)[NO2]["value"] == 40.5


def test_a_device_whose_type_the_key_may_not_write_is_refused(city):
    cred, key = device_key(city, types=(PARKING,))
    _iota_device(city, cred)
    out = run((f"{key}/thermo-7/attrs", {"n": 3}))
    assert "may write" in out[0]


def test_the_things_stack_uplinks_are_mapped_per_device(city):
    cred, _key = device_key(city)
    Device.objects.create(
        city=city,
        device_id="eui-70b3d57ed0000001",
        protocol=DeviceProtocol.TTS,
        application="pfaff-sensors@ttn",
        entity_id="urn:ngsi-ld:AirQualityObserved:lora-1",
        entity_type=AQ,
        credential=cred,
        mapping=[{"key": "no2", "attribute": NO2, "unitCode": "GQ"}],
    )
    uplink = {
        "end_device_ids": {"device_id": "eui-70b3d57ed0000001"},
        "received_at": "2026-11-30T12:34:56.123456789Z",
        "uplink_message": {"f_port": 1, "decoded_payload": {"no2": 33, "battery": 3.1}},
    }
    out = run(("v3/pfaff-sensors@ttn/devices/eui-70b3d57ed0000001/up", uplink))
    assert out == [None]
    doc = entity(city, "urn:ngsi-ld:AirQualityObserved:lora-1")
    assert doc[NO2]["value"] == 33
    assert doc[NO2]["observedAt"] == "2026-11-30T12:34:56.123Z"
    assert "battery" not in str(doc)
    out = run(("v3/pfaff-sensors@ttn/devices/eui-70b3d57ed0000001/up", {"uplink_message": {}}))
    assert "decoded_payload" in out[0]


def test_observed_at_parsing():
    assert ingest.observed_at("2026-01-01T00:00:00Z") == "2026-01-01T00:00:00.000Z"
    assert ingest.observed_at("2026-01-01T02:00:00.5+02:00") == "2026-01-01T00:00:00.500Z"
    with pytest.raises(ValueError):
        ingest.observed_at(12)


def test_a_busy_store_is_retried_not_dead_lettered(city, monkeypatch):
    from herzstadt.ngsi.errors import NgsiError

    _cred, key = device_key(city, types=(CORE + "AirQualityObserved",))

    class Busy(NgsiError):
        status = 503

    def busy(*args, **kwargs):
        raise Busy("database is locked")

    monkeypatch.setattr(ingest, "batch_upsert", busy)
    with pytest.raises(NgsiError):
        run((f"herzstadt/{key}/entities", {"id": "urn:a:b", "type": "AirQualityObserved"}))
    assert not DeadLetter.objects.exists()
