"""The README's quick start: each of its two commands works on its own on a fresh machine (it installs
uv when it is missing), and CI runs exactly its test command (.ci/run reads it from the README)."""

import re
import subprocess

from tests.serverutil import ROOT

INSTALL_UV = "python3 -m pip install -q uv && "


def quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the quick start has a sh block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_each_quick_start_command_installs_uv_first():
    commands = quick_start_commands()
    assert [c.removeprefix(INSTALL_UV) for c in commands] == [
        "python3 -m uv run herzstadt demo",
        "python3 -m uv run pytest",
    ]
    assert all(c.startswith(INSTALL_UV) for c in commands)


def test_ci_runs_the_readmes_test_command():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    # the line of .ci/run that picks the command out of the README, run as .ci/run runs it
    pick = next(line for line in script.splitlines() if line.startswith("TEST_COMMAND="))
    out = subprocess.run(
        ["bash", "-c", f'{pick}\nprintf %s "$TEST_COMMAND"'],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out == quick_start_commands()[1]
    assert script.count('bash -c "$TEST_COMMAND"') == 2  # SQLite, then PostgreSQL
