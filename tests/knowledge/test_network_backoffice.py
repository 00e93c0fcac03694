"""The back-office section "Städtenetzwerk": follow by address, sync now, remove, keys, adopt."""

from __future__ import annotations

import re

import pytest

from herzstadt.accounts.models import Role
from herzstadt.core.models import FieldOfAction, Measure
from herzstadt.knowledge.models import Partner, PartnerKey, PartnerMeasure, Reuse, SyncStatus
from herzstadt.knowledge.network import keys
from tests.conftest import bo_url, login
from tests.factories import make_city
from tests.knowledge.netfactories import shared_measure, solingen


@pytest.fixture
def net(transactional_db, monkeypatch, make_user):
    monkeypatch.setenv("HERZSTADT_NETWORK_ALLOW_PRIVATE", "1")
    home = make_city()
    sol = solingen()
    shared_measure(sol)
    staff = make_user(Role.STAFF, home)
    return home, sol, staff


def test_urls_follow_the_plan():
    assert bo_url("network-partners") == "/verwaltung/netzwerk/"
    assert bo_url("network-partner", pk=3) == "/verwaltung/netzwerk/3/"
    assert bo_url("network-adopt", pk=3) == "/verwaltung/netzwerk/uebernehmen/3/"


def test_only_staff_of_the_city(client, net, make_user, other_city):
    home, _sol, _staff = net
    url = bo_url("network-partners")
    assert client.get(url).status_code == 302  # sign in
    login(client, make_user())
    assert client.get(url).status_code == 403
    foreign = Partner.objects.create(
        city=other_city, base_url="https://x.example", remote_slug="x", name="X"
    )
    login(client, make_user(Role.STAFF, home))
    assert client.get(bo_url("network-partner", pk=foreign.pk)).status_code == 404
    assert client.post(bo_url("network-partner-sync", pk=foreign.pk)).status_code == 404


def test_follow_by_address_with_a_choice_of_cities(client, net, live_server):
    home, _sol, staff = net
    make_city(slug="cottbus", name="Cottbus")  # a second hosted city at the installation
    login(client, staff)
    url = bo_url("network-partners")
    r = client.post(url, {"url": live_server.url})
    assert r.status_code == 200 and not Partner.objects.exists()
    assert b'<select name="remote_slug"' in r.content and b"Cottbus" in r.content
    r = client.post(url, {"url": live_server.url, "remote_slug": "nirgendwo"})
    assert r.status_code == 400 and not Partner.objects.exists()
    r = client.post(url, {"url": live_server.url, "remote_slug": "solingen"})
    p = Partner.objects.get()
    assert r.status_code == 302 and r["Location"] == bo_url("network-partner", pk=p.pk)
    assert p.city == home and p.name == "Solingen" and p.status == SyncStatus.OK
    assert p.measures_url == f"{live_server.url}/api/v1/network/solingen/measures/"
    assert PartnerMeasure.objects.filter(partner=p).count() == 1
    page = client.get(bo_url("network-partners")).content.decode()
    assert "Solingen" in page and "1 Maßnahme" in page
    # twice: refused
    r = client.post(url, {"url": live_server.url, "remote_slug": "solingen"})
    assert r.status_code == 400 and Partner.objects.count() == 1


def test_follow_refuses_bad_addresses(client, net):
    _home, _sol, staff = net
    login(client, staff)
    for bad in ("ftp://example.org", "https://user:pw@example.org", "nonsense address"):
        r = client.post(bo_url("network-partners"), {"url": bad})
        assert r.status_code == 400, bad
    from tests.serverutil import free_port

    r = client.post(bo_url("network-partners"), {"url": f"http://127.0.0.1:{free_port()}"})
    assert r.status_code == 400 and "refused the connection" in r.content.decode()
    assert not Partner.objects.exists()


def test_sync_now_edit_and_remove(client, net, live_server):
    home, _sol, staff = net
    login(client, staff)
    p = Partner.objects.create(
        city=home,
        base_url=live_server.url,
        remote_slug="solingen",
        name="Solingen",
        measures_url=f"{live_server.url}/api/v1/network/solingen/measures/",
    )
    r = client.post(bo_url("network-partner-sync", pk=p.pk))
    assert r.status_code == 302 and PartnerMeasure.objects.count() == 1
    page = client.get(bo_url("network-partner", pk=p.pk)).content.decode()
    assert (
        "Mobilitätsstation" in page
        and bo_url("network-adopt", pk=PartnerMeasure.objects.get().pk) in page
    )
    Partner.objects.filter(pk=p.pk).update(api_key="hzn_secret-of-the-partner")
    assert (
        "hzn_secret-of-the-partner"
        not in client.get(bo_url("network-partner", pk=p.pk)).content.decode()
    )
    r = client.post(bo_url("network-partner", pk=p.pk), {"name": "Klingenstadt", "enabled": ""})
    p.refresh_from_db()
    assert r.status_code == 302 and p.name == "Klingenstadt" and not p.enabled
    assert p.api_key == "hzn_secret-of-the-partner"  # empty keeps the key
    client.post(bo_url("network-partner", pk=p.pk), {"name": "Klingenstadt", "api_key": "hzn_new"})
    p.refresh_from_db()
    assert p.api_key == "hzn_new" and not p.enabled
    assert client.get(bo_url("network-partner-delete", pk=p.pk)).status_code == 405
    client.post(bo_url("network-partner-delete", pk=p.pk))
    assert not Partner.objects.exists() and not PartnerMeasure.objects.exists()


def test_keys_are_shown_once_and_stored_hashed(client, net):
    _home, _sol, staff = net
    login(client, staff)
    r = client.post(bo_url("network-keys"), {"name": "Kaiserslautern"})
    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    row = PartnerKey.objects.get()
    key = re.search(r"hzn_[A-Za-z0-9_-]+", r.content.decode()).group(0)
    assert keys.check(key) == row and key not in row.key_hash
    assert key not in client.get(bo_url("network-keys")).content.decode()
    client.post(bo_url("network-key-revoke", pk=row.pk))
    assert keys.check(key) is None


def test_adopt_page_creates_the_measure(client, net, live_server):
    home, sol, staff = net
    _row, key = keys.issue(sol, "Kaiserslautern")
    p = Partner.objects.create(
        city=home,
        base_url=live_server.url,
        remote_slug="solingen",
        name="Solingen",
        measures_url=f"{live_server.url}/api/v1/network/solingen/measures/",
        api_key=key,
    )
    login(client, staff)
    client.post(bo_url("network-partner-sync", pk=p.pk))
    pm = PartnerMeasure.objects.get()
    url = bo_url("network-adopt", pk=pm.pk)
    page = client.get(url)
    assert page.status_code == 200 and 'value="mobilitaetsstation"' in page.content.decode()
    foa = FieldOfAction.objects.create(city=home, slug="mobil", name="Mobilität")
    r = client.post(
        url,
        {
            "slug": "mobilstation",
            "title": "Mobilstation Pfaff",
            "field_of_action": foa.pk,
            "profile": "on",
            "milestones": "on",
            "start_date": "2027-01-01",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    m = Measure.objects.get(city=home, slug="mobilstation")
    assert m.title == "Mobilstation Pfaff" and m.profile.origin_uri == pm.remote_id
    assert Reuse.objects.get().adopted_title == "Mobilstation Pfaff"
    # the same short name again: a friendly form error
    r = client.post(url, {"slug": "mobilstation", "title": "x", "field_of_action": foa.pk})
    assert r.status_code == 400
    # a foreign city's field of action is not offered
    other = FieldOfAction.objects.create(city=sol, slug="fremd", name="Fremd")
    r = client.post(url, {"slug": "neu", "title": "x", "field_of_action": other.pk})
    assert r.status_code == 400 and not Measure.objects.filter(city=home, slug="neu").exists()


def test_back_office_home_summarises_the_network(client, net):
    home, _sol, staff = net
    Partner.objects.create(city=home, base_url="https://a.example", remote_slug="a", name="A")
    Partner.objects.create(
        city=home,
        base_url="https://b.example",
        remote_slug="b",
        name="B",
        status=SyncStatus.ERROR,
    )
    login(client, staff)
    page = client.get(bo_url("home")).content.decode()
    assert "Städtenetzwerk" in page and "2 Partnerstädten gefolgt · 1 nicht erreichbar" in page
