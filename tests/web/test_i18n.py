"""Every UI string has a German translation, and the compiled catalogue matches the source."""

import gettext
import re
from pathlib import Path

import pytest

import herzstadt

LOCALE = Path(herzstadt.__file__).parent / "locale"


def entries(po: Path):
    text = po.read_text(encoding="utf-8")
    for chunk in text.split("\n\n"):
        lines = [line for line in chunk.splitlines() if not line.startswith("#")]
        body = "\n".join(lines)
        match = re.match(
            r'(?s)msgid (".*?")\n(?:msgid_plural (".*?")\n)?msgstr(?:\[0\])? (".*?")(?:\nmsgstr\[1\] (".*"))?$',
            body,
        )
        if not match:
            continue
        msgid = "".join(eval(part) for part in match.group(1).splitlines())
        msgstr = "".join(eval(part) for part in match.group(3).splitlines())
        if msgid:
            yield msgid, msgstr, "#, fuzzy" in chunk


def test_every_ui_string_is_translated_to_german():
    found = list(entries(LOCALE / "de" / "LC_MESSAGES" / "django.po"))
    assert len(found) > 100
    untranslated = [msgid for msgid, msgstr, _ in found if not msgstr]
    fuzzy = [msgid for msgid, _, is_fuzzy in found if is_fuzzy]
    assert untranslated == []
    assert fuzzy == []


def test_compiled_catalogue_is_up_to_date():
    with (LOCALE / "de" / "LC_MESSAGES" / "django.mo").open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    for msgid, msgstr, _ in entries(LOCALE / "de" / "LC_MESSAGES" / "django.po"):
        if "%(n)s" in msgid and msgstr.startswith("%(n)s"):
            continue  # plural entries are checked via ngettext in the page tests
        assert catalogue.gettext(msgid) == msgstr, msgid


@pytest.mark.django_db
def test_privacy_page_in_both_languages(client, demo):
    from tests.core.test_views import check_accessible

    de = client.get("/datenschutz/")
    assert de.status_code == 200 and "Ihre Rechte" in de.content.decode()
    check_accessible(de.content.decode(), "de")
    en = client.get("/en/privacy/")
    assert en.status_code == 200 and "Your rights" in en.content.decode()
    assert 'href="/datenschutz/"' in client.get("/accounts/signup/").content.decode()
