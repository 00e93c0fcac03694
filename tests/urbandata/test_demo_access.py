"""The demo publishes the Pfaff-Areal's non-personal types as open data and prints a demo API key
(read and write) for the data engineer; each demo load replaces the key."""

import pytest

from herzstadt.core.models import City
from herzstadt.demo import load_demo
from herzstadt.ngsi.auth import Scope
from herzstadt.urbandata.demo import DEMO_CLIENT_NAME
from herzstadt.urbandata.models import ApiClient
from herzstadt.urbandata.verifier import SiteVerifier

pytestmark = pytest.mark.django_db


def _key(summary: str) -> str:
    return summary.split("Demo API key for ", 1)[1].split(": ", 1)[1].split()[0]


def test_the_demo_prints_a_working_key_and_publishes_open_data():
    summary = load_demo()
    key = _key(summary)
    assert key.startswith("hzk_") and f"curl -H 'X-API-Key: {key}'" in summary
    assert "/ngsi-ld/v1/entities?type=https%3A%2F%2F" in summary
    city = City.objects.get(slug="kaiserslautern")
    v = SiteVerifier()
    p = v.authenticate("apikey", key)
    assert p.scopes == frozenset({Scope.READ, Scope.WRITE}) and p.tenant == city.ngsi_tenant
    public = {t.rsplit("/", 1)[-1] for t in v.tenant_policy(city.ngsi_tenant).public_types}
    assert {"OffStreetParking", "AirQualityObserved", "WeatherObserved"} <= public
    assert not public & {"SmartMeteringObservation", "IssueReporting"}

    again = _key(load_demo())
    assert again != key and v.authenticate("apikey", key) is None
    assert v.authenticate("apikey", again) is not None
    assert ApiClient.objects.filter(city=city, name=DEMO_CLIENT_NAME).count() == 1
