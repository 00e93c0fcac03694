"""The site's NGSI-LD verifier: closed by default; a keys file comes first when configured."""

import orjson
import pytest

from herzstadt.ngsi.auth import Scope, hash_key
from herzstadt.urbandata.broker import get_verifier, ngsi_config
from herzstadt.urbandata.verifier import CityTenantVerifier

pytestmark = pytest.mark.django_db


def test_default_verifier_knows_the_hosted_cities_tenants_and_no_clients(demo):
    v = CityTenantVerifier()
    policy = v.tenant_policy(demo.ngsi_tenant)
    assert policy is not None and policy.public_types == frozenset()
    assert v.tenant_policy("no-such-city") is None
    assert v.authenticate("apikey", "anything") is None
    assert isinstance(get_verifier(), CityTenantVerifier)


def test_a_keys_file_comes_before_the_site_verifier(demo, tmp_path, monkeypatch):
    keys = tmp_path / "keys.json"
    keys.write_bytes(
        orjson.dumps(
            {
                "tenants": {"lab": {}},
                "keys": [{"sha256": hash_key("k1"), "tenant": "lab", "scopes": ["read"]}],
            }
        )
    )
    monkeypatch.setenv("HERZSTADT_NGSI_API_KEYS_FILE", str(keys))
    v = get_verifier(ngsi_config())
    assert v.authenticate("apikey", "k1").scopes == frozenset({Scope.READ})
    assert v.tenant_policy("lab") is not None
    assert v.tenant_policy(demo.ngsi_tenant) is not None  # the cities still exist
    assert v.tenant_policy("nope") is None


def test_public_url_of_the_site(settings):
    from herzstadt.urbandata.broker import public_url

    settings.HERZSTADT_PUBLIC_URL = "https://daten.example.org"
    assert public_url() == ngsi_config().public_url == "https://daten.example.org"
    settings.HERZSTADT_PUBLIC_URL = ""
    settings.ALLOWED_HOSTS = [".example.org", "herzstadt.example.org"]
    assert public_url() in ("https://herzstadt.example.org", "http://herzstadt.example.org:8000")
    assert ngsi_config().allowed_hosts == [".example.org", "herzstadt.example.org"]
