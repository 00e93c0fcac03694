"""The demo network: hosted cities follow each other at the installation's own address."""

from __future__ import annotations

from django.utils import timezone

from herzstadt.core import registry
from herzstadt.knowledge.models import Partner, PartnerMeasure, SyncStatus
from herzstadt.knowledge.network import harvest, keys
from herzstadt.knowledge.network.demo import load_partners
from tests.factories import make_city
from tests.knowledge.netfactories import shared_measure


def test_demo_cities_follow_each_other_over_http(transactional_db, live_server, monkeypatch):
    monkeypatch.delenv("HERZSTADT_NETWORK_ALLOW_PRIVATE", raising=False)
    monkeypatch.setenv("HERZSTADT_NETWORK_SELF_URL", live_server.url)
    kl = make_city()
    sol = make_city(slug="solingen", name="Solingen")
    wob = make_city(slug="wolfsburg", name="Wolfsburg")
    shared_measure(kl, slug="pfaff", title="Pfaff-Quartier")
    shared_measure(sol)
    context = registry.DemoContext(cities={c.slug: c for c in (kl, sol, wob)}, city=kl)
    assert "4 partner links" in load_partners(context)
    first_keys = dict(Partner.objects.values_list("pk", "api_key"))
    load_partners(context)  # idempotent: same rows, same keys
    assert dict(Partner.objects.values_list("pk", "api_key")) == first_keys
    assert {(p.city.slug, p.remote_slug) for p in Partner.objects.all()} == {
        ("kaiserslautern", "solingen"),
        ("kaiserslautern", "wolfsburg"),
        ("solingen", "kaiserslautern"),
        ("wolfsburg", "kaiserslautern"),
    }
    for p in Partner.objects.all():
        assert keys.check(p.api_key).city.slug == p.remote_slug
    assert harvest.claim_due() == []  # the first harvest waits for the server
    Partner.objects.update(next_sync_at=timezone.now())
    assert harvest.run_once(retry_reports=False) == 4
    assert set(Partner.objects.values_list("status", flat=True)) == {SyncStatus.OK}
    assert list(PartnerMeasure.objects.filter(city=kl).values_list("title", flat=True)) == [
        "Mobilitätsstation"
    ]
    assert PartnerMeasure.objects.filter(city=wob, title="Pfaff-Quartier").exists()


def test_one_hosted_city_has_no_partners(transactional_db):
    kl = make_city()
    context = registry.DemoContext(cities={"kaiserslautern": kl}, city=kl)
    assert load_partners(context).startswith("no partners")
    assert not Partner.objects.exists()
