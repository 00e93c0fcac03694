"""The German catalogue is the single source of truth for the German UI, kept with Django's own tools.

``catalogue_problems`` is the CI check (README, "Translations"). On a copy of the ``herzstadt``
package it

1. runs ``makemessages`` exactly as the README says and reports any change to ``django.po`` other
   than the ``POT-Creation-Date`` header (a UI string added, changed or removed without updating
   the catalogue, or a catalogue edited by hand into a form ``makemessages`` would rewrite);
2. reports every empty or fuzzy German ``msgstr`` (and a fuzzy header);
3. compiles ``django.po`` with ``msgfmt --check-format`` (what ``compilemessages`` runs) and reports
   format errors and any difference between that and the committed ``django.mo``.

Needs GNU gettext (``msgfmt``, ``xgettext``, ``msgmerge``): ``apt-get install gettext``. Without it the
check fails rather than skips, so CI cannot pass without running it.

The other tests prove that the check fails on the faults it is meant to catch, each on a temporary
copy of the package.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

import herzstadt

PACKAGE = Path(herzstadt.__file__).resolve().parent
CATALOGUE = Path("locale") / "de" / "LC_MESSAGES"
#: The options of the README's makemessages command (run from herzstadt/).
MAKEMESSAGES = ["makemessages", "-l", "de", "--no-obsolete", "--add-location=file", "-i", "ngsi/*"]
POT_CREATION = re.compile(r'^"POT-Creation-Date: .*\\n"\n', re.MULTILINE)


def _gettext_missing() -> str | None:
    missing = [tool for tool in ("xgettext", "msgmerge", "msgfmt") if shutil.which(tool) is None]
    if missing:
        return f"GNU gettext is needed ({', '.join(missing)} not found): apt-get install gettext"
    return None


def _django_admin(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # Without DJANGO_SETTINGS_MODULE makemessages writes into ./locale of the working directory, so
    # running it on a copy can never touch the real catalogue (with herzstadt's settings it would
    # write to LOCALE_PATHS, which is the real one).
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [sys.executable, "-m", "django", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def copy_package(destination: Path) -> Path:
    """A copy of the herzstadt package (sources, templates, catalogue) to check or break."""
    target = destination / "herzstadt"
    shutil.copytree(PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


def catalogue_problems(package: Path) -> list[str]:
    """Everything wrong with the German catalogue of ``package`` (a copy: makemessages runs in it)."""
    if problem := _gettext_missing():
        return [problem]
    po_path = package / CATALOGUE / "django.po"
    mo_path = package / CATALOGUE / "django.mo"
    problems: list[str] = []

    # 1. makemessages would not change the catalogue.
    before = po_path.read_text(encoding="utf-8")
    run = _django_admin(MAKEMESSAGES, cwd=package)
    if run.returncode != 0:
        return [f"makemessages failed:\n{run.stderr}"]
    after = po_path.read_text(encoding="utf-8")
    po_path.write_text(before, encoding="utf-8")
    if POT_CREATION.sub("", before) != POT_CREATION.sub("", after):
        diff = difflib.unified_diff(
            before.splitlines(), after.splitlines(), "django.po", "after makemessages", lineterm=""
        )
        shown = [line for line in diff if not line[1:].startswith('"POT-Creation-Date')][:60]
        problems.append(
            "makemessages would change the catalogue; run it (README, Translations) and translate:\n"
            + "\n".join(shown)
        )

    # 2. no empty or fuzzy German msgstr.
    catalogue = polib.pofile(str(po_path))
    if "fuzzy" in (catalogue.metadata_is_fuzzy or []):
        problems.append("the catalogue's header is marked fuzzy")
    for entry in catalogue:
        if entry.obsolete:
            continue
        label = f"{entry.msgctxt}|{entry.msgid}" if entry.msgctxt else entry.msgid
        if entry.fuzzy:
            problems.append(f"fuzzy German translation: {label!r}")
        elif not entry.translated():
            problems.append(f"no German translation: {label!r}")

    # 3. the committed .mo is what msgfmt makes of the .po (and the .po compiles cleanly).
    fresh = package / "fresh.mo"
    compiled = subprocess.run(
        ["msgfmt", "--check-format", "-o", str(fresh), str(po_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if compiled.returncode != 0:
        problems.append(f"msgfmt --check-format fails:\n{compiled.stderr}")
    elif not mo_path.exists():
        problems.append("django.mo is missing: run compilemessages (README, Translations)")
    elif _messages(fresh) != _messages(mo_path):
        problems.append(
            "django.mo is out of date with django.po: run compilemessages (README, Translations)"
        )
    return problems


def _messages(mo: Path) -> tuple[dict[str, str], dict[tuple[str | None, str, str], object]]:
    """The content of a compiled catalogue, header (e.g. Plural-Forms) included, independent of
    msgfmt's version and hash table."""
    compiled = polib.mofile(str(mo))
    entries = {
        (e.msgctxt, e.msgid, e.msgid_plural): (e.msgstr, tuple(sorted(e.msgstr_plural.items())))
        for e in compiled
    }
    return dict(compiled.metadata), entries


@pytest.fixture
def package(tmp_path) -> Path:
    return copy_package(tmp_path)


def test_german_catalogue_is_complete_current_and_compiled(package):
    problems = catalogue_problems(package)
    assert not problems, "\n\n".join(problems)


def _replace_in_po(package: Path, old: str, new: str) -> None:
    # Plain text edits, as a translator's editor would make them (polib would rewrap the file).
    po_path = package / CATALOGUE / "django.po"
    text = po_path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    po_path.write_text(text.replace(old, new), encoding="utf-8")


def test_check_fails_when_a_msgstr_is_emptied(package):
    _replace_in_po(
        package, 'msgid "Measures"\nmsgstr "Maßnahmen"\n', 'msgid "Measures"\nmsgstr ""\n'
    )
    problems = catalogue_problems(package)
    assert "no German translation: 'Measures'" in problems
    # the committed .mo still has the German, so it no longer matches the .po either
    assert any("django.mo is out of date" in p for p in problems)
    assert not any("makemessages" in p for p in problems)


def test_check_fails_when_a_plural_form_is_emptied(package):
    _replace_in_po(
        package,
        'msgid_plural "%(n)s blocked people"\nmsgstr[0] "%(n)s gesperrte Person"\n'
        'msgstr[1] "%(n)s gesperrte Personen"\n',
        'msgid_plural "%(n)s blocked people"\nmsgstr[0] "%(n)s gesperrte Person"\nmsgstr[1] ""\n',
    )
    assert "no German translation: '%(n)s blocked person'" in catalogue_problems(package)


def test_check_fails_on_a_fuzzy_msgstr(package):
    _replace_in_po(package, 'msgctxt "phase feature"\n', '#, fuzzy\nmsgctxt "phase feature"\n')
    assert "fuzzy German translation: 'phase feature|comment'" in catalogue_problems(package)


def test_check_fails_when_a_template_gains_an_untranslated_string(package):
    template = package / "web" / "templates" / "web" / "base.html"
    template.write_text(
        template.read_text(encoding="utf-8")
        + '\n{% load i18n %}{% translate "A sentence nobody has translated yet" %}\n',
        encoding="utf-8",
    )
    problems = catalogue_problems(package)
    assert len(problems) == 1
    assert problems[0].startswith("makemessages would change the catalogue")
    assert '+msgid "A sentence nobody has translated yet"' in problems[0]


def test_check_fails_when_the_code_no_longer_uses_a_msgid(package):
    po_path = package / CATALOGUE / "django.po"
    with po_path.open("a", encoding="utf-8") as po:
        po.write('\n#: web/views.py\nmsgid "A string no code uses"\nmsgstr "Unbenutzt"\n')
    problems = catalogue_problems(package)
    assert problems and problems[0].startswith("makemessages would change the catalogue")
    assert '-msgid "A string no code uses"' in problems[0]


def test_check_fails_when_the_mo_is_not_recompiled(package):
    _replace_in_po(
        package, 'msgid "Measures"\nmsgstr "Maßnahmen"\n', 'msgid "Measures"\nmsgstr "Vorhaben"\n'
    )
    assert catalogue_problems(package) == [
        "django.mo is out of date with django.po: run compilemessages (README, Translations)"
    ]


def test_check_fails_when_a_placeholder_is_mistyped(package):
    _replace_in_po(
        package,
        'msgstr "Umriss von %(name)s"',
        'msgstr "Umriss von %(nmae)s"',
    )
    assert any(p.startswith("msgfmt --check-format fails") for p in catalogue_problems(package))


def test_check_fails_when_the_plural_rule_is_not_recompiled(package):
    _replace_in_po(
        package,
        '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"',
        '"Plural-Forms: nplurals=2; plural=(n > 1);\\n"',
    )
    assert catalogue_problems(package) == [
        "django.mo is out of date with django.po: run compilemessages (README, Translations)"
    ]


def test_check_fails_without_gettext(package, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    problems = catalogue_problems(package)
    assert len(problems) == 1 and problems[0].startswith("GNU gettext is needed")


def test_check_leaves_the_real_catalogue_alone(package):
    real = PACKAGE / CATALOGUE / "django.po"
    before = real.read_bytes()
    (package / "web" / "templates" / "web" / "extra.html").write_text(
        '{% load i18n %}{% translate "Only in the copy" %}', encoding="utf-8"
    )
    catalogue_problems(package)
    assert real.read_bytes() == before
