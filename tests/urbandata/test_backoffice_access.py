"""The back-office section "API-Zugänge": administrators of the city only; keys and secrets are
shown once; revoking, editing, device keys, open data and the audit trail per client."""

import re
import uuid

import pytest

from herzstadt.accounts.models import Role
from herzstadt.core import permissions, registry
from herzstadt.urbandata import access
from herzstadt.urbandata.models import ApiClient, DeviceCredential
from herzstadt.urbandata.verifier import SiteVerifier
from tests.conftest import bo_url, login

pytestmark = pytest.mark.django_db

PARKING = "https://smartdatamodels.org/dataModel.Parking/OffStreetParking"


@pytest.fixture
def admin(demo, make_user):
    return make_user(Role.ADMIN, demo, name="Admina")


def _key(html: str, prefix: str = "hzk_") -> str:
    found = re.findall(rf'value="({prefix}[A-Za-z0-9_-]+)"', html)
    assert len(set(found)) == 1, found
    return found[0]


def test_only_the_citys_administrators_get_in(client, demo, other_city, actors, admin, make_user):
    urls = [bo_url("api-access"), bo_url("api-client-create"), bo_url("api-open-data")]
    for url in urls:
        assert client.get(url).status_code == 302  # anonymous: sign in
    other_admin = make_user(Role.ADMIN, other_city)
    for who in ("citizen", "moderator", "staff", "other_staff"):
        login(client, actors[who])
        for url in urls:
            assert client.get(url).status_code == 403, (who, url)
        assert (
            client.post(bo_url("api-client-create"), {"name": "x", "scopes": ["read"]}).status_code
            == 403
        )
    assert not ApiClient.objects.filter(name="x").exists()
    login(client, other_admin)
    assert client.get(bo_url("api-access")).status_code == 403
    login(client, admin)
    for url in urls + [
        bo_url(n, "en") for n in ("api-access", "api-client-create", "api-open-data")
    ]:
        assert client.get(url).status_code == 200, url
    section = {s.key: s for s in registry.backoffice_sections()}["api-access"]
    assert permissions.allowed(admin, section.permission, demo)
    assert not permissions.allowed(actors["staff"], section.permission, demo)
    html = client.get(bo_url("home")).content.decode()
    assert "API-Zugänge" in html


def test_create_a_client_shows_the_key_once(client, demo, admin):
    login(client, admin)
    response = client.post(
        bo_url("api-client-create"),
        {"name": "Verkehrsdashboard", "description": "", "scopes": ["read"], "types": [PARKING]},
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    key = _key(html)
    created = ApiClient.objects.get(city=demo, name="Verkehrsdashboard")
    assert created.scopes == ["read"] and created.entity_types == [PARKING]
    assert created.created_by == admin
    p = SiteVerifier().authenticate("apikey", key)
    assert p.client_id == created.audit_id and p.entity_types == {PARKING}
    # never again: not on the client's page, not in the list
    for url in (bo_url("api-client", pk=created.pk), bo_url("api-access")):
        page = client.get(url).content.decode()
        assert key not in page and created.key_prefix in page


def test_bad_input_is_a_form_error_not_a_client(client, demo, admin):
    login(client, admin)
    for data in (
        {"name": "", "scopes": ["read"]},
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["root"]},
        {"name": "x", "scopes": ["read"], "types": ["https://evil.example/NotKnown"]},
        {"name": "x", "scopes": ["read"], "more_types": "not an iri"},
    ):
        response = client.post(bo_url("api-client-create"), data)
        assert response.status_code == 200 and "hzk_" not in response.content.decode(), data
    assert not ApiClient.objects.filter(city=demo, name="x").exists()


def test_edit_revoke_and_new_key(client, demo, admin):
    login(client, admin)
    api_client, key = access.create_client(demo, admin, ApiClient(name="Pipeline", scopes=["read"]))
    response = client.post(
        bo_url("api-client-edit", pk=api_client.pk),
        {"name": "Pipeline", "scopes": ["read", "write"], "more_types": PARKING},
    )
    assert response.status_code == 302
    api_client.refresh_from_db()
    assert api_client.scopes == ["read", "write"] and api_client.entity_types == [PARKING]

    response = client.post(bo_url("api-client-new-key", pk=api_client.pk))
    new = _key(response.content.decode())
    assert new != key
    v = SiteVerifier()
    assert v.authenticate("apikey", key) is None and v.authenticate("apikey", new) is not None

    assert client.get(bo_url("api-client-revoke", pk=api_client.pk)).status_code == 405
    assert client.post(bo_url("api-client-revoke", pk=api_client.pk)).status_code == 302
    assert v.authenticate("apikey", new) is None
    assert client.post(bo_url("api-client-new-key", pk=api_client.pk)).status_code == 302
    api_client.refresh_from_db()
    assert api_client.revoked_at is not None and v.authenticate("apikey", new) is None


def test_another_citys_client_is_404(client, demo, admin, other_city):
    theirs, _key = access.create_client(other_city, None, ApiClient(name="T", scopes=["read"]))
    login(client, admin)
    assert client.get(bo_url("api-client", pk=theirs.pk)).status_code == 404
    assert client.post(bo_url("api-client-revoke", pk=theirs.pk)).status_code == 404
    assert client.post(bo_url("api-client-new-key", pk=theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_oauth_credentials_are_shown_once(client, demo, admin):
    login(client, admin)
    api_client, _k = access.create_client(demo, admin, ApiClient(name="OAuth", scopes=["read"]))
    response = client.post(bo_url("api-client-oauth", pk=api_client.pk))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    html = response.content.decode()
    secret = re.search(r'id="oauth-secret"[^>]*value="([^"]+)"', html).group(1)
    api_client.refresh_from_db()
    assert api_client.application.client_id in html
    assert "/api/v1/oauth/token/" in html
    page = client.get(bo_url("api-client", pk=api_client.pk)).content.decode()
    assert api_client.application.client_id in page and secret not in page
    token = client.post(
        "/api/v1/oauth/token/",
        {
            "grant_type": "client_credentials",
            "client_id": api_client.application.client_id,
            "client_secret": secret,
        },
    )
    assert token.status_code == 200


def test_device_keys(client, demo, admin):
    login(client, admin)
    data = {"name": "Parkhaus-Zähler", "device_id": "garage-1", "more_types": PARKING}
    html = client.post(bo_url("api-device-create"), data).content.decode()
    key = _key(html, "hzd_")
    device = DeviceCredential.objects.get(city=demo, device_id="garage-1")
    assert SiteVerifier().authenticate("apikey", key).kind == "device"
    again = client.post(bo_url("api-device-create"), data)
    assert again.status_code == 200 and "hzd_" not in again.content.decode()  # id taken
    no_types = client.post(bo_url("api-device-create"), {"name": "x", "device_id": "x"})
    assert no_types.status_code == 200 and not DeviceCredential.objects.filter(device_id="x")
    assert key not in client.get(bo_url("api-device", pk=device.pk)).content.decode()
    assert client.post(bo_url("api-device-revoke", pk=device.pk)).status_code == 302
    assert SiteVerifier().authenticate("apikey", key) is None


def test_open_data_and_cors(client, demo, admin):
    login(client, admin)
    page = client.get(bo_url("api-open-data")).content.decode()
    assert PARKING in page  # the demo's types are offered
    response = client.post(
        bo_url("api-open-data"), {"types": [PARKING], "cors_origins": "https://Dash.example.org"}
    )
    assert response.status_code == 302
    policy = SiteVerifier().tenant_policy(demo.ngsi_tenant)
    assert policy.public_types == {PARKING} and policy.cors_origins == {"https://dash.example.org"}
    bad = client.post(bo_url("api-open-data"), {"cors_origins": "javascript:alert(1)"})
    assert bad.status_code == 200
    assert SiteVerifier().tenant_policy(demo.ngsi_tenant).public_types == {PARKING}


def test_audit_trail_per_client(client, demo, admin):
    from herzstadt.ngsi.auth import Principal, Scope
    from herzstadt.ngsi.params import WriteOptions
    from herzstadt.ngsi.service import Req, batch_upsert
    from herzstadt.urbandata.broker import get_broker

    api_client, _k = access.create_client(demo, admin, ApiClient(name="Writer", scopes=["write"]))
    broker = get_broker()
    principal = Principal(api_client.audit_id, demo.ngsi_tenant, frozenset({Scope.WRITE}))
    # a new id each run: on PostgreSQL the broker's tables outlive a test's rollback, and upserting
    # an unchanged entity that exists writes (and audits) nothing
    eid = f"urn:ngsi-ld:Thing:audit-{uuid.uuid4().hex}"
    entity = {"id": eid, "type": "Thing"}
    req = Req(
        principal=principal, tenant=demo.ngsi_tenant, ctx=broker.resolver.get(None), body=[entity]
    )
    assert batch_upsert(broker, req, WriteOptions()).status in (201, 204)
    login(client, admin)
    html = client.get(bo_url("api-client", pk=api_client.pk)).content.decode()
    assert eid in html and "<caption>" in html
    other, _k2 = access.create_client(demo, admin, ApiClient(name="Other", scopes=["read"]))
    assert eid not in client.get(bo_url("api-client", pk=other.pk)).content.decode()
