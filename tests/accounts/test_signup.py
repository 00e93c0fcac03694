"""Register and sign in (django-allauth in herzstadt's layout): display name at sign-up, mandatory
e-mail confirmation, rate limits, no account enumeration, German and English pages."""

import email
import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import User
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from herzstadt.accounts.models import Profile
from tests.core.test_views import check_accessible

pytestmark = pytest.mark.django_db

PASSWORD = "Kaiserslautern-Pfaff-2030"


def signup(client, *, name="Gartenfreundin", email="anna@example.org", prefix=""):
    return client.post(
        f"{prefix}/accounts/signup/",
        {"display_name": name, "email": email, "password1": PASSWORD, "password2": PASSWORD},
    )


def confirmation_link(message) -> str:
    return re.search(
        r"https?://[^/\s]+(/\S*/accounts/confirm-email/\S+/|/accounts/confirm-email/\S+/)",
        message.body,
    ).group(1)


# --- sign-up --------------------------------------------------------------------------------------
def test_signup_stores_display_name_and_city_and_sends_a_confirmation_mail(client, city):
    response = signup(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="anna@example.org")
    assert user.profile.display_name == "Gartenfreundin"
    assert user.profile.city == city
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["anna@example.org"]
    assert "/accounts/confirm-email/" in message.body
    assert "Kaiserslautern" in message.subject  # the city's name, not "example.com"
    assert "Gartenfreundin" in message.body  # people appear by display name, never by username
    assert "_auth_user_id" not in client.session  # not signed in before confirming


def test_the_verification_mail_is_german_with_formal_address(client, city):
    signup(client)
    body = mail.outbox[0].body
    assert "Guten Tag" in body and "Sie erhalten diese E-Mail" in body
    assert " du " not in body and " dein" not in body


def test_english_signup_sends_an_english_mail(client, city):
    signup(client, prefix="/en")
    assert "You're receiving this email" in mail.outbox[0].body


@pytest.mark.parametrize("existing", ["Gartenfreundin", "gartenFREUNDIN", "  Gartenfreundin "])
def test_a_display_name_is_taken_whatever_its_case(client, city, make_user, existing):
    make_user(name="Gartenfreundin")
    response = signup(client, name=existing, email="bert@example.org")
    assert response.status_code == 200
    html = response.content.decode()
    assert "verwendet schon jemand" in html
    assert 'aria-invalid="true"' in html and 'id="id_display_name_error"' in html
    assert not User.objects.filter(email="bert@example.org").exists()
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("anna@example.org", "keine E-Mail-Adresse"),
        ("person-7", "reserviert"),
        ("Gelöschtes Konto", "reserviert"),
        ("ab", "mindestens 3 Zeichen"),
    ],
)
def test_unsuitable_display_names_are_refused_with_a_clear_message(client, city, name, error):
    response = signup(client, name=name)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not User.objects.filter(email="anna@example.org").exists()


def test_signup_for_an_existing_address_does_not_reveal_the_account(client, city, make_user):
    user = make_user()
    response = signup(client, name="Neuer Name", email=user.email)
    # same answer as for a new address ...
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    # ... the owner of the address is told instead, and no second account exists
    assert User.objects.filter(email=user.email).count() == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]
    assert not Profile.objects.filter(display_name="Neuer Name").exists()


# --- e-mail confirmation is mandatory -------------------------------------------------------------
def test_an_unconfirmed_person_cannot_sign_in_until_the_address_is_confirmed(client, city):
    signup(client)
    client.logout()
    response = client.post("/accounts/login/", {"login": "anna@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session
    assert len(mail.outbox) == 1  # within the cool-down, no second mail floods the inbox

    link = confirmation_link(mail.outbox[0])
    page = client.get(link)
    assert page.status_code == 200
    check_accessible(page.content.decode(), "de")
    assert "Gartenfreundin" in page.content.decode()
    client.post(link)
    assert EmailAddress.objects.get(email="anna@example.org").verified

    client.logout()
    response = client.post("/accounts/login/", {"login": "anna@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == User.objects.get(email="anna@example.org").pk


def test_an_unconfirmed_account_cannot_contribute(city, make_user):
    from herzstadt.accounts.roles import can_contribute

    assert not can_contribute(make_user(verified=False), city)
    assert can_contribute(make_user(), city)


# --- rate limits ----------------------------------------------------------------------------------
def test_five_wrong_passwords_make_that_address_wait(client, city, make_user):
    user = make_user()
    for _ in range(5):
        response = client.post("/accounts/login/", {"login": user.email, "password": "wrong"})
        assert response.status_code == 200
        assert "nicht korrekt" in response.content.decode() or "falsch" in response.content.decode()
    # from this address, even the right password now waits (the owner elsewhere does not: test_attacks)
    response = client.post("/accounts/login/", {"login": user.email, "password": "pw-Secret-123"})
    assert response.status_code == 200
    assert "Bitte warten Sie 15 Sekunden" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_right_password_signs_in_before_the_limit(client, city, make_user):
    user = make_user()
    for _ in range(4):
        client.post("/accounts/login/", {"login": user.email, "password": "wrong"})
    response = client.post("/accounts/login/", {"login": user.email, "password": "pw-Secret-123"})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk


def test_password_reset_requests_are_limited_per_address(client, city, make_user):
    user = make_user()
    for _ in range(3):
        assert client.post("/accounts/password/reset/", {"email": user.email}).status_code == 302
    response = client.post("/accounts/password/reset/", {"email": user.email})
    assert response.status_code == 429
    check_accessible(response.content.decode(), "de")
    assert "Zu viele Versuche" in response.content.decode()
    assert len(mail.outbox) == 3


@override_settings(ACCOUNT_RATE_LIMITS={"signup": "2/h/ip"})
def test_signups_are_limited_per_network_address(client, city):
    for n in range(2):
        assert signup(client, name=f"Name {n}", email=f"p{n}@example.org").status_code == 302
        client.logout()
    assert signup(client, name="Name 3", email="p3@example.org").status_code == 429


# --- no account enumeration -----------------------------------------------------------------------
def test_password_reset_answers_the_same_for_known_and_unknown_addresses(client, city, make_user):
    user = make_user()
    known = client.post("/accounts/password/reset/", {"email": user.email})
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("account_reset_password_done")
    # both get exactly one mail; only the owner of a known address gets a reset link
    assert [m.to for m in mail.outbox] == [[user.email], ["nobody@example.org"]]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body
    assert "/accounts/password/reset/key/" not in mail.outbox[1].body
    page = client.get(known["Location"])
    assert page.status_code == 200
    check_accessible(page.content.decode(), "de")


def test_the_whole_password_reset_works_without_javascript(client, city, make_user):
    user = make_user()
    client.post("/accounts/password/reset/", {"email": user.email})
    link = re.search(
        r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", mail.outbox[0].body
    ).group(1)
    response = client.get(link, follow=True)
    assert response.status_code == 200
    check_accessible(response.content.decode(), "de")
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link
    new = "Ein-ganz-neues-Passwort-42"
    done = client.post(form_url, {"password1": new, "password2": new})
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)
    page = client.get(done["Location"])
    assert page.status_code == 200
    check_accessible(page.content.decode(), "de")


def test_a_broken_reset_link_gets_a_friendly_page(client, city):
    response = client.get("/accounts/password/reset/key/zz-invalid/")
    assert response.status_code == 200
    html = response.content.decode()
    check_accessible(html, "de")
    assert "Ungültiger Link" in html and "Token" not in html


def test_a_broken_confirmation_link_gets_a_friendly_page(client, city):
    response = client.get("/accounts/confirm-email/not-a-key/")
    assert response.status_code == 200
    html = response.content.decode()
    check_accessible(html, "de")
    assert "abgelaufen oder ungültig" in html


# --- pages: layout, accessibility, languages ------------------------------------------------------
ANONYMOUS_PAGES = [
    "account_login",
    "account_signup",
    "account_reset_password",
    "account_reset_password_done",
    "account_email_verification_sent",
]
SIGNED_IN_PAGES = ["account_email", "account_change_password", "account_logout"]


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("name", ANONYMOUS_PAGES)
def test_entrance_pages_use_the_site_layout_and_are_accessible(client, city, name, lang):
    with translation.override(lang):
        url = reverse(name)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    check_accessible(html, lang)
    assert 'class="site-header"' in html and "herzstadt.css" in html


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("name", SIGNED_IN_PAGES)
def test_account_management_pages_are_accessible(client, city, make_user, name, lang):
    client.force_login(make_user(), backend="django.contrib.auth.backends.ModelBackend")
    with translation.override(lang):
        url = reverse(name)
    response = client.get(url)
    assert response.status_code == 200
    check_accessible(response.content.decode(), lang)


def test_sign_in_page_is_german_and_formal(client, city):
    html = client.get("/accounts/login/").content.decode()
    assert "<h1>" in html and "Anmelden" in html
    assert "Passwort" in html and "Angemeldet bleiben" in html
    assert "Sie haben noch kein Konto?" in html
    assert "Du hast" not in html


def test_sign_in_page_in_english(client, city):
    html = client.get("/en/accounts/login/").content.decode()
    assert "Sign In" in html and "Password" in html and "Remember Me" in html
    assert "Passwort" not in html


def test_signup_page_asks_for_the_display_name_first(client, city):
    html = client.get("/accounts/signup/").content.decode()
    assert html.index('id="id_display_name"') < html.index('id="id_email"')
    assert "Anzeigename" in html and "Pseudonym" in html


def test_sign_out_is_a_post_form_and_works(client, city, make_user):
    client.force_login(make_user(), backend="django.contrib.auth.backends.ModelBackend")
    page = client.get("/accounts/logout/")
    assert 'method="post"' in page.content.decode()
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_english_sign_in_returns_to_the_english_site(client, city, make_user):
    user = make_user()
    response = client.post(
        "/en/accounts/login/", {"login": user.email, "password": "pw-Secret-123"}
    )
    assert response["Location"] == "/en/"


def test_development_mail_goes_to_the_console(client, city, capsys, caplog):
    from herzstadt.config import load

    assert load({"HERZSTADT_DATA_DIR": "/tmp/herzstadt-test-config"}).email_backend.endswith(
        "console.EmailBackend"
    )
    with override_settings(
        MAILERS={"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
    ):
        signup(client)
    message = email.message_from_string(capsys.readouterr().out)
    assert message["To"] == "anna@example.org"
    assert "/accounts/confirm-email/" in message.get_payload(decode=True).decode()
    # the console wraps long lines; the log has the link whole, for developers
    assert any("/accounts/confirm-email/" in r.getMessage() for r in caplog.records)
