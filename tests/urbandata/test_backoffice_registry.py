"""The back-office pages of the device registry and the rejected messages ("API-Zugänge")."""

from __future__ import annotations

import json

import pytest

from herzstadt.accounts.models import Role
from herzstadt.urbandata.models import DeadLetter, Device
from tests.conftest import bo_url, login
from tests.urbandata.test_ingest import AQ, NO2, device_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(city, make_user):
    return make_user(Role.ADMIN, city, name="Admina")


def form(cred, **kw):
    data = {
        "device_id": "thermo-9",
        "protocol": "iota-json",
        "application": "",
        "credential": str(cred.pk),
        "entity_id": "urn:ngsi-ld:AirQualityObserved:thermo-9",
        "entity_type": AQ,
        "time_key": "TimeInstant",
        "mapping": json.dumps([{"key": "n", "attribute": NO2, "unitCode": "GQ"}]),
    }
    data.update(kw)
    return data


def test_only_administrators_of_the_city(client, city, other_city, actors, make_user):
    urls = [bo_url("api-registry"), bo_url("api-registry-create"), bo_url("api-dead-letters")]
    for url in urls:
        assert client.get(url).status_code == 302
    for who in ("citizen", "moderator", "staff", "other_staff"):
        login(client, actors[who])
        for url in urls:
            assert client.get(url).status_code == 403, (who, url)
    cred, _ = device_key(city)
    device = Device.objects.create(
        city=city, device_id="x", entity_id="urn:a:1", entity_type=AQ, credential=cred
    )
    login(client, make_user(Role.ADMIN, other_city))
    assert client.post(bo_url("api-registry-delete", pk=device.pk)).status_code == 403
    assert client.get(bo_url("api-registry-edit", pk=device.pk)).status_code == 403
    assert Device.objects.filter(pk=device.pk).exists()


def test_create_edit_delete(client, city, admin):
    login(client, admin)
    cred, _ = device_key(city)
    assert client.get(bo_url("api-registry-create")).status_code == 200
    r = client.post(bo_url("api-registry-create"), form(cred))
    assert r.status_code == 302, r.content.decode()[:3000]
    device = Device.objects.get()
    assert device.mapping == [{"key": "n", "attribute": NO2, "kind": "Property", "unitCode": "GQ"}]
    html = client.get(bo_url("api-registry")).content.decode()
    assert "thermo-9" in html and "Geräteregister" in html
    edit = bo_url("api-registry-edit", pk=device.pk)
    assert "TimeInstant" in client.get(edit).content.decode()
    # friendly errors, nothing saved
    r = client.post(edit, form(cred, mapping="[{"))
    assert r.status_code == 200 and "JSON" in r.content.decode()
    r = client.post(edit, form(cred, entity_type="https://example.org/Other"))
    assert r.status_code == 200
    device.refresh_from_db()
    assert device.entity_type == AQ
    assert client.post(edit, form(cred, device_id="thermo-10")).status_code == 302
    device.refresh_from_db()
    assert device.device_id == "thermo-10"
    assert client.post(bo_url("api-registry-delete", pk=device.pk)).status_code == 302
    assert not Device.objects.exists()
    assert client.get(bo_url("api-registry-delete", pk=device.pk)).status_code == 405


def test_rejected_messages_are_shown_for_the_city_only(client, city, other_city, admin):
    DeadLetter.objects.create(city=city, topic="herzstadt/hzd_abcd…/entities", reason="Grund A")
    DeadLetter.objects.create(city=other_city, topic="t", reason="Grund B")
    login(client, admin)
    html = client.get(bo_url("api-dead-letters")).content.decode()
    assert "Grund A" in html and "Grund B" not in html
    assert "Abgelehnte Nachrichten" in html
