"""Accounts under attack (issue 8, finding 10): sign-up does the same work for known and new addresses,
failed sign-ins slow down the attacker's address and never lock out the owner, and one trusted-proxy
setting decides the client's address for allauth and for every rate limit of herzstadt."""

from __future__ import annotations

import pytest
from allauth.account.adapter import get_adapter
from django.contrib.auth.hashers import get_hasher
from django.core import mail
from django.test import RequestFactory, override_settings

from herzstadt.accounts import throttle
from herzstadt.core.client_ip import client_ip
from herzstadt.participation.surveys import answering as surveys

pytestmark = pytest.mark.django_db

PASSWORD = "Kaiserslautern-Pfaff-2030"
RIGHT = "pw-Secret-123"  # make_user's password
ATTACKER = "198.51.100.66"
OWNER = "203.0.113.5"


def _login(client, email, password, ip, **extra):
    return client.post(
        "/accounts/login/", {"login": email, "password": password}, REMOTE_ADDR=ip, **extra
    )


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- sign-up: the same expensive steps for a known and a new address -----------------------------


def test_signup_hashes_a_password_and_sends_one_mail_for_known_and_new_addresses(
    client, city, make_user, monkeypatch
):
    hasher = type(get_hasher("default"))
    calls = []
    original = hasher.encode

    def counting_encode(self, password, salt, *args, **kwargs):
        calls.append(password)
        return original(self, password, salt, *args, **kwargs)

    monkeypatch.setattr(hasher, "encode", counting_encode)
    known = make_user()
    paths = {}
    for case, email in (("known", known.email), ("new", "neu@example.org")):
        calls.clear()
        mail.outbox.clear()
        response = client.post(
            "/accounts/signup/",
            {
                "display_name": f"Name {case}",
                "email": email,
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )
        client.logout()
        paths[case] = (
            response.status_code,
            response["Location"],
            calls.count(PASSWORD),
            len(mail.outbox),
        )
    # same answer, one password hash and one e-mail in both cases
    assert paths["known"] == paths["new"]
    assert paths["new"][2] == 1 and paths["new"][3] == 1


# --- failed sign-ins ---------------------------------------------------------------------------------


def test_an_attack_on_an_account_never_locks_out_its_owner(client, city, make_user):
    owner = make_user()
    for _ in range(20):
        _login(client, owner.email, "guess", ATTACKER)
    assert not _signed_in(client)
    response = _login(client, owner.email, RIGHT, OWNER)
    assert response.status_code == 302
    assert _signed_in(client)


def test_the_attackers_wait_grows_with_every_failure(client, city, make_user, monkeypatch):
    clock = [1_000_000.0]
    monkeypatch.setattr(throttle, "now", lambda: clock[0])
    owner = make_user()
    for _ in range(5):
        _login(client, owner.email, "guess", ATTACKER)
    waits = []
    for _ in range(4):
        refused = _login(client, owner.email, RIGHT, ATTACKER).content.decode()
        assert "Bitte warten Sie" in refused  # refused before the password is checked
        wait = throttle.remaining_wait(
            RequestFactory().post("/", REMOTE_ADDR=ATTACKER), {"email": owner.email}
        )
        waits.append(wait)
        clock[0] += wait + 1
        _login(client, owner.email, "guess", ATTACKER)  # allowed again, and wrong again
    assert waits == [15, 30, 60, 120]
    assert not _signed_in(client)
    # the waits stop growing at 15 minutes
    assert throttle.wait_seconds(40) == throttle.MAX_WAIT == 900


def test_a_successful_sign_in_clears_that_addresses_failures(client, city, make_user):
    owner = make_user()
    for _ in range(4):
        _login(client, owner.email, "typo", OWNER)
    assert _login(client, owner.email, RIGHT, OWNER).status_code == 302
    client.logout()
    for _ in range(4):
        _login(client, owner.email, "typo", OWNER)
    assert _login(client, owner.email, RIGHT, OWNER).status_code == 302


@override_settings(ACCOUNT_RATE_LIMITS={"login_failed": "3/15m/ip"})
def test_many_failures_from_one_address_across_accounts_are_refused(client, city, make_user):
    people = [make_user() for _ in range(4)]
    for person in people[:3]:
        _login(client, person.email, "spray", ATTACKER)
    response = _login(client, people[3].email, RIGHT, ATTACKER)
    assert "Zu viele fehlgeschlagene Anmeldeversuche" in response.content.decode()
    assert not _signed_in(client)
    # another address is not affected
    assert _login(client, people[3].email, RIGHT, OWNER).status_code == 302


# --- one trusted-proxy setting ------------------------------------------------------------------------


def _request(remote, forwarded=None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().post("/", REMOTE_ADDR=remote, **extra)


@pytest.mark.parametrize(
    ("hops", "remote", "forwarded", "expected"),
    [
        (0, "10.0.0.1", "198.51.100.1", "10.0.0.1"),  # no proxy trusted: the header is ignored
        (1, "10.0.0.1", "198.51.100.1", "198.51.100.1"),
        (1, "10.0.0.1", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # forged entries on the left
        (2, "10.0.0.2", "6.6.6.6, 198.51.100.1, 10.0.0.1", "198.51.100.1"),
        (2, "198.51.100.9", "198.51.100.1", "198.51.100.9"),  # did not pass both proxies
        (0, "2001:db8:1:2:3:4:5:6", None, "2001:db8:1:2::"),  # IPv6 by /64
        (0, "::ffff:198.51.100.3", None, "198.51.100.3"),
    ],
)
def test_the_client_address_follows_the_trusted_proxy_hops(hops, remote, forwarded, expected):
    with override_settings(HERZSTADT_TRUSTED_PROXY_HOPS=hops, ALLAUTH_TRUSTED_PROXY_COUNT=hops):
        request = _request(remote, forwarded)
        assert client_ip(request) == expected
        assert get_adapter().get_client_ip(request) == expected  # allauth's limits
        assert surveys.client_ip(request) == expected  # the survey limit


def test_one_setting_feeds_allauth_too():
    from django.conf import settings

    from herzstadt import config

    assert config.load({"HERZSTADT_TRUSTED_PROXY_HOPS": "2"}).trusted_proxy_hops == 2
    assert settings.ALLAUTH_TRUSTED_PROXY_COUNT == settings.HERZSTADT_TRUSTED_PROXY_HOPS


@override_settings(
    HERZSTADT_TRUSTED_PROXY_HOPS=1,
    ALLAUTH_TRUSTED_PROXY_COUNT=1,
    ACCOUNT_RATE_LIMITS={"signup": "2/h/ip"},
)
def test_behind_a_proxy_each_visitor_has_a_bucket_of_their_own(client, city):
    """Before, HERZSTADT_TRUSTED_PROXY_HOPS never reached allauth: behind a proxy the whole city shared
    one sign-up and sign-in bucket (the proxy's address)."""

    def signup(n, visitor):
        return client.post(
            "/accounts/signup/",
            {
                "display_name": f"Person {n}x",
                "email": f"p{n}@example.org",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=visitor,
        )

    for n in range(2):
        assert signup(n, "198.51.100.1").status_code == 302
        client.logout()
    assert signup(2, "198.51.100.1").status_code == 429
    assert signup(3, "198.51.100.2").status_code == 302  # another visitor behind the same proxy
