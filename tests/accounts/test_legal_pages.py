"""The city's legal pages (issue 10): imprint and accessibility statement edited by the city's
administrators, a feedback form anyone can use that reaches the city's staff, linked in the footer."""

import pytest
from django.urls import reverse

from herzstadt.accounts.models import (
    AccessibilityFeedback,
    Conformance,
    LegalPages,
    Notification,
    Role,
)
from tests.conftest import bo_url, login

pytestmark = pytest.mark.django_db

FEEDBACK = {"message": "Der Kartenausschnitt ist per Tastatur nicht erreichbar.", "page": "/karte/"}


@pytest.fixture
def pages(city):
    return LegalPages.objects.create(
        city=city,
        imprint="Stadtverwaltung Kaiserslautern\n\nWilly-Brandt-Platz 1",
        conformance=Conformance.PARTIAL,
        known_gaps="- Karten sind nur teilweise per Tastatur bedienbar.",
        enforcement="Wenden Sie sich an die **Durchsetzungsstelle**.",
        enforcement_url="https://example.org/durchsetzung",
    )


def test_the_footer_links_imprint_and_accessibility_statement(client, city):
    html = client.get("/").content.decode()
    assert f'href="{reverse("imprint")}"' in html and f'href="{reverse("accessibility")}"' in html
    assert reverse("imprint") == "/impressum/" and reverse("accessibility") == "/barrierefreiheit/"


def test_the_pages_show_the_citys_texts(client, pages):
    imprint = client.get(reverse("imprint")).content.decode()
    assert "<p>Willy-Brandt-Platz 1</p>" in imprint
    html = client.get(reverse("accessibility")).content.decode()
    assert "teilweise vereinbar" in html
    assert "<li>Karten sind nur teilweise per Tastatur bedienbar.</li>" in html
    assert "<strong>Durchsetzungsstelle</strong>" in html
    assert 'href="https://example.org/durchsetzung"' in html
    assert 'name="message"' in html and "Demo" not in html


def test_without_texts_the_pages_still_work_and_the_form_is_there(client, city):
    assert client.get(reverse("imprint")).status_code == 200
    html = client.get(reverse("accessibility")).content.decode()
    assert 'name="message"' in html


def test_feedback_is_stored_and_reaches_the_citys_staff_only(client, city, other_city, make_user):
    staff, admin = make_user(Role.STAFF, city), make_user(Role.ADMIN, city)
    moderator, foreign = make_user(Role.MODERATOR, city), make_user(Role.STAFF, other_city)
    response = client.post(reverse("accessibility"), {**FEEDBACK, "email": "ina@example.org"})
    assert response.status_code == 302 and response["Location"] == reverse("accessibility-thanks")
    item = AccessibilityFeedback.objects.get()
    assert item.city == city and item.email == "ina@example.org" and item.user is None
    notified = set(Notification.objects.values_list("user_id", flat=True))
    assert notified == {staff.pk, admin.pk}, (moderator, foreign)
    note = Notification.objects.get(user=staff)
    assert note.url == bo_url("accessibility-feedback") and "Kartenausschnitt" in note.message
    thanks = client.get(response["Location"]).content.decode()
    assert "Wie es weitergeht" in thanks and "innerhalb eines Monats" in thanks


@pytest.mark.parametrize(
    "data",
    [
        {"message": ""},
        {"message": "   "},
        {**FEEDBACK, "email": "keine-adresse"},
        {"message": "x" * 3001},
    ],
)
def test_bad_feedback_is_a_400_with_errors_and_stores_nothing(client, city, data):
    response = client.post(reverse("accessibility"), data)
    assert response.status_code == 400
    assert 'class="error-summary"' in response.content.decode()
    assert not AccessibilityFeedback.objects.exists() and not Notification.objects.exists()


def test_only_the_citys_administrators_edit_the_pages(client, city, other_city, make_user):
    url = bo_url("legal-pages")
    data = {
        "imprint": "Stadt Kaiserslautern",
        "conformance": "full",
        "known_gaps": "",
        "statement_date": "2026-11-01",
        "feedback_contact": "barrierefrei@example.org",
        "enforcement": "Schlichtungsstelle",
        "enforcement_url": "https://example.org/s",
    }
    for who in (make_user(Role.STAFF, city), make_user(Role.ADMIN, other_city), make_user()):
        login(client, who)
        assert client.post(url, data).status_code == 403
    assert not LegalPages.objects.exists()
    login(client, make_user(Role.ADMIN, city))
    assert client.get(url).status_code == 200
    assert client.post(url, {**data, "enforcement_url": "javascript:alert(1)"}).status_code == 400
    assert client.post(url, data).status_code == 302
    saved = LegalPages.objects.get(city=city)
    assert saved.conformance == "full" and saved.imprint == "Stadt Kaiserslautern"
    assert client.post(url, {**data, "imprint": "Neu"}).status_code == 302
    assert LegalPages.objects.get().imprint == "Neu", "edits the one row of the city"


def test_staff_read_and_close_feedback_of_their_city_only(client, city, other_city, make_user):
    mine = AccessibilityFeedback.objects.create(city=city, message="Kontrast zu schwach")
    theirs = AccessibilityFeedback.objects.create(city=other_city, message="Fremd")
    login(client, make_user(Role.MODERATOR, city))
    assert client.get(bo_url("accessibility-feedback")).status_code == 403
    staff = make_user(Role.STAFF, city)
    login(client, staff)
    html = client.get(bo_url("accessibility-feedback")).content.decode()
    assert "Kontrast zu schwach" in html and "Fremd" not in html
    assert client.post(bo_url("accessibility-feedback-handled", pk=theirs.pk)).status_code == 404
    assert client.post(bo_url("accessibility-feedback-handled", pk=mine.pk)).status_code == 302
    mine.refresh_from_db()
    assert mine.handled_by == staff and mine.handled_at is not None
    assert (
        "Kontrast zu schwach" not in client.get(bo_url("accessibility-feedback")).content.decode()
    )


def test_the_answer_address_is_exported_and_erased_with_the_account(client, city, make_user):
    from herzstadt.accounts.gdpr import collect_personal_data, delete_account

    person = make_user()
    login(client, person)
    client.post(reverse("accessibility"), {**FEEDBACK, "email": "p@example.org"})
    exported = collect_personal_data(person)["accessibility_feedback"]
    assert exported[0]["email"] == "p@example.org"
    delete_account(person)
    item = AccessibilityFeedback.objects.get()
    assert item.user is None and item.email == "" and "Kartenausschnitt" in item.message


def test_the_demo_fills_kaiserslauterns_pages_marked_as_demo(client, demo):
    pages = LegalPages.objects.get(city=demo)
    assert pages.is_demo and pages.imprint and pages.known_gaps and pages.enforcement_url
    html = client.get(reverse("accessibility")).content.decode()
    assert "Beispieltext der Demonstration" in html and "teilweise vereinbar" in html
    assert "Durchsetzungsverfahren" in html


def test_the_form_is_rate_limited_per_address(client, city):
    for _ in range(10):
        assert client.post(reverse("accessibility"), FEEDBACK).status_code == 302
    assert client.post(reverse("accessibility"), FEEDBACK).status_code == 429
    assert AccessibilityFeedback.objects.count() == 10
