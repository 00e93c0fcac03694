"""The back-office section "Wissenstransfer": who may use it, the profile editor's validation, and
the use case ``save_profile`` (permission, versions, nothing half-written)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from herzstadt.accounts.models import Role
from herzstadt.knowledge.models import CatalogueEntry, MeasureProfile
from herzstadt.knowledge.services import save_profile
from tests.conftest import bo_url, login
from tests.factories import make_measure

pytestmark = pytest.mark.django_db


@pytest.fixture
def measure(city):
    return make_measure(city, slug="laternen", title="Smarte Laternen")


VALID = {
    "shared": "on",
    "phase": "pilot",
    "problem": "Dunkle Wege.",
    "target_groups": "Fußgängerinnen und Fußgänger",
    "implementation_steps": "Bedarf erheben\n\nLeuchten tauschen\n",
    "entity_types": "Streetlight\nStreetlightGroup\nStreetlight",
    "datasets": "Leuchtenkataster | https://daten.example/leuchten\nStraßenverzeichnis",
    "software": "LightCtl | https://git.example/lightctl | https://git.example/lightctl/publiccode.yml | EUPL-1.2",
    "operator_model": "Stadtwerke betreiben.",
    "cost_investment_eur": "120000",
    "cost_operation_eur": "5000.50",
    "obstacles": "Lieferzeiten.",
    "success_factors": "Frühe Beteiligung.",
    "contact_name": "Amt für Licht",
    "contact_email": "licht@example.org",
}


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 302),
        ("citizen", 403),
        ("moderator", 403),
        ("staff", 200),
        ("other_staff", 403),
    ],
)
def test_who_may_use_the_section(client, actors, measure, actor, expected):
    login(client, actors[actor])
    assert client.get(bo_url("knowledge-profiles")).status_code == expected
    assert client.get(bo_url("knowledge-profile-edit", slug=measure.slug)).status_code == expected
    response = client.post(bo_url("knowledge-profile-edit", slug=measure.slug), VALID)
    assert response.status_code == (302 if expected == 200 else expected)
    assert MeasureProfile.objects.filter(measure=measure).exists() == (expected == 200)


def test_addresses():
    assert bo_url("knowledge-profiles") == "/verwaltung/wissen/"
    assert bo_url("knowledge-profile-edit", slug="x") == "/verwaltung/wissen/x/"


def test_list_shows_measures_with_and_without_profile(client, city, make_user, measure):
    other = make_measure(city, slug="baeume", title="Stadtbäume")
    MeasureProfile.objects.create(measure=other, phase="operation")
    login(client, make_user(Role.STAFF, city))
    response = client.get(bo_url("knowledge-profiles"))
    html = response.content.decode()
    assert [m.title for m in response.context["with_profile"]] == ["Stadtbäume"]
    assert [m.title for m in response.context["without"]] == ["Smarte Laternen"]
    assert "Profil für „Smarte Laternen“ schreiben" in html
    assert "Regelbetrieb" in html
    # the back-office home and menu link the section
    home = client.get(bo_url("home")).content.decode()
    assert 'href="/verwaltung/wissen/"' in home


def test_edit_creates_then_versions_the_profile(client, city, make_user, measure):
    login(client, make_user(Role.STAFF, city))
    edit = bo_url("knowledge-profile-edit", slug=measure.slug)
    response = client.post(edit, VALID)
    assert response.status_code == 302
    profile = MeasureProfile.objects.get(measure=measure)
    assert profile.version == 1
    assert profile.city == city
    assert profile.implementation_steps == ["Bedarf erheben", "Leuchten tauschen"]
    assert profile.entity_types == ["Streetlight", "StreetlightGroup"]
    assert profile.datasets == [
        {"title": "Leuchtenkataster", "url": "https://daten.example/leuchten"},
        {"title": "Straßenverzeichnis", "url": ""},
    ]
    assert profile.software == [
        {
            "name": "LightCtl",
            "url": "https://git.example/lightctl",
            "publiccode_url": "https://git.example/lightctl/publiccode.yml",
            "licence": "EUPL-1.2",
        }
    ]
    assert profile.cost_operation_eur == Decimal("5000.50")
    # the form shows the lists as lines again
    html = client.get(edit).content.decode()
    assert "Leuchtenkataster | https://daten.example/leuchten" in html
    assert "Bedarf erheben\nLeuchten tauschen" in html
    # saving without a change keeps the version; a change makes the next one
    client.post(edit, VALID)
    profile.refresh_from_db()
    assert profile.version == 1
    client.post(edit, {**VALID, "obstacles": "Lieferzeiten und Datenschutz."})
    profile.refresh_from_db()
    assert profile.version == 2
    assert profile.obstacles == "Lieferzeiten und Datenschutz."
    # not shared any more: out of the catalogue
    client.post(edit, {k: v for k, v in VALID.items() if k != "shared"})
    profile.refresh_from_db()
    assert profile.shared is False and profile.version == 3
    assert not CatalogueEntry.objects.filter(profile=profile).exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "entity_types",
            "Streetlight\nkein typ",
            "Zeile 2: „kein typ“ ist kein Name eines Datenmodells",
        ),
        (
            "datasets",
            "Kataster | javascript:alert(1)",
            "Zeile 1: Die Adresse muss eine Adresse sein",
        ),
        ("datasets", " | https://daten.example", "Zeile 1: Der Titel fehlt."),
        ("software", "A | b | c | d | e", "Zeile 1: höchstens 4 Teile"),
        (
            "software",
            "LightCtl | | | <script>",
            "Zeile 1: Die Lizenz sollte eine SPDX-Kennung sein",
        ),
        ("cost_investment_eur", "-5", "negativ"),
        ("contact_email", "keine adresse", "E-Mail"),
        ("phase", "later", "Auswahl"),
        (
            "implementation_steps",
            "\n".join(f"Schritt {i}" for i in range(60)),
            "höchstens 50 Zeilen",
        ),
    ],
)
def test_validation_errors_are_clear_and_nothing_is_saved(
    client, city, make_user, measure, field, value, message
):
    login(client, make_user(Role.STAFF, city))
    response = client.post(
        bo_url("knowledge-profile-edit", slug=measure.slug), {**VALID, field: value}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Bitte prüfen Sie Ihre Eingaben" in html
    assert message in html, html[html.find("error-summary") : html.find("error-summary") + 800]
    assert not MeasureProfile.objects.filter(measure=measure).exists()


def test_foreign_measure_is_404(client, city, other_city, make_user):
    foreign = make_measure(other_city, slug="fremd")
    login(client, make_user(Role.STAFF, city))
    assert client.get(bo_url("knowledge-profile-edit", slug=foreign.slug)).status_code == 404


def test_save_profile_requires_the_permission(city, other_city, make_user, measure):
    with pytest.raises(PermissionDenied):
        save_profile(make_user(), measure, {"phase": "pilot"})
    with pytest.raises(PermissionDenied):
        save_profile(make_user(Role.STAFF, other_city), measure, {"phase": "pilot"})
    with pytest.raises(PermissionDenied):
        save_profile(make_user(Role.MODERATOR, city), measure, {"phase": "pilot"})
    profile = save_profile(make_user(Role.ADMIN, city), measure, {"phase": "pilot"})
    assert profile.version == 1 and profile.phase == "pilot"


def test_save_profile_validates_before_writing(city, make_user, measure):
    staff = make_user(Role.STAFF, city)
    save_profile(staff, measure, {"phase": "pilot"})
    with pytest.raises(ValidationError):
        save_profile(staff, measure, {"phase": "nonsense", "problem": "geändert"})
    profile = MeasureProfile.objects.get(measure=measure)
    assert profile.phase == "pilot" and profile.problem == "" and profile.version == 1


def test_back_office_home_says_how_many_measures_have_a_profile(client, city, make_user, measure):
    make_measure(city, slug="zweite", title="Zweite")
    MeasureProfile.objects.create(measure=measure)
    login(client, make_user(Role.STAFF, city))
    html = client.get(bo_url("home")).content.decode()
    assert "Profile: 1 von 2 Maßnahmen" in html
