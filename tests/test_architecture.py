"""The shell (core, accounts, web) names no pillar: no import (import-linter checks that in CI, and
here too) and no string reference to a pillar's package, URL namespace or templates."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHELL = ("core", "accounts", "web")
PILLARS = ("participation", "urbandata")
#: A pillar's package, URL namespace or template folder named in code or templates.
_NAMES = "|".join(PILLARS)
REFERENCE = re.compile(rf"herzstadt[./](?:{_NAMES})\b|[\"'](?:{_NAMES})[:/]")


def _files(package: str):
    for path in sorted((ROOT / "herzstadt" / package).rglob("*")):
        if path.suffix in {".py", ".html", ".txt", ".js"} and "migrations" not in path.parts:
            yield path


@pytest.mark.parametrize("package", SHELL)
def test_the_shell_names_no_pillar(package):
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in _files(package)
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if REFERENCE.search(line)
    ]
    assert not found, "\n".join(found)


def test_the_reference_pattern_finds_what_it_should():
    assert REFERENCE.search("from herzstadt.participation.models import Idea")
    assert REFERENCE.search("{% url 'participation:processes' %}")
    assert REFERENCE.search('{% include "urbandata/_measured.html" %}')
    assert not REFERENCE.search("Follow a participation process")


def test_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout
