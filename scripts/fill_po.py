"""Regenerate the message catalogues and fill the German one from scripts/translations_de.py.

Run: uv run python scripts/fill_po.py   (needs GNU gettext: apt-get install gettext)
Fails (exit 1) when a UI string has no German translation, so none is forgotten.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import importlib  # noqa: E402

from translations_de import DE  # noqa: E402

# Pillars may keep their German in scripts/translations_de_<pillar>.py (a dict named DE each).
for _extra in sorted((ROOT / "scripts").glob("translations_de_*.py")):
    DE = {**DE, **importlib.import_module(_extra.stem).DE}

PO = ROOT / "herzstadt" / "locale" / "de" / "LC_MESSAGES" / "django.po"


def unquote(block: str) -> str:
    return "".join(eval(line) for line in block.strip().splitlines())  # noqa: S307 - PO string literals


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main() -> int:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "herzstadt.settings",
        "HERZSTADT_DATA_DIR": tempfile.mkdtemp(prefix="herzstadt-i18n-"),
    }
    subprocess.run(
        ["django-admin", "makemessages", "-l", "de", "-l", "en", "--no-obsolete", "-i", "ngsi/*"],
        cwd=ROOT / "herzstadt",
        check=True,
        env=env,
    )
    text = PO.read_text(encoding="utf-8")
    text = text.replace("#, fuzzy\n", "", 1)
    missing: list[str] = []
    out: list[str] = []
    for chunk in text.split("\n\n"):
        # Our German replaces msgmerge's fuzzy guesses: drop the flag and the "#|" previous msgid.
        comments = [
            line.replace("#, fuzzy, ", "#, ")
            for line in chunk.splitlines()
            if line.startswith("#") and line != "#, fuzzy" and not line.startswith("#|")
        ]
        body = "\n".join(line for line in chunk.splitlines() if not line.startswith("#"))
        plural = re.match(r"(?s)msgid (.*?)\nmsgid_plural (.*?)\nmsgstr\[0\] .*", body)
        single = re.match(r"(?s)msgid (.*?)\nmsgstr (.*)", body)
        if plural:
            key = (unquote(plural.group(1)), unquote(plural.group(2)))
            if key not in DE:
                missing.append(repr(key))
                out.append(chunk)
                continue
            one, many = DE[key]
            body = (
                f"msgid {quote(key[0])}\nmsgid_plural {quote(key[1])}\n"
                f"msgstr[0] {quote(one)}\nmsgstr[1] {quote(many)}"
            )
        elif single and unquote(single.group(1)):
            key = unquote(single.group(1))
            if key not in DE:
                missing.append(repr(key))
                out.append(chunk)
                continue
            body = f"msgid {quote(key)}\nmsgstr {quote(DE[key])}"
        else:
            out.append(chunk.replace("Language: \\n", "Language: de\\n"))
            continue
        out.append("\n".join([*comments, body]))
    PO.write_text("\n\n".join(out), encoding="utf-8")
    subprocess.run(["django-admin", "compilemessages"], cwd=ROOT / "herzstadt", check=True, env=env)
    if missing:
        print("Missing German translations:\n  " + "\n  ".join(missing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
