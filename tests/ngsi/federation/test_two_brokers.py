"""Two real brokers on loopback: B registered at A as a context source.

A query at A includes B's entities (merged with A's own copy of a shared entity), local=true
excludes them, a registration loop (A->B->A) terminates, a request that has passed A already
is refused with 508, B being down gives A's own data at once; the registration's
contextSourceInfo and tenant travel as headers."""

from __future__ import annotations

import contextlib
import http.client
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from tests.ngsi.conftest import BACKENDS, PG_URL
from tests.serverutil import ROOT, clean_environment, free_port

BASE = "/ngsi-ld/v1"


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


def _db(backend: str, tmp_path, name: str) -> tuple[str, str | None]:
    if backend == "sqlite":
        return str(tmp_path / f"{name}.sqlite3"), None
    schema = f"fed_{name}_{uuid.uuid4().hex[:8]}"
    return PG_URL + ("&" if "?" in PG_URL else "?") + f"schema={schema}", schema


def _drop(schema: str | None) -> None:
    if schema:
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as c:
            c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def call(port: int, method: str, path: str, body=None, headers=None, timeout=15.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        h = {"Accept": "application/json", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body)
            h["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        raw = r.read()
        return r.status, (json.loads(raw) if raw else None)
    finally:
        conn.close()


@contextlib.contextmanager
def broker(db: str, port: int, csource_hosts: str = "") -> Iterator[subprocess.Popen[bytes]]:
    env = clean_environment(
        HERZSTADT_NGSI_DATABASE=db,
        HERZSTADT_NGSI_OPEN_ACCESS="1",
        HERZSTADT_NGSI_ETSI_PRELOAD="0",
        HERZSTADT_NGSI_REMOTE_CONTEXTS="0",
        HERZSTADT_NGSI_NOTIFIER="0",
        HERZSTADT_NGSI_CSOURCE_HOSTS=csource_hosts,
        HERZSTADT_NGSI_CSOURCE_ALLOW_PRIVATE="1",
        HERZSTADT_NGSI_CSOURCE_TIMEOUT="3",
    )
    p = subprocess.Popen(
        [sys.executable, "-m", "herzstadt.ngsi", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        end = time.monotonic() + 60
        while True:
            try:
                if call(port, "GET", BASE + "/types", timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > end or p.poll() is not None:
                raise AssertionError("broker did not start")
            time.sleep(0.2)
        yield p
    finally:
        stop(p)


def stop(p: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(p.pid, signal.SIGTERM)
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGKILL)
        p.wait(10)


def vehicle(eid: str, **attrs) -> dict:
    return {
        "id": eid,
        "type": "Vehicle",
        **{k: {"type": "Property", "value": v} for k, v in attrs.items()},
    }


def register(port: int, rid: str, endpoint: str, **extra) -> None:
    reg = {
        "id": rid,
        "type": "ContextSourceRegistration",
        "information": [{"entities": [{"type": "Vehicle"}]}],
        "endpoint": endpoint,
        **extra,
    }
    status, body = call(port, "POST", BASE + "/csourceRegistrations", reg)
    assert status == 201, body


def ids(body) -> set[str]:
    return {e["id"] for e in body}


def test_query_at_a_includes_b_and_loops_end(backend, tmp_path):
    pa, pb = free_port(), free_port()
    (dba, sa), (dbb, sb) = _db(backend, tmp_path, "a"), _db(backend, tmp_path, "b")
    hosts = f"127.0.0.1:{pa},127.0.0.1:{pb}"
    try:
        with broker(dba, pa, hosts), broker(dbb, pb, hosts) as b:
            for port, ent in (
                (pa, vehicle("urn:ngsi-ld:Vehicle:a1", speed=10)),
                (pa, vehicle("urn:ngsi-ld:Vehicle:s1", speed=1)),
                (pb, vehicle("urn:ngsi-ld:Vehicle:b1", speed=20)),
                (pb, vehicle("urn:ngsi-ld:Vehicle:s1", brand="B-brand")),
            ):
                assert call(port, "POST", BASE + "/entities", ent)[0] == 201
            register(pa, "urn:ngsi-ld:ContextSourceRegistration:b", f"http://127.0.0.1:{pb}")

            status, body = call(pa, "GET", BASE + "/entities?type=Vehicle")
            assert status == 200
            assert ids(body) == {
                "urn:ngsi-ld:Vehicle:a1",
                "urn:ngsi-ld:Vehicle:s1",
                "urn:ngsi-ld:Vehicle:b1",
            }
            shared = next(e for e in body if e["id"] == "urn:ngsi-ld:Vehicle:s1")
            assert shared["speed"]["value"] == 1 and shared["brand"]["value"] == "B-brand"

            query = {"type": "Query", "entities": [{"type": "Vehicle"}]}
            status, body = call(pa, "POST", BASE + "/entityOperations/query", query)
            assert status == 200 and len(body) == 3  # queryBatch is forwarded too

            status, body = call(pa, "GET", BASE + "/entities/urn:ngsi-ld:Vehicle:b1")
            assert status == 200 and body["speed"]["value"] == 20

            status, body = call(pa, "GET", BASE + "/entities?type=Vehicle&local=true")
            assert ids(body) == {"urn:ngsi-ld:Vehicle:a1", "urn:ngsi-ld:Vehicle:s1"}
            assert "brand" not in next(e for e in body if e["id"] == "urn:ngsi-ld:Vehicle:s1")
            status, _ = call(pa, "GET", BASE + "/entities/urn:ngsi-ld:Vehicle:b1?local=true")
            assert status == 404

            # a loop: B registers A as well; the query at A still ends, with the same answer
            register(pb, "urn:ngsi-ld:ContextSourceRegistration:a", f"http://127.0.0.1:{pa}")
            t0 = time.monotonic()
            status, body = call(pa, "GET", BASE + "/entities?type=Vehicle")
            assert status == 200 and len(body) == 3
            assert time.monotonic() - t0 < 3
            status, body = call(pb, "GET", BASE + "/entities?type=Vehicle")
            assert status == 200 and len(body) == 3
            # a request that has come through A already is refused by A
            status, body = call(
                pa,
                "GET",
                BASE + "/entities?type=Vehicle",
                headers={"Via": f"1.1 127.0.0.1:{pb}, 1.1 127.0.0.1:{pa}"},
            )
            assert status == 508 and body["type"].endswith("/LoopDetected")

            stop(b)  # B is down: A answers with its own data at once
            t0 = time.monotonic()
            status, body = call(pa, "GET", BASE + "/entities?type=Vehicle")
            assert status == 200
            assert ids(body) == {"urn:ngsi-ld:Vehicle:a1", "urn:ngsi-ld:Vehicle:s1"}
            assert time.monotonic() - t0 < 2
    finally:
        _drop(sa)
        _drop(sb)


class _Capture(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, dict[str, str], bytes]] = []

    def _any(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        type(self).seen.append((f"{self.command} {self.path}", dict(self.headers), body))
        if self.command == "GET":
            out = json.dumps([vehicle("urn:ngsi-ld:Vehicle:c1", speed=5)]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
        else:
            self.send_response(201 if self.command == "POST" else 204)
            self.send_header("Content-Length", "0")
            self.end_headers()

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _any

    def log_message(self, *a) -> None:
        pass


def test_headers_tenant_and_provision(backend, tmp_path):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    _Capture.seen = []
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    pc, pa = srv.server_address[1], free_port()
    dba, sa = _db(backend, tmp_path, "h")
    try:
        with broker(dba, pa, f"127.0.0.1:{pc}"):
            register(
                pa,
                "urn:ngsi-ld:ContextSourceRegistration:c",
                f"http://127.0.0.1:{pc}/city-c",
                tenant="partner",
                operations=["federationOps", "createEntity", "deleteEntity"],
                contextSourceInfo=[
                    {"key": "X-API-Key", "value": "hzk_partner_secret"},
                    {"key": "Host", "value": "evil.example"},
                ],
            )
            status, body = call(pa, "GET", BASE + "/entities?type=Vehicle")
            assert status == 200 and ids(body) == {"urn:ngsi-ld:Vehicle:c1"}
            line, headers, _ = _Capture.seen[-1]
            assert line.startswith("GET /city-c/ngsi-ld/v1/entities?") and "type=Vehicle" in line
            h = {k.lower(): v for k, v in headers.items()}
            assert h["x-api-key"] == "hzk_partner_secret"
            assert h["ngsild-tenant"] == "partner"
            assert h["via"] == f"1.1 127.0.0.1:{pa}"
            assert h["host"] == f"127.0.0.1:{pc}"  # contextSourceInfo cannot set it
            # an inclusive registration offering createEntity: a create goes to the source
            # and is done here too
            ent = vehicle("urn:ngsi-ld:Vehicle:n1", speed=3)
            assert call(pa, "POST", BASE + "/entities", ent)[0] == 201
            line, headers, raw = _Capture.seen[-1]
            assert line == "POST /city-c/ngsi-ld/v1/entities" and json.loads(raw)["id"] == ent["id"]
            status, _ = call(pa, "GET", BASE + "/entities/urn:ngsi-ld:Vehicle:n1?local=true")
            assert status == 200
            # local=true: nothing is forwarded
            n = len(_Capture.seen)
            assert (
                call(pa, "DELETE", BASE + "/entities/urn:ngsi-ld:Vehicle:n1?local=true")[0] == 204
            )
            assert len(_Capture.seen) == n
    finally:
        srv.shutdown()
        _drop(sa)


@pytest.mark.parametrize("operation", ["queryEntity", "queryBatch"])
def test_retrieval_becomes_a_query_for_a_source_offering_only_queries(backend, tmp_path, operation):
    pa, pb = free_port(), free_port()
    (dba, sa), (dbb, sb) = _db(backend, tmp_path, "a"), _db(backend, tmp_path, "b")
    try:
        with broker(dba, pa, f"127.0.0.1:{pb}"), broker(dbb, pb):
            for eid, speed in (("urn:ngsi-ld:Vehicle:b1", 20), ("urn:ngsi-ld:Vehicle:b2", 30)):
                assert call(pb, "POST", BASE + "/entities", vehicle(eid, speed=speed))[0] == 201
            rid = "urn:ngsi-ld:ContextSourceRegistration:q"
            register(pa, rid, f"http://127.0.0.1:{pb}", operations=[operation])
            status, body = call(pa, "GET", BASE + "/entities/urn:ngsi-ld:Vehicle:b2")
            assert status == 200, body
            assert body["id"] == "urn:ngsi-ld:Vehicle:b2" and body["speed"]["value"] == 30
            status, _ = call(pa, "GET", BASE + "/entities/urn:ngsi-ld:Vehicle:nowhere")
            assert status == 404
            # offering neither retrieveEntity nor a query: not asked
            assert call(pa, "DELETE", BASE + f"/csourceRegistrations/{rid}")[0] == 204
            register(pa, rid, f"http://127.0.0.1:{pb}", operations=["updateOps"])
            assert call(pa, "GET", BASE + "/entities/urn:ngsi-ld:Vehicle:b2")[0] == 404
    finally:
        _drop(sa)
        _drop(sb)
