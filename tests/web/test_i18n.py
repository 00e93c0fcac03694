"""German first, English second: German from the catalogue, English from the source strings.

The catalogue itself (complete, current, compiled) is checked in test_catalogue.py.
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

import herzstadt

LOCALE = Path(herzstadt.__file__).parent / "locale"


def test_english_is_offered_without_a_catalogue_of_its_own():
    # The source strings are English: an English catalogue would only hold empty msgstrs.
    assert settings.LANGUAGE_CODE == "de"
    with translation.override("en"):
        assert [(code, str(name)) for code, name in settings.LANGUAGES] == [
            ("de", "German"),
            ("en", "English"),
        ]
    assert sorted(p.name for p in LOCALE.iterdir()) == ["de"]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "de",
            (
                "Maßnahmen",
                "kommentieren",
                "Kommentar",
                "3 gesperrte Personen",
                "1 gesperrte Person",
            ),
        ),
        ("en", ("Measures", "comment", "comment", "3 blocked people", "1 blocked person")),
    ],
)
def test_strings_in_both_languages(language, expected):
    with translation.override(language):
        got = (
            translation.gettext("Measures"),
            translation.pgettext("phase feature", "comment"),
            translation.gettext("comment"),
            translation.ngettext("%(n)s blocked person", "%(n)s blocked people", 3) % {"n": 3},
            translation.ngettext("%(n)s blocked person", "%(n)s blocked people", 1) % {"n": 1},
        )
    assert got == expected


@pytest.mark.django_db
def test_privacy_page_in_both_languages(client, demo):
    from tests.core.test_views import check_accessible

    de = client.get("/datenschutz/")
    assert de.status_code == 200 and "Ihre Rechte" in de.content.decode()
    check_accessible(de.content.decode(), "de")
    en = client.get("/en/privacy/")
    assert en.status_code == 200 and "Your rights" in en.content.decode()
    assert "Ihre Rechte" not in en.content.decode()
    assert 'href="/datenschutz/"' in client.get("/accounts/signup/").content.decode()


@pytest.mark.django_db
def test_home_page_in_both_languages(client, demo):
    de = client.get("/").content.decode()
    en = client.get("/en/").content.decode()
    assert '<html lang="de"' in de and '<html lang="en"' in en
    assert "Maßnahmen" in de and "Datenschutz" in de
    assert "Measures" in en and "Privacy" in en
    assert "Maßnahmen" not in en and "Datenschutz" not in en
