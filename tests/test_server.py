"""``herzstadt serve`` holds under idle sockets, killed workers and a killed main process (issue 8,
findings 4 and 11), tested against real servers and real processes."""

from __future__ import annotations

import contextlib
import os
import resource
import selectors
import signal
import socket
import subprocess
import sys
import time

import pytest

from herzstadt import server as hz_server
from tests.benchmarks import ON_THEIR_OWN_SQLITE
from tests.serverutil import (
    Server,
    alive,
    clean_environment,
    free_port,
    get,
    run_herzstadt,
)

# every server here runs on its own SQLite data folder (clean_environment): the PostgreSQL pass of
# .ci/run would only repeat the SQLite pass
pytestmark = ON_THEIR_OWN_SQLITE

# --- settings -------------------------------------------------------------------------------------


def test_server_limits_have_sane_defaults():
    limits = hz_server.ServerLimits.from_env({})
    assert limits.header_timeout == 10
    assert limits.max_connections == 2048
    assert limits.backlog == 1024
    assert limits.keep_alive is True


def test_server_limits_come_from_the_environment():
    limits = hz_server.ServerLimits.from_env(
        {
            "HERZSTADT_HEADER_TIMEOUT": "2.5",
            "HERZSTADT_MAX_CONNECTIONS": "100",
            "HERZSTADT_BACKLOG": "256",
            "HERZSTADT_KEEP_ALIVE": "0",
            "HERZSTADT_SHUTDOWN_TIMEOUT": "5",
        }
    )
    assert limits == hz_server.ServerLimits(2.5, 100, 256, False, 5)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HERZSTADT_HEADER_TIMEOUT", "0"),
        ("HERZSTADT_HEADER_TIMEOUT", "soon"),
        ("HERZSTADT_MAX_CONNECTIONS", "1"),
        ("HERZSTADT_BACKLOG", "1e9"),
        ("HERZSTADT_KEEP_ALIVE", "maybe"),
    ],
)
def test_bad_server_settings_are_configuration_errors(name, value):
    with pytest.raises(hz_server.ServerConfigError, match=name):
        hz_server.ServerLimits.from_env({name: value})


def test_serve_refuses_a_bad_setting_with_the_configuration_exit_code(tmp_path):
    from tests.serverutil import clean_environment

    result = run_herzstadt(
        "serve",
        "--port",
        "1",
        env=clean_environment(HERZSTADT_DATA_DIR=str(tmp_path), HERZSTADT_HEADER_TIMEOUT="-1"),
    )
    assert result.returncode == 3, result.stderr
    assert "HERZSTADT_HEADER_TIMEOUT" in result.stderr and "Traceback" not in result.stderr


def test_the_open_files_limit_is_raised_to_fit_the_connection_cap(monkeypatch):
    calls = []
    state = {"soft": 1024, "hard": 4096}
    monkeypatch.setattr(resource, "getrlimit", lambda _what: (state["soft"], state["hard"]))

    def setrlimit(_what, limits):
        calls.append(limits)
        state["soft"] = limits[0]

    monkeypatch.setattr(resource, "setrlimit", setrlimit)
    limits = hz_server.raise_open_files_limit(hz_server.ServerLimits(max_connections=2048))
    assert calls == [(2048 + hz_server.FD_RESERVE, 4096)]
    assert limits.max_connections == 2048


def test_the_connection_cap_is_lowered_when_the_hard_limit_is_too_low(monkeypatch, capsys):
    monkeypatch.setattr(resource, "getrlimit", lambda _what: (1024, 1024))
    monkeypatch.setattr(resource, "setrlimit", lambda *a: None)
    limits = hz_server.raise_open_files_limit(hz_server.ServerLimits(max_connections=2048))
    assert limits.max_connections == 1024 - hz_server.FD_RESERVE
    assert "LimitNOFILE" in capsys.readouterr().err


# --- idle sockets (finding 4) ---------------------------------------------------------------------


def _raise_own_fd_limit(wanted: int) -> int:
    """Raise this test process's open-files limit; returns how many sockets it may open."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted + 200 if hard == resource.RLIM_INFINITY else min(hard, wanted + 200)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return min(wanted, resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 200)


def _open_idle(port: int, n: int) -> list[socket.socket]:
    return [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(n)]


def _closed_by_server(sockets: list[socket.socket], deadline: float) -> int:
    """Wait until the server has closed the sockets (EOF), at most until ``deadline``; how many it closed."""
    selector = selectors.DefaultSelector()
    for sock in sockets:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    closed = 0
    while closed < len(sockets) and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.5):
            try:
                data = key.fileobj.recv(1024)
            except OSError:
                data = b""
            if not data:
                selector.unregister(key.fileobj)
                closed += 1
    selector.close()
    return closed


def _readable(sockets: list[socket.socket]) -> int:
    selector = selectors.DefaultSelector()
    for sock in sockets:
        selector.register(sock, selectors.EVENT_READ)
    ready = len(selector.select(timeout=0))
    selector.close()
    return ready


@pytest.mark.slow
def test_idle_sockets_cannot_take_the_site_down(tmp_path):
    """~1,200 silent connections: a normal request is answered while they are all still open, and the
    server closes every one of them after the header timeout (before: every request timed out)."""
    n = _raise_own_fd_limit(1200)
    assert n >= 600, "the test environment allows too few open files"
    with Server(tmp_path, workers=2, env={"HERZSTADT_HEADER_TIMEOUT": "8"}) as server:
        idle = _open_idle(server.port, n)
        try:
            status, body = get(server.port, "/healthz", timeout=8)
            assert status == 200 and b'"ok"' in body
            # answered while every idle connection was still held open by the server
            assert _readable(idle) == 0
            # ... and the server closes them by itself once the header timeout has passed
            assert _closed_by_server(idle, time.monotonic() + 40) == n
        finally:
            for sock in idle:
                sock.close()
        assert get(server.port, "/healthz")[0] == 200


@pytest.mark.slow
def test_idle_keep_alive_and_half_sent_requests_are_closed(tmp_path):
    with Server(tmp_path, env={"HERZSTADT_HEADER_TIMEOUT": "2"}) as server:
        keep_alive = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        keep_alive.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert keep_alive.recv(4096).startswith(b"HTTP/1.1 200")
        half = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        half.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.")
        try:
            assert _closed_by_server([keep_alive, half], time.monotonic() + 20) == 2
        finally:
            keep_alive.close()
            half.close()


@pytest.mark.slow
def test_above_the_connection_cap_new_connections_wait_and_are_served(tmp_path):
    """More idle sockets than the cap: new connections queue in the kernel (backpressure) and are
    served as soon as the header timeout has freed the idle ones; nothing fails."""
    env = {"HERZSTADT_HEADER_TIMEOUT": "2", "HERZSTADT_MAX_CONNECTIONS": "16"}
    with Server(tmp_path, env=env) as server:
        idle = _open_idle(server.port, 40)
        try:
            status, _ = get(server.port, "/healthz", timeout=30)
            assert status == 200
        finally:
            for sock in idle:
                sock.close()


# --- worker and main process deaths (finding 11) --------------------------------------------------


def _wait_for(predicate, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(message)


@pytest.mark.slow
def test_a_worker_killed_twice_in_quick_succession_is_respawned(tmp_path):
    with Server(tmp_path, workers=2) as server:
        first = server.workers_pids()
        assert len(first) == 2
        victim = first[0]
        os.kill(victim, signal.SIGKILL)
        replacement = _wait_for(
            lambda: [p for p in server.workers_pids() if p not in first],
            20,
            "the killed worker was not respawned:\n" + server.output(),
        )[0]
        os.kill(
            replacement, signal.SIGKILL
        )  # the same worker again, at once (granian gave up here)
        time.sleep(0.2)
        _wait_for(
            lambda: len([p for p in server.workers_pids() if p not in (victim, replacement)]) == 2,
            30,
            "the worker was not respawned a second time:\n" + server.output(),
        )
        assert alive(server.pid), server.output()
        server.wait_until_serving(30)
        assert "crash loop" not in server.output()
        for _ in range(10):
            assert get(server.port, "/healthz")[0] == 200


@pytest.mark.slow
def test_workers_end_with_a_killed_main_process_and_free_the_port(tmp_path):
    with Server(tmp_path, workers=2) as server:
        workers = server.workers_pids()
        os.kill(server.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
        _wait_for(
            lambda: not any(alive(p) for p in workers),
            30,
            "orphaned workers survived their main process",
        )
        # the port is free again (a killed worker's leader shows as a zombie while its other
        # threads may still be closing the files they share, so give the kernel a moment)
        _wait_for(lambda: _port_is_free(server.port), 10, "the port is still held")


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.mark.slow
def test_stopped_workers_end_with_a_killed_main_process(tmp_path):
    """Even workers that are stopped when their main process is killed end: the parent-death signal
    is SIGKILL, which the kernel delivers to stopped processes too (a SIGTERM there once left them
    hanging in granian's shutdown handler, holding the port)."""
    with Server(tmp_path, workers=2) as server:
        workers = server.workers_pids()
        for pid in workers:
            os.kill(pid, signal.SIGSTOP)
        try:
            os.kill(server.pid, signal.SIGKILL)
            server.process.wait(timeout=10)
            _wait_for(lambda: not any(alive(p) for p in workers), 30, "stopped workers did not end")
        finally:
            for pid in workers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


_ORPHAN = """
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
print("listening", flush=True)
time.sleep(120)
"""


def _start_orphan(port: int) -> int:
    """A process that holds ``port`` like a worker of an older herzstadt whose main process is gone:
    'herzstadt' in its command line, reparented away from whoever started it (the shell exits)."""
    result = subprocess.run(
        [
            "sh",
            "-c",
            '"$0" -c "$1" "$2" herzstadt-worker </dev/null >/dev/null 2>&1 & echo $!',
            sys.executable,
            _ORPHAN,
            str(port),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    pid = int(result.stdout.split()[0])
    _wait_for(
        lambda: (
            hz_server.port_holders(port) and pid in {h.pid for h in hz_server.port_holders(port)}
        ),
        30,
        "the stand-in orphan did not listen",
    )
    return pid


@pytest.mark.slow
def test_serve_names_orphaned_workers_that_hold_the_port(tmp_path):
    """Orphans that outlived their main process (e.g. of an older version, or stopped) keep the port;
    ``herzstadt serve`` says which processes they are and what to do, and exits with code 5."""
    port = free_port()
    orphans = [_start_orphan(port), _start_orphan(port)]
    try:
        os.kill(orphans[1], signal.SIGSTOP)
        result = run_herzstadt(
            "serve", "--port", str(port), env=clean_environment(HERZSTADT_DATA_DIR=str(tmp_path))
        )
        assert result.returncode == 5, result.stderr
        message = result.stderr
        assert "orphaned herzstadt worker" in message
        assert f"kill {' '.join(str(p) for p in sorted(orphans))}" in message
        assert (
            f"kill -CONT {' '.join(str(p) for p in sorted(orphans))}" in message
        )  # one is stopped
        assert "Traceback" not in message
    finally:
        for pid in orphans:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_serve_names_a_running_herzstadt_server_on_the_port(tmp_path):
    with Server(tmp_path) as server:
        result = run_herzstadt("serve", "--port", str(server.port), env=server.env)
        assert result.returncode == 5
        assert "A herzstadt server is running there" in result.stderr
        assert str(server.pid) in result.stderr
