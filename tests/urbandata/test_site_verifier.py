"""The site's verifier (settings.NGSI_VERIFIER): API keys, device keys and OAuth2 bearer tokens of
the cities' back offices, and each city's open data and CORS origins."""

import base64
import datetime as dt

import pytest
from django.utils import timezone

from herzstadt.ngsi.auth import Scope, hash_key
from herzstadt.urbandata import access
from herzstadt.urbandata.broker import get_verifier
from herzstadt.urbandata.models import ApiClient, DeviceCredential
from herzstadt.urbandata.verifier import SiteVerifier

pytestmark = pytest.mark.django_db

PARKING = "https://smartdatamodels.org/dataModel.Parking/OffStreetParking"
AIR = "https://smartdatamodels.org/dataModel.Environment/AirQualityObserved"


@pytest.fixture
def city(other_city):
    other_city.ngsi_tenant = "musterstadt"
    other_city.save()
    return other_city


def make_client(city, scopes=("read",), types=None, **extra) -> tuple[ApiClient, str]:
    client = ApiClient(name="Dashboard", scopes=list(scopes), entity_types=types, **extra)
    return access.create_client(city, None, client)


def test_the_site_verifier_is_the_default():
    assert isinstance(get_verifier(), SiteVerifier)


def test_a_valid_key_gives_the_clients_principal(city):
    client, key = make_client(city, ("read", "write"))
    assert key.startswith("hzk_") and len(key) > 40
    assert client.key_prefix == key[:8] and client.key_hash == hash_key(key)
    assert key not in str(ApiClient.objects.filter(pk=client.pk).values().get())
    p = SiteVerifier().authenticate("apikey", key)
    assert p.tenant == "musterstadt" and p.client_id == f"client-{client.pk}"
    assert p.scopes == frozenset({Scope.READ, Scope.WRITE}) and p.entity_types is None
    assert p.kind == "api_key"
    client.refresh_from_db()
    assert client.last_used_at is not None


def test_unknown_wrong_and_other_scheme_keys_are_refused(city):
    _client, key = make_client(city)
    v = SiteVerifier()
    assert v.authenticate("apikey", key + "x") is None
    assert v.authenticate("apikey", "hzk_nonsense") is None
    assert v.authenticate("apikey", "no-prefix") is None
    assert v.authenticate("bearer", key) is None
    assert v.authenticate("basic", key) is None


def test_revoked_and_expired_keys_are_refused(city):
    revoked, key1 = make_client(city)
    access.revoke_client(revoked)
    _expired, key2 = make_client(city, expires_at=timezone.now() - dt.timedelta(seconds=1))
    _later, key3 = make_client(city, expires_at=timezone.now() + dt.timedelta(days=1))
    v = SiteVerifier()
    assert v.authenticate("apikey", key1) is None
    assert v.authenticate("apikey", key2) is None
    assert v.authenticate("apikey", key3) is not None


def test_a_new_key_replaces_the_old_one(city):
    client, old = make_client(city)
    new = access.new_key(client)
    v = SiteVerifier()
    assert v.authenticate("apikey", old) is None
    assert v.authenticate("apikey", new).client_id == client.audit_id


def test_keys_belong_to_their_city_and_a_partner_city_has_none(city, demo):
    from herzstadt.core.models import CityRole

    _mine, key = make_client(city)
    _theirs, their_key = make_client(demo)
    v = SiteVerifier()
    assert v.authenticate("apikey", key).tenant == "musterstadt"
    assert v.authenticate("apikey", their_key).tenant == demo.ngsi_tenant != "musterstadt"
    city.role = CityRole.PARTNER
    city.save()
    assert v.authenticate("apikey", key) is None
    assert v.tenant_policy("musterstadt") is None


def test_type_restriction(city):
    _client, key = make_client(city, ("read", "write"), [PARKING])
    p = SiteVerifier().authenticate("apikey", key)
    assert p.entity_types == frozenset({PARKING})
    assert p.may_touch([PARKING]) and not p.may_touch([AIR]) and not p.may_touch([])


def test_device_keys_write_and_read_their_types(city):
    device = DeviceCredential(name="Luftmessstation 1", device_id="air-1", entity_types=[AIR])
    device, key = access.create_device(city, None, device)
    assert key.startswith("hzd_")
    p = SiteVerifier().authenticate("apikey", key)
    assert p.kind == "device" and p.client_id == f"device-{device.pk}"
    assert p.scopes == frozenset({Scope.READ, Scope.WRITE}) and p.entity_types == frozenset({AIR})
    device.revoke()
    assert SiteVerifier().authenticate("apikey", key) is None


def test_tenant_policy_has_the_citys_open_data_and_origins(city):
    v = SiteVerifier()
    assert v.tenant_policy("musterstadt").public_types == frozenset()
    access.save_settings(city, [PARKING], ["https://dash.example.org"])
    policy = v.tenant_policy("musterstadt")
    assert policy.public_types == frozenset({PARKING})
    assert policy.cors_origins == frozenset({"https://dash.example.org"})
    assert v.tenant_policy("nobody") is None


def _token(client, oauth_id, secret, **data):
    basic = base64.b64encode(f"{oauth_id}:{secret}".encode()).decode()
    return client.post(
        "/api/v1/oauth/token/",
        {"grant_type": "client_credentials", **data},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )


def test_bearer_tokens_of_the_client_credentials_grant(city, client):
    from oauth2_provider.models import AccessToken, Application

    api_client, _key = make_client(city, ("read", "write"), [PARKING])
    oauth_id, secret = access.create_oauth_credentials(api_client)
    app = Application.objects.get(client_id=oauth_id)
    assert secret not in app.client_secret  # stored hashed (salted SHA-256: the secret is random)
    assert app.client_secret.startswith("sha256_random_secret$")

    assert _token(client, oauth_id, "wrong").status_code == 401
    response = _token(client, oauth_id, secret)
    assert response.status_code == 200, response.content
    token = response.json()["access_token"]
    stored = AccessToken.objects.get(application=app)
    assert stored.token == ""  # only its checksum is stored
    v = SiteVerifier()
    p = v.authenticate("bearer", token)
    assert p.kind == "oauth" and p.client_id == api_client.audit_id and p.tenant == "musterstadt"
    assert p.scopes == frozenset({Scope.READ, Scope.WRITE}) and p.entity_types == {PARKING}
    assert v.authenticate("apikey", token) is None
    assert v.authenticate("bearer", token + "x") is None

    # a token asked for fewer scopes gets fewer; scopes the client lacks are never granted
    narrow = _token(client, oauth_id, secret, scope="read").json()["access_token"]
    assert v.authenticate("bearer", narrow).scopes == frozenset({Scope.READ})
    wide = _token(client, oauth_id, secret, scope="admin").json()["access_token"]
    assert v.authenticate("bearer", wide).scopes == frozenset()

    # expired tokens, revoked clients
    AccessToken.objects.filter(pk=stored.pk).update(expires=timezone.now() - dt.timedelta(1))
    assert v.authenticate("bearer", token) is None
    access.revoke_client(api_client)
    assert v.authenticate("bearer", narrow) is None
    assert _token(client, oauth_id, secret).status_code == 401
    assert not AccessToken.objects.filter(application_id=app.pk).exists()


def test_new_oauth_credentials_replace_the_old_ones(city, client):
    api_client, _key = make_client(city)
    oauth_id, secret = access.create_oauth_credentials(api_client)
    token = _token(client, oauth_id, secret).json()["access_token"]
    oauth_id2, secret2 = access.create_oauth_credentials(api_client)
    assert oauth_id2 != oauth_id
    assert SiteVerifier().authenticate("bearer", token) is None
    assert _token(client, oauth_id, secret).status_code == 401
    assert _token(client, oauth_id2, secret2).status_code == 200


def test_deleting_a_city_deletes_its_clients_and_oauth_applications(city):
    from oauth2_provider.models import Application

    api_client, _key = make_client(city)
    oauth_id, _secret = access.create_oauth_credentials(api_client)
    city.delete()
    assert not ApiClient.objects.filter(pk=api_client.pk).exists()
    assert not Application.objects.filter(client_id=oauth_id).exists()
