"""Fixtures of the notifier tests: a broker on a fresh database (SQLite file, or a PostgreSQL
schema of its own: the dispatcher's cursor spans all tenants), a local HTTP receiver."""

from __future__ import annotations

import http.server
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from herzstadt.ngsi.asgi import make_app
from tests.ngsi.conftest import BACKENDS, PG_URL, Client, make_config


class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST; ``behave[path]`` may answer with
    another status or wait for an event first."""

    def __init__(self) -> None:
        self.got: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.status: dict[str, list[int]] = {}  # path -> statuses to answer, in turn
        self.gate: dict[str, threading.Event] = {}  # path -> wait for this before answering
        self.delay = 0.0  # seconds every answer waits
        rec = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                gate = rec.gate.get(self.path)
                if gate is not None:
                    gate.wait(20)
                if rec.delay:
                    time.sleep(rec.delay)
                with rec.lock:
                    seq = rec.status.get(self.path)
                    status = seq.pop(0) if seq else 200
                    rec.got.append(
                        {
                            "path": self.path,
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": json.loads(body),
                            "status": status,
                            "at": time.monotonic(),
                        }
                    )
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *a: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str = "/notify") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def received(self, path: str | None = None, ok_only: bool = True) -> list[dict[str, Any]]:
        with self.lock:
            return [
                g
                for g in self.got
                if (path is None or g["path"] == path) and (not ok_only or g["status"] < 300)
            ]

    def ids(self) -> set[str]:
        """The ids of the entities notified so far (successful deliveries)."""
        return {d["id"] for g in self.received() for d in g["body"]["data"]}

    def close(self) -> None:
        for g in self.gate.values():
            g.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def db_url(backend: str, tmp_path) -> tuple[str, Callable[[], None]]:
    if backend == "sqlite":
        return str(tmp_path / "ngsi.sqlite3"), lambda: None
    schema = f"ngsi_notify_{uuid.uuid4().hex[:10]}"

    def drop() -> None:
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as c:
            c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    return PG_URL + ("&" if "?" in PG_URL else "?") + f"schema={schema}", drop


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def world(backend, tmp_path):
    """(client, broker, config) with notifications allowed to loopback."""
    url, drop = db_url(backend, tmp_path)
    cfg = make_config(
        backend,
        tmp_path,
        database=url,
        notify_hosts=["127.0.0.1"],
        notify_allow_private=True,
        notify_timeout=5.0,
    )
    app = make_app(cfg)
    c = Client(app, "")
    yield c, app.broker, cfg
    c.close()
    app.close()
    drop()


def until(cond: Callable[[], Any], step: Callable[[], Any] | None = None, timeout: float = 10.0):
    """Run ``step`` (a notifier round) until ``cond()`` is truthy; fail after ``timeout``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if step is not None:
            step()
        v = cond()
        if v:
            return v
        time.sleep(0.01)
    raise AssertionError("condition not reached in time")
