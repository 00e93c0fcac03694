"""Harvesting a partner over HTTP (pytest-django's live server plays the partner installation, a
small hand-written server the misbehaving one), adopting a measure and reporting it back."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import threading

import orjson
import pytest
from django.utils import timezone

from herzstadt.core import registry
from herzstadt.core.models import FieldOfAction, Measure
from herzstadt.knowledge.models import MeasureProfile, Partner, PartnerMeasure, Reuse, SyncStatus
from herzstadt.knowledge.network import adopt, client, harvest, keys
from tests.factories import make_city
from tests.knowledge.netfactories import shared_measure, solingen


@pytest.fixture
def allow_private(monkeypatch):
    monkeypatch.setenv("HERZSTADT_NETWORK_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("HERZSTADT_NETWORK_TIMEOUT", "5")


@pytest.fixture
def origin(transactional_db):
    city = solingen()
    shared_measure(city)
    shared_measure(city, slug="hitzeaktionsplan", title="Hitzeaktionsplan")
    return city


@pytest.fixture
def follower(transactional_db):
    return make_city()


@pytest.fixture
def spy(monkeypatch):
    """The statuses of every request the network client made."""
    seen: list[tuple[str, str, int]] = []
    real = client._Fetcher.exchange

    def exchange(self, method, url, headers, body, end):
        answer = real(self, method, url, headers, body, end)
        seen.append((method, url, answer.status))
        return answer

    monkeypatch.setattr(client._Fetcher, "exchange", exchange)
    return seen


def _partner(follower, base, slug="solingen", **kw):
    return Partner.objects.create(
        city=follower,
        base_url=base,
        remote_slug=slug,
        name="Solingen",
        measures_url=f"{base}/api/v1/network/{slug}/measures/",
        dcat_url=kw.pop("dcat_url", ""),
        **kw,
    )


def test_harvest_then_304_then_vanished_measures_go(
    live_server, origin, follower, allow_private, spy
):
    p = _partner(follower, live_server.url)
    assert harvest.sync_partner(p)
    p.refresh_from_db()
    assert p.status == SyncStatus.OK and p.last_error == "" and p.etag
    copies = PartnerMeasure.objects.filter(partner=p).order_by("title")
    assert [c.title for c in copies] == ["Hitzeaktionsplan", "Mobilitätsstation"]
    copy = copies[1]
    assert copy.city == follower and copy.phase == "pilot" and copy.entity_types == ["ParkingSpot"]
    assert copy.data["city"]["slug"] == "solingen" and copy.version == 1
    assert p.next_sync_at > timezone.now() + dt.timedelta(minutes=50)
    # unchanged: one conditional request, answered 304
    spy.clear()
    assert harvest.sync_partner(p)
    assert [s for _m, _u, s in spy] == [304]
    # a measure no longer shared disappears from the copy after a complete sync
    profile = MeasureProfile.objects.get(measure__slug="hitzeaktionsplan")
    profile.shared = False
    profile.save()
    p.refresh_from_db()
    assert harvest.sync_partner(p)
    assert list(PartnerMeasure.objects.filter(partner=p).values_list("title", flat=True)) == [
        "Mobilitätsstation"
    ]


def test_all_pages_are_read(live_server, origin, follower, allow_private, monkeypatch, spy):
    for n in range(3):
        shared_measure(origin, slug=f"massnahme-{n}", title=f"Maßnahme {n}")
    monkeypatch.setattr("herzstadt.knowledge.network.conf.PAGE_LIMIT", 2)
    p = _partner(follower, live_server.url)
    assert harvest.sync_partner(p)
    assert PartnerMeasure.objects.filter(partner=p).count() == 5
    assert len(spy) == 3


def test_private_addresses_are_not_fetched_by_default(live_server, origin, follower, monkeypatch):
    monkeypatch.delenv("HERZSTADT_NETWORK_ALLOW_PRIVATE", raising=False)
    monkeypatch.delenv("HERZSTADT_NETWORK_SELF_URL", raising=False)
    monkeypatch.delenv("HERZSTADT_PORT", raising=False)
    p = _partner(follower, live_server.url)
    assert not harvest.sync_partner(p)
    p.refresh_from_db()
    assert p.status == SyncStatus.ERROR and "private or local address" in p.last_error
    assert not PartnerMeasure.objects.exists()
    # this installation's own address is allowed (the demo follows itself)
    monkeypatch.setenv("HERZSTADT_NETWORK_SELF_URL", live_server.url)
    assert harvest.sync_partner(p)


def test_urls_with_credentials_or_other_schemes_are_refused():
    for url in ("ftp://example.org/", "https://user:pw@example.org/", "file:///etc/passwd", "x"):
        with pytest.raises(client.NetworkError):
            client.check_url(url)


class Misbehaving(http.server.BaseHTTPRequestHandler):
    """Answers as ``self.server.mode`` says."""

    def log_message(self, *args):
        pass

    def handle(self):
        with contextlib.suppress(ConnectionError):  # the client hung up on a huge or slow answer
            super().handle()

    def do_GET(self):
        mode = self.server.mode
        if mode == "midway":  # page 1 fine, page 2 fails: the partner went down mid-sync
            if "page=2" in self.path:
                mode = "error"
            else:
                base = f"http://127.0.0.1:{self.server.server_address[1]}"
                page = {
                    "items": [{"id": f"{base}/m/neu/", "title": "Neu auf Seite 1"}],
                    "next": f"{base}/api/v1/network/x/measures/?page=2",
                }
                body = orjson.dumps(page)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
        if mode == "slow":
            self.server.release.wait(10)
            return
        status, body = {
            "garbage": (200, b"<html>Wartungsarbeiten</html>"),
            "shape": (200, b'{"items": {"nope": 1}}'),
            "item": (200, b'{"items": [{"id": "javascript:x", "title": "t"}]}'),
            "error": (503, b"busy"),
            "huge": (200, b"[" + b"1," * (3 * 1024 * 1024) + b"1]"),
            "elsewhere": (200, b'{"items": [], "next": "http://example.org/steal"}'),
        }[mode]
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def bad_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Misbehaving)
    server.daemon_threads = True
    server.mode = "garbage"
    server.release = threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        ("garbage", "not JSON"),
        ("shape", "not a measure catalogue"),
        ("item", "no valid address"),
        ("error", "HTTP 503"),
        ("huge", "too large"),
        ("slow", "did not answer in time"),
        ("elsewhere", "not on the partner's address"),
    ],
)
def test_a_misbehaving_partner_keeps_the_stale_copy(
    bad_server, follower, allow_private, monkeypatch, mode, words
):
    monkeypatch.setenv("HERZSTADT_NETWORK_TIMEOUT", "0.5")
    base = f"http://127.0.0.1:{bad_server.server_address[1]}"
    p = _partner(follower, base, status=SyncStatus.OK)
    PartnerMeasure.objects.create(partner=p, remote_id=f"{base}/x/", title="Alte Kopie")
    bad_server.mode = mode
    assert not harvest.sync_partner(p)
    p.refresh_from_db()
    assert p.status == SyncStatus.ERROR and words in p.last_error, p.last_error
    assert p.failures == 1
    assert list(PartnerMeasure.objects.values_list("title", flat=True)) == ["Alte Kopie"]


def test_refused_connection_and_growing_backoff(follower, allow_private):
    from tests.serverutil import free_port

    p = _partner(follower, f"http://127.0.0.1:{free_port()}")
    pauses = []
    for _ in range(3):
        before = timezone.now()
        assert not harvest.sync_partner(p)
        p.refresh_from_db()
        assert "refused the connection" in p.last_error
        pauses.append((p.next_sync_at - before).total_seconds())
    assert p.failures == 3
    assert 55 < pauses[0] < pauses[1] < pauses[2] <= 3600


def test_claims_are_exclusive(follower):
    p = _partner(follower, "https://partner.example")
    first = harvest.claim_due()
    assert [x.pk for x in first] == [p.pk]
    assert harvest.claim_due() == []  # leased
    Partner.objects.filter(pk=p.pk).update(next_sync_at=timezone.now() - dt.timedelta(seconds=1))
    assert len(harvest.claim_due()) == 1
    Partner.objects.filter(pk=p.pk).update(enabled=False, next_sync_at=None)
    assert harvest.claim_due() == []


def test_dcat_copy_and_its_failure_never_breaks_the_sync(
    live_server, origin, follower, allow_private, bad_server
):
    base = f"http://127.0.0.1:{bad_server.server_address[1]}"
    p = _partner(follower, live_server.url, dcat_url=f"{base}/dcat/catalog.jsonld")
    bad_server.mode = "error"
    assert harvest.sync_partner(p)
    p.refresh_from_db()
    assert p.status == SyncStatus.OK and "503" in p.datasets_error
    assert PartnerMeasure.objects.filter(partner=p).count() == 2


def test_parse_dcat_compacted_and_expanded():
    compacted = {
        "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/"},
        "@graph": [
            {"@id": "https://x.example/cat", "@type": "dcat:Catalog"},
            {
                "@id": "https://x.example/ds/1",
                "@type": "dcat:Dataset",
                "dct:title": [
                    {"@language": "en", "@value": "Trees"},
                    {"@language": "de", "@value": "Bäume"},
                ],
                "dcat:landingPage": {"@id": "https://x.example/baeume"},
            },
            {"@id": "javascript:alert(1)", "@type": "dcat:Dataset", "dct:title": "Böse"},
        ],
    }
    assert harvest.parse_dcat(compacted) == [
        {"title": "Bäume", "url": "https://x.example/baeume"},
        {"title": "Böse", "url": ""},
    ]
    expanded = [
        {
            "@id": "https://y.example/ds",
            "@type": ["http://www.w3.org/ns/dcat#Dataset"],
            "http://purl.org/dc/terms/title": [{"@value": "Parken"}],
        }
    ]
    assert harvest.parse_dcat(expanded) == [{"title": "Parken", "url": "https://y.example/ds"}]
    assert harvest.parse_dcat("nonsense") == []


@pytest.fixture
def throwaway_part():
    made = []

    def do_adopt(measure, data, user):
        if data.get("refuse"):
            raise ValueError("refused")
        made.append((measure.slug, data))
        return "one thing"

    part = registry.TransferPart(
        key="test-part",
        label="Test part",
        export=lambda m: {"slug": m.slug, "refuse": m.slug == "hitzeaktionsplan"},
        adopt=do_adopt,
    )
    pillar = registry.Pillar(name="network-test-part", transfer_parts=(part,))
    registry.register(pillar)
    yield made
    registry.unregister(pillar.name)


def test_adopt_with_provenance_and_report_back(
    live_server, origin, follower, allow_private, throwaway_part, make_user
):
    _row, key = keys.issue(origin, "Kaiserslautern")
    p = _partner(follower, live_server.url, api_key=key)
    assert harvest.sync_partner(p)
    pm = PartnerMeasure.objects.get(partner=p, title="Mobilitätsstation")
    assert [x.key for x in adopt.available_parts(pm)] == ["test-part"]
    foa = FieldOfAction.objects.create(city=follower, slug="mobil", name="Mobilität")
    choices = adopt.Choices(
        slug="mobilstation",
        field_of_action=foa,
        start_date=dt.date(2027, 1, 1),
        parts=["test-part"],
    )
    m = adopt.adopt_measure(make_user(), pm, choices)
    assert m.city == follower and m.title == "Mobilitätsstation"
    prof = m.profile
    assert prof.origin_uri == pm.remote_id and prof.origin_city == "Solingen"
    assert prof.origin_version == 1 and prof.adopted_at is not None
    assert prof.adopted_parts == ["profile", "milestones", "test-part"]
    assert prof.problem == "Zu viele Autos in der Innenstadt."
    assert str(prof.cost_investment_eur) == "120000.00"
    assert [(x.date, x.title, x.done) for x in m.milestones.all()] == [
        (dt.date(2027, 1, 1), "Ausschreibung", False),
        (dt.date(2027, 7, 4), "Eröffnung", False),  # same 184 days apart
    ]
    assert throwaway_part == [("mobilstation", {"slug": "mobilitaetsstation", "refuse": False})]
    # the origin was told
    assert not prof.report_pending, prof.report_error
    reuse = Reuse.objects.get(measure__city=origin)
    assert reuse.adopter_name == "Kaiserslautern" and reuse.origin_version == 1


def test_a_refusing_part_rolls_everything_back(
    live_server, origin, follower, allow_private, throwaway_part, make_user
):
    p = _partner(follower, live_server.url)
    assert harvest.sync_partner(p)
    pm = PartnerMeasure.objects.get(partner=p, title="Hitzeaktionsplan")
    foa = FieldOfAction.objects.create(city=follower, slug="klima", name="Klima")
    with pytest.raises(adopt.AdoptionError):
        adopt.adopt_measure(
            make_user(), pm, adopt.Choices(slug="hitze", field_of_action=foa, parts=["test-part"])
        )
    assert not Measure.objects.filter(city=follower).exists()
    with pytest.raises(adopt.AdoptionError):
        adopt.adopt_measure(
            make_user(), pm, adopt.Choices(slug="hitze", field_of_action=foa, parts=["unknown"])
        )


def test_failed_report_is_retried(live_server, origin, follower, allow_private, make_user):
    p = _partner(follower, live_server.url)  # no key yet
    assert harvest.sync_partner(p)
    pm = PartnerMeasure.objects.get(partner=p, title="Mobilitätsstation")
    foa = FieldOfAction.objects.create(city=follower, slug="mobil", name="Mobilität")
    m = adopt.adopt_measure(make_user(), pm, adopt.Choices(slug="mobil", field_of_action=foa))
    prof = MeasureProfile.objects.get(measure=m)
    assert prof.report_pending and "No key" in prof.report_error
    Partner.objects.filter(pk=p.pk).update(api_key="hzn_wrong")
    assert adopt.retry_pending_reports() == 0
    prof.refresh_from_db()
    assert "HTTP 401" in prof.report_error
    _row, key = keys.issue(origin, "Kaiserslautern")
    Partner.objects.filter(pk=p.pk).update(api_key=key)
    assert adopt.retry_pending_reports() == 1
    prof.refresh_from_db()
    assert not prof.report_pending and Reuse.objects.filter(measure__city=origin).count() == 1
    assert adopt.retry_pending_reports() == 0


def test_the_worker_task_harvests_due_partners(live_server, origin, follower, allow_private):
    import time

    assert "knowledge-harvest" in [t.key for t in registry.background_tasks()]
    task = next(t for t in registry.background_tasks() if t.key == "knowledge-harvest")
    p = _partner(follower, live_server.url)
    stop = threading.Event()
    thread = threading.Thread(target=task.run, args=(stop,), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            p.refresh_from_db()
            if p.status != SyncStatus.NEW:
                break
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join(15)
    assert not thread.is_alive()
    assert p.status == SyncStatus.OK and PartnerMeasure.objects.filter(partner=p).count() == 2


def test_a_partner_failing_mid_sync_changes_nothing(bad_server, follower, allow_private):
    base = f"http://127.0.0.1:{bad_server.server_address[1]}"
    p = _partner(follower, base, status=SyncStatus.OK)
    PartnerMeasure.objects.create(partner=p, remote_id=f"{base}/m/alt/", title="Alte Kopie")
    bad_server.mode = "midway"
    assert not harvest.sync_partner(p)
    p.refresh_from_db()
    assert p.status == SyncStatus.ERROR and "HTTP 503" in p.last_error
    # neither the new measure of page 1 nor the deletion of the old one: all or nothing
    assert list(PartnerMeasure.objects.values_list("title", flat=True)) == ["Alte Kopie"]
