"""The shell's menus come from the registry: each visitor sees the entries meant for them, in the
page's language, with the current page marked."""

import re

import pytest

from tests.conftest import bo_url, login

pytestmark = pytest.mark.django_db


def _menu(html: str, label: str) -> list[str]:
    nav = re.search(rf'<nav[^>]*aria-label="{label}">(.*?)</nav>', html, re.S).group(1)
    return [
        re.sub(r"<[^>]+>", "", item).split()[0] for item in re.findall(r"<li>(.*?)</li>", nav, re.S)
    ]


def test_menus_by_visitor(client, actors):
    home = client.get("/").content.decode()
    assert _menu(home, "Hauptnavigation") == [
        "Start",
        "Maßnahmen",
        "Beteiligung",
        "Entscheiden",
        "Wissen",
        "Kompass",
    ]
    assert _menu(home, "Ihr Konto") == ["Anmelden", "Registrieren"]
    assert 'href="/accounts/login/?next=/"' in home
    login(client, actors["citizen"])
    assert _menu(client.get("/").content.decode(), "Ihr Konto") == [
        "Benachrichtigungen",
        "Mein",
        "Abmelden",
    ]
    login(client, actors["moderator"])
    assert "Verwaltung" in _menu(client.get("/").content.decode(), "Ihr Konto")
    login(client, actors["other_staff"])  # staff of another city: no back office here
    assert "Verwaltung" not in _menu(client.get("/").content.decode(), "Ihr Konto")


def test_the_current_page_is_marked(client, actors):
    html = client.get("/massnahmen/").content.decode()
    assert '<a href="/massnahmen/" aria-current="page">Maßnahmen</a>' in html
    english = client.get("/en/participation/").content.decode()
    assert '<a href="/en/participation/" aria-current="page">Participation</a>' in english
    login(client, actors["moderator"])
    html = client.get(bo_url("moderation")).content.decode()
    assert f'<a href="{bo_url("home")}" aria-current="page">Verwaltung</a>' in html
    assert f'<a href="{bo_url("moderation")}" aria-current="page">Meldungen</a>' in html
