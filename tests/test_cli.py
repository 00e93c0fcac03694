"""The herzstadt command as a user runs it: help, errors with meaningful exit codes, the demo."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from herzstadt import cli
from tests.benchmarks import ON_THEIR_OWN_SQLITE

COMMANDS = ["demo", "serve", "migrate", "createadmin", "loaddemo"]


def run_cli(*args, env=None, timeout=60):
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HERZSTADT_", "DATABASE_URL", "DJANGO_"))
    }
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "herzstadt", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        cwd=Path(__file__).resolve().parent.parent,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert f"herzstadt {command}" in out
    assert "-h, --help" in out


def test_top_level_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out
    assert "Exit codes" in out


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["fly"])
    assert exit_info.value.code == cli.EXIT_USAGE


def test_port_in_use_is_reported_with_its_exit_code(capsys):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        code = cli.main(["demo", "--port", str(port)])
    assert code == cli.EXIT_ADDRESS
    err = capsys.readouterr().err
    assert f"127.0.0.1:{port}" in err
    assert "--port" in err


def test_unreachable_database_is_reported(tmp_path):
    result = run_cli(
        "migrate",
        env={
            "DATABASE_URL": "postgresql://nobody:secret@127.0.0.1:1/nowhere",
            "HERZSTADT_DATA_DIR": str(tmp_path),
        },
    )
    assert result.returncode == cli.EXIT_DATABASE, result.stderr
    assert "database is unreachable" in result.stderr
    assert "secret" not in result.stderr  # the password is masked
    assert "Traceback" not in result.stderr


def test_production_without_secret_key_refuses_to_start(tmp_path):
    result = run_cli(
        "migrate",
        env={
            "HERZSTADT_ENV": "production",
            "HERZSTADT_ALLOWED_HOSTS": "example.org",
            "HERZSTADT_DATA_DIR": str(tmp_path),
        },
    )
    assert result.returncode == cli.EXIT_CONFIG
    assert "HERZSTADT_SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.django_db
def test_createadmin_creates_a_superuser(monkeypatch, capsys):
    from django.contrib.auth import get_user_model

    monkeypatch.setenv("HERZSTADT_ADMIN_PASSWORD", "Pfaff-Areal-2026!")
    assert cli.main(["createadmin", "--email", "digital@kaiserslautern.example"]) == 0
    user = get_user_model().objects.get(username="digital")
    assert user.is_superuser and user.is_staff
    assert user.check_password("Pfaff-Areal-2026!")
    # the same again is an error, not a crash
    assert cli.main(["createadmin", "--email", "digital@kaiserslautern.example"]) == cli.EXIT_ERROR


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-email", "Pfaff-Areal-2026!", "valid e-mail"),
        ("a@b.example", "1234", "Password rejected"),
    ],
)
def test_createadmin_rejects_bad_input(monkeypatch, capsys, email, password, message):
    monkeypatch.setenv("HERZSTADT_ADMIN_PASSWORD", password)
    assert cli.main(["createadmin", "--email", email]) == cli.EXIT_USAGE
    assert message in capsys.readouterr().err


@pytest.mark.slow
@ON_THEIR_OWN_SQLITE
def test_demo_serves_the_pfaff_areal(tmp_path):
    """The README's quick start: one command sets up the demo and serves it."""
    port = free_port()
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HERZSTADT_", "DATABASE_URL", "DJANGO_"))
    }
    environment["HERZSTADT_DATA_DIR"] = str(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "herzstadt", "demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
    )
    try:
        url = None
        deadline = time.monotonic() + 90
        lines = []
        while time.monotonic() < deadline and url is None:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "is running at" in line:
                url = line.split("is running at", 1)[1].split()[0]
        assert url == f"http://127.0.0.1:{port}/", "".join(lines)
        body = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url + "stadtteile/pfaff-areal/", timeout=5) as response:
                    body = response.read().decode()
                break
            except OSError:
                time.sleep(0.3)
        assert body is not None
        assert "Pfaff-Areal" in body
        assert "7.7512, 49.4432" in body
        with urllib.request.urlopen(url + "en/", timeout=5) as response:
            assert 'lang="en"' in response.read().decode()
        # the printed demo key and curl example work against the running server
        output = "".join(lines)
        key = output.split("Demo API key for ", 1)[1].split(": ", 1)[1].split()[0]
        example = output.split("Try: curl ", 1)[1].split("\n", 1)[0]
        entities_url = example.rsplit("'", 2)[-2]
        assert entities_url.startswith(f"http://127.0.0.1:{port}/ngsi-ld/v1/entities?type="), output
        request = urllib.request.Request(entities_url, headers={"X-API-Key": key})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())  # the parking entities
        with urllib.request.urlopen(entities_url, timeout=10) as response:
            assert json.loads(response.read())  # open data: anonymous too
        bad = urllib.request.Request(entities_url, headers={"X-API-Key": key + "x"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(bad, timeout=10)
        assert refused.value.code == 401
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
