"""The person's own pages: profile, notifications, data export, account deletion — for the five actors,
and never anyone else's data."""

import datetime as dt
import json

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone, translation

from herzstadt.accounts.models import Notification, Profile
from herzstadt.participation.notifications import NotificationKind
from tests.conftest import login
from tests.core.test_views import check_accessible

pytestmark = pytest.mark.django_db

OWN_PAGES = ["accounts:profile", "accounts:notifications", "accounts:export", "accounts:delete"]
SIGNED_IN = ["citizen", "moderator", "staff", "other_staff"]


def notify(user, city, subject="Mehr Bäume", url="/beteiligung/test-pfaff/ideen/1/", **extra):
    return Notification.objects.create(
        city=city, user=user, kind=NotificationKind.NEW_COMMENT, subject=subject, url=url, **extra
    )


# --- permissions ----------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("name", OWN_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in_in_their_language(client, actors, name, lang):
    with translation.override(lang):
        url = reverse(name)
        login_url = reverse("account_login")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{login_url}?next=")


@pytest.mark.parametrize("actor", SIGNED_IN)
@pytest.mark.parametrize("name", OWN_PAGES)
def test_every_signed_in_person_reaches_their_own_pages(client, actors, actor, name):
    login(client, actors[actor])
    assert client.get(reverse(name)).status_code == 200


@pytest.mark.parametrize("name", ["accounts:notifications-read", "accounts:delete"])
def test_anonymous_posts_change_nothing(client, actors, name):
    response = client.post(reverse(name))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("name", ["accounts:profile", "accounts:notifications", "accounts:delete"])
def test_own_pages_are_accessible(client, actors, name, lang):
    notify(actors["citizen"], actors["staff"].memberships.get().city)
    login(client, actors["citizen"])
    with translation.override(lang):
        url = reverse(name)
    response = client.get(url)
    check_accessible(response.content.decode(), lang)


def test_account_deleted_page_is_accessible(client, db):
    for lang in ("de", "en"):
        with translation.override(lang):
            url = reverse("accounts:deleted")
        check_accessible(client.get(url).content.decode(), lang)


# --- profile --------------------------------------------------------------------------------------
def test_profile_shows_name_links_and_roles(client, actors, city):
    login(client, actors["moderator"])
    html = client.get(reverse("accounts:profile")).content.decode()
    name = Profile.objects.get(user=actors["moderator"]).display_name
    assert name in html
    for target in (
        "account_email",
        "account_change_password",
        "accounts:notifications",
        "accounts:export",
        "accounts:delete",
    ):
        assert f'href="{reverse(target)}"' in html, target
    assert "Kaiserslautern: Moderation" in html


def test_changing_display_name_and_digest(client, actors):
    citizen = actors["citizen"]
    login(client, citizen)
    response = client.post(
        reverse("accounts:profile"), {"display_name": "  Neue   Nachbarin ", "email_digest": "on"}
    )
    assert response.status_code == 302
    profile = Profile.objects.get(user=citizen)
    assert profile.display_name == "Neue Nachbarin" and profile.email_digest
    assert "gespeichert" in client.get(response["Location"]).content.decode()
    # keeping one's own name (in another case) is fine; switching the digest off too
    response = client.post(reverse("accounts:profile"), {"display_name": "neue nachbarin"})
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.display_name == "neue nachbarin" and not profile.email_digest


def test_someone_elses_display_name_is_refused(client, actors):
    login(client, actors["citizen"])
    taken = Profile.objects.get(user=actors["staff"]).display_name.upper()
    response = client.post(reverse("accounts:profile"), {"display_name": taken})
    assert response.status_code == 200
    html = response.content.decode()
    assert "verwendet schon jemand" in html and 'aria-invalid="true"' in html
    assert Profile.objects.get(user=actors["citizen"]).display_name != taken


def test_a_profile_is_created_if_missing(client, actors):
    Profile.objects.filter(user=actors["citizen"]).delete()
    login(client, actors["citizen"])
    assert client.get(reverse("accounts:profile")).status_code == 200
    assert Profile.objects.filter(user=actors["citizen"]).exists()


# --- notifications --------------------------------------------------------------------------------
def test_notifications_list_only_ones_own_newest_first_with_unread_marked(client, actors, city):
    citizen, staff = actors["citizen"], actors["staff"]
    old = notify(citizen, city, subject="Alte Nachricht", read_at=timezone.now())
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=2))
    notify(citizen, city, subject="Neue Nachricht")
    notify(staff, city, subject="Geheim für die Verwaltung")
    login(client, citizen)
    html = client.get(reverse("accounts:notifications")).content.decode()
    assert "Geheim für die Verwaltung" not in html
    assert html.index("Neue Nachricht") < html.index("Alte Nachricht")
    assert html.count("notification-unread") == 1
    assert '<span class="badge">neu</span>' in html  # visible text, read by screen readers too
    assert "Sie haben 1 ungelesene Benachrichtigung." in html
    assert "Neuer Kommentar zu: Neue Nachricht" in html


def test_notifications_are_paginated(client, actors, city):
    for n in range(25):
        notify(actors["citizen"], city, subject=f"Nachricht {n}")
    login(client, actors["citizen"])
    first = client.get(reverse("accounts:notifications")).content.decode()
    assert "Nachricht 24" in first and "Nachricht 4<" not in first and 'rel="next"' in first
    second = client.get(reverse("accounts:notifications") + "?page=2").content.decode()
    assert "Nachricht 4<" in second and "Nachricht 24" not in second
    check_accessible(second, "de")


def test_opening_a_notification_marks_it_read_and_follows_its_link(client, actors, city):
    n = notify(actors["citizen"], city, url="/en/participation/test-pfaff/ideas/3/#comment-4")
    login(client, actors["citizen"])
    response = client.get(reverse("accounts:notification-open", args=[n.pk]))
    assert response.status_code == 302
    assert (
        response["Location"] == "/beteiligung/test-pfaff/ideen/3/#comment-4"
    )  # in the reader's language
    n.refresh_from_db()
    assert n.read_at is not None


@pytest.mark.parametrize(
    "url", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", ""]
)
def test_a_notification_never_redirects_elsewhere(client, actors, city, url):
    n = notify(actors["citizen"], city, url=url)
    login(client, actors["citizen"])
    response = client.get(reverse("accounts:notification-open", args=[n.pk]))
    assert response["Location"] == reverse("accounts:notifications")


def test_nobody_opens_someone_elses_notification(client, actors, city):
    n = notify(actors["staff"], city)
    for actor in SIGNED_IN:
        if actor == "staff":
            continue
        login(client, actors[actor])
        assert client.get(reverse("accounts:notification-open", args=[n.pk])).status_code == 404
    client.logout()
    assert client.get(reverse("accounts:notification-open", args=[n.pk])).status_code == 302
    n.refresh_from_db()
    assert n.read_at is None


def test_mark_all_as_read_touches_only_ones_own(client, actors, city):
    mine = [notify(actors["citizen"], city) for _ in range(3)]
    theirs = notify(actors["moderator"], city)
    login(client, actors["citizen"])
    assert client.get(reverse("accounts:notifications-read")).status_code == 405  # POST only
    response = client.post(reverse("accounts:notifications-read"))
    assert response.status_code == 302
    assert all(Notification.objects.get(pk=n.pk).read_at for n in mine)
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_notifications_from_another_city_link_to_that_city(client, actors, city, other_city):
    n = notify(
        actors["other_staff"], other_city, subject="Musterstadt-Idee", url="/beteiligung/x/ideen/1/"
    )
    login(client, actors["other_staff"])
    html = client.get(reverse("accounts:notifications")).content.decode()
    assert "Musterstadt" in html
    response = client.get(reverse("accounts:notification-open", args=[n.pk]))
    assert response["Location"] == "http://musterstadt.example/beteiligung/x/ideen/1/"


# --- data export ----------------------------------------------------------------------------------
def test_export_is_a_json_download_of_ones_own_data(client, contributions):
    anna = contributions["anna"]
    login(client, anna)
    response = client.get(reverse("accounts:export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith(
        'attachment; filename="herzstadt-personal-data-'
    )
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["account"]["email"] == anna.email
    assert [i["title"] for i in data["ideas"]] == ["Mehr Bäume"]
    assert contributions["bert"].email not in response.content.decode()


@pytest.mark.parametrize("actor", SIGNED_IN)
def test_export_never_contains_another_persons_data(client, actors, actor, city):
    for other in SIGNED_IN:
        notify(actors[other], city, subject=f"für {other}")
    login(client, actors[actor])
    data = json.loads(client.get(reverse("accounts:export")).content)
    assert data["account"]["id"] == actors[actor].pk
    assert [n["message"].split("für ")[1] for n in data["notifications"]] == [actor]


# --- account deletion -----------------------------------------------------------------------------
def test_delete_page_explains_in_plain_language_and_asks_for_the_password(client, actors):
    login(client, actors["citizen"])
    html = client.get(reverse("accounts:delete")).content.decode()
    assert "gelöschtes Konto" in html and "Umfrageantworten" in html and "Unterstützungen" in html
    assert 'type="password"' in html and 'method="post"' in html


def test_a_wrong_password_deletes_nothing(client, actors):
    login(client, actors["citizen"])
    response = client.post(reverse("accounts:delete"), {"password": "falsch"})
    assert response.status_code == 200
    assert "nicht richtig" in response.content.decode()
    assert User.objects.filter(pk=actors["citizen"].pk).exists()


def test_deleting_the_account_anonymises_signs_out_and_confirms(client, contributions):
    anna, idea, other = contributions["anna"], contributions["idea"], contributions["other"]
    login(client, anna)
    response = client.post(reverse("accounts:delete"), {"password": "pw-Secret-123"})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:deleted")
    assert not User.objects.filter(pk=anna.pk).exists()
    assert "_auth_user_id" not in client.session
    idea.refresh_from_db()
    other.refresh_from_db()
    assert idea.author is None and other.support_count == 0
    page = client.get(response["Location"])
    assert page.status_code == 200 and "Ihr Konto wurde gelöscht" in page.content.decode()


def test_password_guessing_on_the_delete_page_is_limited(client, actors):
    login(client, actors["citizen"])
    statuses = [
        client.post(reverse("accounts:delete"), {"password": "x"}).status_code for _ in range(11)
    ]
    assert statuses[:10] == [200] * 10 and statuses[10] == 429
    assert User.objects.filter(pk=actors["citizen"].pk).exists()


def test_superusers_are_refused_with_a_message(client, db, city):
    admin = User.objects.create_superuser("root", "root@example.org", "pw-Secret-123")
    login(client, admin)
    page = client.get(reverse("accounts:delete")).content.decode()
    assert "Administrationskonten" in page and 'type="password"' not in page
    response = client.post(reverse("accounts:delete"), {"password": "pw-Secret-123"})
    assert response.status_code == 403
    assert User.objects.filter(pk=admin.pk).exists()


def test_unread_notifications_are_counted_in_the_menu_and_on_the_profile(client, actors, city):
    citizen = actors["citizen"]
    notify(citizen, city, subject="Eins")
    notify(citizen, city, subject="Zwei")
    notify(citizen, city, subject="Gelesen", read_at=timezone.now())
    login(client, citizen)
    html = client.get("/konto/").content.decode()
    assert '<span class="badge">2<span class="visually-hidden"> ungelesen</span></span>' in html
    assert "2 ungelesen" in html  # the profile's own line
    login(client, actors["staff"])
    assert '<span class="badge">' not in client.get("/konto/").content.decode()
