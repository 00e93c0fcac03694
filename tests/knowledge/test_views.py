"""The public pages: the catalogue (filters, search, pagination, query counts), a profile page, a
partner measure's page (the partner's data escaped and checked) and the panel on the measure page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from herzstadt.accounts.models import Role
from herzstadt.knowledge.models import Reuse, SyncStatus
from tests.conftest import login

pytestmark = pytest.mark.django_db


def url(name: str, **kwargs) -> str:
    with translation.override("de"):
        return reverse(f"knowledge:{name}", kwargs=kwargs or None)


def test_german_addresses():
    assert url("catalogue") == "/wissen/"
    assert url("profile", slug="x") == "/wissen/x/"
    assert url("partner-measure", pk=3) == "/wissen/netzwerk/3/"


def test_catalogue_lists_own_and_partner_measures(
    client, city, make_profile, make_partner, make_partner_measure
):
    make_profile(title="Smarte Laternen", phase="pilot")
    make_profile(title="Geheimer Entwurf", shared=False)
    make_partner_measure(make_partner("Wolfsburg"), title="Parkplatzsensoren")
    html = client.get(url("catalogue")).content.decode()
    assert "Smarte Laternen" in html
    assert "Parkplatzsensoren" in html
    assert "aus Wolfsburg" in html
    assert "Geheimer Entwurf" not in html
    assert "2 Maßnahmen gefunden" in html


def test_catalogue_filters(client, city, make_profile, make_partner, make_partner_measure):
    make_profile(title="Smarte Laternen", phase="pilot", entity_types=["Streetlight"])
    make_profile(title="Stadtbäume", phase="operation", entity_types=["GreenspaceRecord"])
    partner = make_partner("Wolfsburg")
    make_partner_measure(
        partner,
        title="Parkplatzsensoren",
        phase="pilot",
        field_of_action="Verkehr",
        entity_types=["ParkingSpot"],
    )

    def shown(**params) -> set[str]:
        response = client.get(url("catalogue"), params)
        assert response.status_code == 200
        return {e.title for e in response.context["page"].object_list}

    assert shown(phase="pilot") == {"Smarte Laternen", "Parkplatzsensoren"}
    assert shown(source="here") == {"Smarte Laternen", "Stadtbäume"}
    assert shown(source=str(partner.pk)) == {"Parkplatzsensoren"}
    assert shown(model="ParkingSpot") == {"Parkplatzsensoren"}
    assert shown(field="Verkehr") == {"Parkplatzsensoren"}
    assert shown(field="Mobilität", phase="operation") == {"Stadtbäume"}
    assert shown(q="Laterne") == {"Smarte Laternen"}
    # a value that is not offered: say so and show nothing, never everything
    response = client.get(url("catalogue"), {"phase": "nonsense"})
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == []
    assert "Filter ungültig" in response.content.decode()
    assert client.get(url("catalogue"), {"q": "x" * 101}).status_code == 200


def test_catalogue_pages_and_its_cost_does_not_grow(
    client, city, make_profile, make_partner, make_partner_measure
):
    partner = make_partner("Wolfsburg")
    make_profile(title="A1", entity_types=["ParkingSpot"])
    make_partner_measure(partner, title="B1", entity_types=["Streetlight"])
    client.get(url("catalogue"))  # the city is looked up once, then cached
    with CaptureQueriesContext(connection) as few:
        assert client.get(url("catalogue")).status_code == 200
    for i in range(2, 26):
        make_profile(title=f"A{i:02}", entity_types=[f"Type{i}"])
        make_partner_measure(make_partner(f"Partner {i}"), title=f"B{i:02}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(url("catalogue"))
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 20
    assert response.context["total"] == 50
    assert len(many) == len(few)
    with CaptureQueriesContext(connection) as searched:
        response = client.get(url("catalogue"), {"q": "A", "page": "2"})
    assert response.context["page"].number == 2
    assert len(searched) <= len(few)


def test_profile_page(client, city, make_profile, make_user):
    profile = make_profile(
        title="Smarte Laternen",
        phase="pilot",
        problem="Dunkle Wege.",
        implementation_steps=["Bedarf erheben", "Leuchten tauschen"],
        entity_types=["Streetlight"],
        datasets=[{"title": "Leuchtenkataster", "url": "https://daten.example/leuchten"}],
        software=[
            {
                "name": "LightCtl",
                "url": "https://git.example/lightctl",
                "publiccode_url": "https://git.example/lightctl/publiccode.yml",
                "licence": "EUPL-1.2",
            },
            {"name": "Böse", "url": "javascript:alert(1)"},
        ],
        cost_investment_eur=120000,
        cost_operation_eur=5000,
        obstacles="Lieferzeiten.",
        success_factors="Frühe Beteiligung.",
        contact_name="Amt für Licht",
        contact_email="licht@example.org",
    )
    html = client.get(url("profile", slug=profile.measure.slug)).content.decode()
    for text in (
        "Smarte Laternen",
        "Pilot",
        "Dunkle Wege.",
        "<li>Leuchten tauschen</li>",
        "<code>Streetlight</code>",
        'href="https://daten.example/leuchten"',
        'href="https://git.example/lightctl"',
        "EUPL-1.2",
        "publiccode.yml",
        "120.000 €",
        "5.000 €",
        "Lieferzeiten.",
        "Frühe Beteiligung.",
        "mailto:licht@example.org",
    ):
        assert text in html, text
    assert "javascript:" not in html
    # a profile that is not shared: only staff of the city see it
    profile.shared = False
    profile.save()
    assert client.get(url("profile", slug=profile.measure.slug)).status_code == 404
    login(client, make_user(Role.STAFF, city))
    html = client.get(url("profile", slug=profile.measure.slug)).content.decode()
    assert "nicht geteilt" in html


def test_no_profile_is_404(client, city, make_profile):
    from tests.factories import make_measure

    measure = make_measure(city, slug="ohne")
    assert client.get(url("profile", slug=measure.slug)).status_code == 404
    assert client.get(url("profile", slug="gibt-es-nicht")).status_code == 404


def test_provenance_and_reuse_graph(client, city, make_profile):
    adopted = timezone.make_aware(dt.datetime(2026, 3, 5, 12))
    profile = make_profile(
        title="Smarte Laternen",
        origin_uri="https://wolfsburg.example/api/v1/network/wolfsburg/measures/licht/",
        origin_city="Wolfsburg",
        origin_title="Licht nach Bedarf",
        origin_version=3,
        adopted_at=adopted,
    )
    Reuse.objects.create(
        measure=profile.measure,
        adopter_name="Cottbus",
        adopted_measure_url="https://cottbus.example/massnahmen/licht/",
        adopted_title="Laternen Cottbus",
        origin_version=2,
    )
    html = client.get(url("profile", slug=profile.measure.slug)).content.decode()
    assert "Übernommen aus Wolfsburg: Licht nach Bedarf, Version 3, am 5. März 2026" in html
    assert 'href="https://wolfsburg.example/api/v1/network/wolfsburg/measures/licht/"' in html
    assert "Nachgenutzt von" in html
    assert 'href="https://cottbus.example/massnahmen/licht/"' in html
    assert html.index("Wolfsburg: Licht nach Bedarf") < html.index("Cottbus: Laternen Cottbus")
    # the panel on the core measure page
    page = client.get(profile.measure.get_absolute_url()).content.decode()
    assert "Wissen für andere Städte" in page
    assert "Übernommen aus Wolfsburg" in page
    assert "Cottbus: Laternen Cottbus" in page
    assert f'href="{url("profile", slug=profile.measure.slug)}"' in page


def test_no_panel_without_shared_profile(client, city, make_profile):
    profile = make_profile(title="Entwurf", shared=False)
    page = client.get(profile.measure.get_absolute_url()).content.decode()
    assert "Wissen für andere Städte" not in page


def test_partner_measure_page_escapes_and_tolerates_odd_data(
    client, city, make_partner, make_partner_measure
):
    partner = make_partner("Wolfsburg", status=SyncStatus.OK, last_success_at=timezone.now())
    pm = make_partner_measure(
        partner,
        title="<script>alert(1)</script>Parkplätze",
        phase="pilot",
        entity_types=["ParkingSpot"],
        version=4,
        data={
            "description": "<img src=x onerror=alert(1)>Beschreibung",
            "problem": 42,
            "goals": ["Weniger Suchverkehr", {"x": 1}, None],
            "implementation_steps": "kein Array",
            "software": [
                {"name": "ParkApp", "url": "javascript:alert(1)", "licence": "MIT"},
                "kaputt",
                {"url": "https://ohne-name.example"},
            ],
            "datasets": [{"title": "Parkdaten", "url": "https://daten.example/park"}],
            "cost_investment_eur": "NaN",
            "cost_operation_eur": 1500,
            "milestones": [{"date": "2026-13-45", "title": "Start", "done": "yes"}],
            "city": {"name": "Wolfsburg"},
            "provenance": {
                "origin_city": "Solingen",
                "origin_title": "Park",
                "origin_uri": "ftp://x",
            },
            "reuses": [
                {"adopter_name": "Cottbus", "adopted_measure_url": "https://cottbus.example/p"}
            ],
            "contact_email": "keine adresse",
        },
    )
    response = client.get(url("partner-measure", pk=pm.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    assert "<img src=x" not in html
    assert "javascript:" not in html
    assert "ftp://x" not in html
    assert "Weniger Suchverkehr" in html
    assert "ParkApp" in html and "MIT" in html
    assert 'href="https://daten.example/park"' in html
    assert "1.500 €" in html
    assert "Übernommen aus Solingen: Park" in html
    assert 'href="https://cottbus.example/p"' in html
    assert "Stand:" in html
    assert "nicht erreicht" not in html
    # the partner's last synchronisation failed: the page says the copy may be out of date
    partner.status = SyncStatus.ERROR
    partner.save()
    html = client.get(url("partner-measure", pk=pm.pk)).content.decode()
    assert "konnte beim letzten Versuch nicht erreicht werden" in html
    # data that is not even an object
    pm.data = ["kaputt"]
    pm.save()
    assert client.get(url("partner-measure", pk=pm.pk)).status_code == 200


def test_partner_measure_of_another_city_or_unfollowed_partner_is_404(
    client, city, other_city, make_partner, make_partner_measure
):
    from herzstadt.knowledge.models import Partner

    foreign = Partner.objects.create(
        city=other_city, base_url="https://x.example", remote_slug="x", name="X"
    )
    pm = make_partner_measure(foreign)
    assert client.get(url("partner-measure", pk=pm.pk)).status_code == 404
    partner = make_partner(enabled=False)
    pm = make_partner_measure(partner)
    assert client.get(url("partner-measure", pk=pm.pk)).status_code == 404


def test_main_menu_links_the_catalogue(client, city):
    html = client.get("/").content.decode()
    assert 'href="/wissen/"' in html


def test_profile_page_links_the_dcat_alternates_when_that_part_is_installed(
    client, city, make_profile, tmp_path, settings
):
    profile = make_profile(title="Smarte Laternen")
    page = url("profile", slug=profile.measure.slug)
    assert client.get(page).status_code == 200
    folder = tmp_path / "knowledge" / "dcat"
    folder.mkdir(parents=True)
    (folder / "_alternate.html").write_text(
        '<link rel="alternate" type="text/turtle" href="/dcat/measures/{{ measure.slug }}.ttl">'
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [str(tmp_path), *settings.TEMPLATES[0].get("DIRS", [])]}
    ]
    html = client.get(page).content.decode()
    assert f'href="/dcat/measures/{profile.measure.slug}.ttl"' in html


def test_catalogue_in_english_shows_translated_titles(client, city, make_profile):
    make_profile(
        title="Smarte Laternen",
        measure_fields={"i18n": {"en": {"title": "Smart street lights", "summary": "Light."}}},
    )
    with translation.override("en"):
        address = reverse("knowledge:catalogue")
    assert address == "/en/knowledge/"
    html = client.get(address).content.decode()
    assert "Smart street lights" in html
    assert "1 measure found" in html


def test_adopt_link_for_staff_only(client, city, make_user, make_partner, make_partner_measure):
    pm = make_partner_measure(make_partner())
    page = url("partner-measure", pk=pm.pk)
    with translation.override("de"):
        adopt = reverse("backoffice:network-adopt", kwargs={"pk": pm.pk})
    login(client, make_user(Role.STAFF, city))
    assert f'<a class="button" href="{adopt}">Übernehmen</a>' in client.get(page).content.decode()
    client.logout()
    login(client, make_user())
    assert "Übernehmen" not in client.get(page).content.decode()


def test_profile_in_english_uses_its_translation(client, city, make_profile):
    profile = make_profile(
        title="Smarte Laternen",
        problem="Dunkle Wege.",
        i18n={"en": {"problem": "Dark paths.", "implementation_steps": ["Survey", "Replace"]}},
        implementation_steps=["Erheben", "Tauschen"],
    )
    with translation.override("en"):
        address = reverse("knowledge:profile", kwargs={"slug": profile.measure.slug})
    html = client.get(address).content.decode()
    assert "Dark paths." in html and "<li>Replace</li>" in html
    assert "Dunkle Wege." not in html


def test_data_models_link_the_citys_open_data(client, city, make_profile, monkeypatch):
    from herzstadt.core import registry

    profile = make_profile(title="Luftmessnetz", entity_types=["AirQualityObserved", "Streetlight"])
    published = registry.Dataset(
        identifier="test-air",
        title="Luft",
        description="Luft",
        distributions=(
            registry.Distribution(
                url="/ngsi-ld/v1/entities?type=AirQualityObserved",
                media_type="application/json",
                format="NGSI-LD",
            ),
        ),
        licence="http://dcat-ap.de/def/licenses/dl-by-de/2.0",
        keywords=("AirQualityObserved", "Luftqualität"),
    )
    monkeypatch.setattr(registry, "datasets", lambda c: [published])
    html = client.get(url("profile", slug=profile.measure.slug)).content.decode()
    assert 'href="/ngsi-ld/v1/entities?type=AirQualityObserved"' in html
    assert html.count("offene Daten von Kaiserslautern") == 1  # none for Streetlight

    def broken(c):
        raise RuntimeError("broker down")

    monkeypatch.setattr(registry, "datasets", broken)
    html = client.get(url("profile", slug=profile.measure.slug)).content.decode()
    assert "<code>AirQualityObserved</code>" in html
    assert "offene Daten" not in html
