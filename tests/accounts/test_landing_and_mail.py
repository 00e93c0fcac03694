"""After signing in, the city's moderators and staff land in the back office, citizens on the home
page or their ``next``; allauth's mails name the city, never the host (issue 10)."""

import pytest
from django.core import mail
from django.urls import reverse

from herzstadt.accounts.models import Role
from tests.accounts.test_signup import signup

pytestmark = pytest.mark.django_db


def sign_in(client, user, next_url=None):
    data = {"login": user.email, "password": "pw-Secret-123"}
    url = reverse("account_login") + (f"?next={next_url}" if next_url else "")
    return client.post(url, data)


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.STAFF, Role.ADMIN])
def test_the_citys_team_lands_in_the_back_office(client, city, make_user, role):
    response = sign_in(client, make_user(role, city))
    assert response.status_code == 302 and response["Location"] == reverse("backoffice:home")


def test_citizens_land_on_the_home_page(client, city, make_user):
    response = sign_in(client, make_user())
    assert response.status_code == 302 and response["Location"] == reverse("core:home")


def test_staff_of_another_city_are_citizens_here(client, city, other_city, make_user):
    response = sign_in(client, make_user(Role.STAFF, other_city))
    assert response["Location"] == reverse("core:home")


def test_an_explicit_next_wins_for_everyone(client, city, make_user):
    for user in (make_user(), make_user(Role.STAFF, city)):
        client.logout()
        response = sign_in(client, user, next_url="/beteiligung/")
        assert response["Location"] == "/beteiligung/"
    client.logout()
    response = sign_in(client, make_user(), next_url="https://evil.example/")
    assert response["Location"] == reverse("core:home"), "a foreign next is ignored"


def test_the_confirmation_mail_names_the_city_not_the_host(client, city):
    signup(client, email="anna@example.org")  # the test client's host is "testserver"
    body = mail.outbox[0].body
    sentence = next(line for line in body.splitlines() if "Sie erhalten diese E-Mail" in line)
    assert "herzstadt Kaiserslautern" in sentence
    assert "testserver" not in sentence
    assert "testserver" not in mail.outbox[0].subject
