"""A real ``herzstadt serve`` for tests: started in its own process group on a free loopback port, and
always stopped (the whole group, orphaned workers included), also when a test fails."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_environment(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HERZSTADT_", "DATABASE_URL", "DJANGO_"))
    }
    # servers under test run without serve's embedded worker (its notifier polls the database);
    # tests of background work start `herzstadt worker` themselves or pass this as "1"
    env["HERZSTADT_EMBEDDED_WORKER"] = "0"
    env.update(extra)
    return env


def run_herzstadt(*args: str, env: dict[str, str], timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-m", "herzstadt", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )


def get(port: int, path: str, timeout: float = 10.0, **headers) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": "127.0.0.1", **headers})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _is_background_worker(pid: int) -> bool:
    try:
        argv = (Path("/proc") / str(pid) / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return argv[1:4] == [b"-m", b"herzstadt", b"worker"]


def children(pid: int) -> list[int]:
    """PIDs of the direct children of ``pid`` (granian's workers of a main process)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("PPid:") and int(line.split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in state


class Server:
    """``herzstadt serve`` in a process group of its own."""

    def __init__(self, data_dir: Path, workers: int = 1, env: dict[str, str] | None = None):
        self.port = free_port()
        self.env = clean_environment(HERZSTADT_DATA_DIR=str(data_dir), **(env or {}))
        self.workers = workers
        self.log = data_dir / f"serve-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> Server:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "herzstadt",
                    "serve",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=ROOT,
                start_new_session=True,
            )
        self.wait_until_serving(timeout)
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_until_serving(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"the server ended:\n{self.output()[-3000:]}")
            with contextlib.suppress(OSError):
                if get(self.port, "/healthz", timeout=2)[0] == 200 and (
                    len(children(self.pid)) >= self.workers
                ):
                    return
            time.sleep(0.2)
        raise AssertionError(f"the server did not start:\n{self.output()[-3000:]}")

    def workers_pids(self) -> list[int]:
        """granian's worker processes (not the embedded ``herzstadt worker`` child of serve)."""
        return [pid for pid in children(self.pid) if not _is_background_worker(pid)]

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and self._group_alive():
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)

    def _group_alive(self) -> bool:
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        self.process.poll()
        # the main process may be a zombie until waited for; its group lives on in orphans
        return any(alive(p) for p in [self.pid, *children(self.pid)]) or self._orphans()

    def _orphans(self) -> bool:
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, ProcessLookupError):
                    if os.getpgid(int(entry.name)) == self.pid and alive(int(entry.name)):
                        return True
        return False

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def environment_for_test_database(**extra: str) -> dict[str, str]:
    """Environment for a server that uses the test run's own database (the test's data is committed:
    use it from transactional tests) and the same secret key, so sessions made in the test are valid."""
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "postgresql":
        url = f"postgresql://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    else:
        url = f"sqlite:///{db['NAME']}"
    env = {"DATABASE_URL": url, "HERZSTADT_SECRET_KEY": settings.SECRET_KEY}
    if os.environ.get("HERZSTADT_NGSI_DATABASE"):
        env["HERZSTADT_NGSI_DATABASE"] = os.environ["HERZSTADT_NGSI_DATABASE"]
    env.update(extra)
    return env


def signed_in_cookies(user) -> dict[str, str]:
    """Cookies of a browser in which ``user`` has signed in (a database session), with a CSRF token."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return {"sessionid": session.session_key, "csrftoken": "c" * 32}


def post_form(port: int, path: str, cookies: dict[str, str], data: dict[str, str], timeout=60):
    """POST a form as a browser would (cookies, the CSRF token); (status, body)."""
    from urllib.parse import urlencode

    body = urlencode({"csrfmiddlewaretoken": cookies.get("csrftoken", ""), **data})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(
            "POST",
            path,
            body=body,
            headers={
                "Host": "127.0.0.1",
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            },
        )
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()
