"""Display names that imitate the city, its offices or its team are refused (issue 10, trust)."""

import pytest
from django.urls import reverse

from herzstadt.accounts.forms import clean_display_name
from herzstadt.accounts.models import Profile, ReservedNames, Role
from herzstadt.accounts.reserved_names import is_reserved
from herzstadt.core.models import Office
from tests.accounts.test_signup import signup
from tests.conftest import bo_url, login

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name",
    [
        "Stadtverwaltung Kaiserslautern",
        "stadtverwaltung   kaiserslautern",
        "Stadt-Verwaltung Kaiserslautern",
        "Die Stadt Kaiserslautern",
        "Kaiserslautern",
        "Oberbürgermeisterin",
        "Oberbuergermeister Kaiserslautern",
        "Rathaus Kaiserslautern",
        "Moderation",
        "Team Moderation",
        "Admin",
        "Administrator KL",
        "Ѕtadtverwaltung",  # Cyrillic capital DZE instead of S
        "St@dtverw4ltung",
        "ＳＴＡＤＴ",  # full-width letters
        "Referat Stadtentwicklung",  # one of the city's offices
        "Stadtverwaltung (Offiziell)",
        "Rathaus-Info",
    ],
)
def test_names_imitating_the_city_are_reserved(city, name):
    Office.objects.create(city=city, slug="stadtentwicklung", name="Referat Stadtentwicklung")
    assert is_reserved(name)


@pytest.mark.parametrize(
    "name", ["Gartenfreundin", "Neustadt-Fan", "Lautrer Radlerin", "Stadtgärtner Max", "Anna K."]
)
def test_ordinary_names_are_not(city, name):
    assert not is_reserved(name)


def test_sign_up_refuses_the_name_with_a_clear_message(client, city):
    response = signup(client, name="Stadtverwaltung Kaiserslautern", email="x@example.org")
    assert response.status_code == 200
    html = response.content.decode()
    assert "könnte mit der Stadt" in html and 'aria-invalid="true"' in html
    assert not Profile.objects.filter(display_name__icontains="Stadtverwaltung").exists()


def test_the_profile_page_refuses_it_too(client, city, make_user):
    user = make_user(name="Anna")
    login(client, user)
    response = client.post(reverse("accounts:profile"), {"display_name": "Rathaus Kaiserslautern"})
    assert response.status_code in (200, 400)
    user.profile.refresh_from_db()
    assert user.profile.display_name == "Anna"


def test_every_hosted_city_is_protected(city, other_city):
    assert is_reserved("Stadt Musterstadt") and is_reserved("Stadt Kaiserslautern")


def test_the_citys_administrators_edit_the_list(client, city, make_user):
    url = bo_url("reserved-names")
    login(client, make_user(Role.STAFF, city))
    assert client.post(url, {"names": "Bürgerbüro"}).status_code == 403
    login(client, make_user(Role.ADMIN, city))
    assert "Oberbürgermeister*" in client.get(url).content.decode(), "the defaults are shown"
    assert client.post(url, {"names": "Bürgerbüro\nStadtwerke*"}).status_code == 302
    assert ReservedNames.objects.get(city=city).names == "Bürgerbüro\nStadtwerke*"
    assert is_reserved("Bürgerbüro Kaiserslautern") and is_reserved("Stadtwerke Team Nord")
    assert not is_reserved("Rathaus"), "the city removed it from its list"
    with pytest.raises(Exception, match="verwechselt"):
        clean_display_name("Stadtwerke KL")
