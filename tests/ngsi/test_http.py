"""HTTP hardening of the broker (issue 8): off-loop handlers, hosts, URLs, headers, 4xx not 5xx."""

from __future__ import annotations

import asyncio
import dataclasses
import threading

import httpx
import pytest

from herzstadt.ngsi.asgi import make_app
from herzstadt.ngsi.config import NgsiConfig
from herzstadt.ngsi.routes import ROUTER, ROUTES
from herzstadt.ngsi.service import Kind, Result

from .conftest import BASE, Client

CORE = "https%3A%2F%2Furi.etsi.org%2Fngsi-ld%2Fv1%2Fngsi-ld-core-context-v1.9.jsonld"


def _open_app(tmp_path, **kw):
    return make_app(NgsiConfig(database=str(tmp_path / "h.sqlite3"), open_access=True, **kw))


def _count(app, tenant="") -> int:
    return sum(1 for _ in app.broker.store.all_docs(tenant))


def test_a_slow_handler_does_not_delay_other_requests(tmp_path, monkeypatch):
    app = _open_app(tmp_path)
    started, release = threading.Event(), threading.Event()

    def slow(broker, req, params):
        started.set()
        release.wait(10)  # blocks its thread; on the event loop it would block every request
        return Result(200, ["slow"], Kind.RAW)

    route, _ = ROUTER.match("types")
    monkeypatch.setitem(
        route.methods, "GET", dataclasses.replace(route.methods["GET"], handler=slow)
    )

    async def main():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            slow_req = asyncio.create_task(c.get(BASE + "/types"))
            while not started.is_set():
                await asyncio.sleep(0.005)
            r = await asyncio.wait_for(c.get(BASE + "/jsonldContexts"), 5)
            assert r.status_code == 200
            assert not slow_req.done()
            release.set()
            assert (await slow_req).json() == ["slow"]

    try:
        asyncio.run(main())
    finally:
        release.set()
        app.close()


def test_a_slow_context_fetch_does_not_delay_other_requests(tmp_path):
    app = _open_app(tmp_path)
    started, release = threading.Event(), threading.Event()
    resolver = app.broker.resolver
    real_get = resolver.get
    slow_url = "https://slow.example.org/context.jsonld"

    def get(raw, tenant=""):
        if raw == slow_url:  # a context server that answers slowly
            started.set()
            release.wait(10)
            raw = None
        return real_get(raw, tenant)

    resolver.get = get
    link = f'<{slow_url}>; rel="http://www.w3.org/ns/json-ld#context"'

    async def main():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            slow_req = asyncio.create_task(
                c.get(BASE + "/entities", params={"type": "T"}, headers={"Link": link})
            )
            while not started.is_set():
                await asyncio.sleep(0.005)
            r = await asyncio.wait_for(c.get(BASE + "/entities", params={"type": "T"}), 5)
            assert r.status_code == 200
            assert not slow_req.done()
            release.set()
            assert (await slow_req).status_code == 200

    try:
        asyncio.run(main())
    finally:
        release.set()
        app.close()


def test_allowed_hosts(tmp_path):
    app = _open_app(tmp_path, allowed_hosts=["data.example.org", ".stadt.example"])
    c = Client(app, "")
    try:
        for host, ok in (
            ("data.example.org", True),
            ("data.example.org:8443", True),
            ("stadt.example", True),
            ("daten.stadt.example", True),
            ("evil.example", False),
            ("data.example.org.evil.example", False),
            ("", False),
        ):
            r = c.get("jsonldContexts", headers={"Host": host})
            assert (r.status_code == 200) is ok, host
            if not ok:
                assert r.status_code == 400
                assert r.json()["type"].endswith("BadRequestData")
                assert r.headers["x-content-type-options"] == "nosniff"
        r = c.post(
            "entities", json={"id": "urn:x:1", "type": "T"}, headers={"Host": "evil.example"}
        )
        assert r.status_code == 400 and _count(app) == 0
    finally:
        c.close()
        app.close()


def test_urls_come_from_the_public_url_never_from_host(tmp_path):
    app = _open_app(tmp_path, public_url="https://data.example.org")
    c = Client(app, "")
    evil = {"Host": "evil.example", "Content-Type": "application/ld+json"}
    try:
        r = c.post(
            "entities",
            content=b'{"id": "urn:x:1", "type": "T", "@context": {"T": "https://e.org/T"}}',
            headers=evil,
        )
        assert r.status_code == 201
        assert r.headers["location"] == BASE + "/entities/urn:x:1"
        r = c.post(
            "entityOperations/query",
            content=b'{"type": "Query", "entities": [{"type": "T"}],'
            b' "@context": {"T": "https://e.org/T"}}',
            headers={**evil, "Accept": "application/json"},
        )
        assert r.status_code == 200 and len(r.json()) == 1
        link = r.headers["link"]
        assert link.startswith("<https://data.example.org/ngsi-ld/v1/jsonldContexts/")
        assert "evil" not in link
        urls = c.get("jsonldContexts", headers={"Host": "evil.example"}).json()
        assert not any("evil" in u for u in urls)
    finally:
        c.close()
        app.close()


def test_nosniff_and_allow_on_every_kind_of_response(client):
    for r in (
        client.get("jsonldContexts"),
        client.post("entities", json={"id": "urn:x:1", "type": "T"}),
        client.delete("entities/urn:x:1"),
        client.get("entities/urn:x:1"),
        client.get("nothing"),
    ):
        assert r.headers["x-content-type-options"] == "nosniff", r.status_code
    for route in ROUTES:
        if "GET" in route.methods and "DELETE" not in route.methods:
            path = route.pattern.replace("{type:path}", "T").replace("{attrId:path}", "a")
            path = path.replace("{entityId}", "urn:x:1").replace("{attrId}", "a")
            r = client.delete(path)
            assert r.status_code in (400, 405), path
            if r.status_code == 405:
                assert r.headers["allow"] == ", ".join(sorted(route.methods))
    r = client.request("DELETE", "types/x")
    assert r.status_code == 405 and r.headers["allow"] == "GET"
    r = client.request("PUT", "entities/urn:x:1/attrs")
    assert r.status_code == 405 and r.headers["allow"] == "PATCH, POST"


@pytest.mark.parametrize(
    "params,status",
    [
        ({"offset": "9223372036854775808"}, 400),
        ({"offset": "99999999999999999999999999"}, 400),
        ({"offset": str(2**31)}, 400),
        ({"limit": "9223372036854775808"}, 403),
        ({"limit": "1" + "0" * 40}, 403),
        ({"limit": "-1"}, 400),
        ({"offset": "1e3"}, 400),
    ],
)
def test_huge_paging_numbers_are_4xx(client, params, status):
    client.post("entities", json={"id": "urn:x:1", "type": "T"})
    r = client.get("entities", params={"type": "T", **params})
    assert r.status_code == status, r.text
    assert r.json()["status"] == status
    r = client.post("entityOperations/query", params=params, json={"type": "Query", "q": "a==1"})
    assert r.status_code == status
    r = client.get("subscriptions", params=params)
    assert r.status_code == status


def test_brackets_in_strings_cannot_hide_the_nesting_depth(client, app):
    deep: object = 1
    for _ in range(300):  # deeper than orjson can write (and than max_json_depth)
        deep = [deep]
    for hiding in ("]" * 400, "}" * 400, "]}" * 200):
        body = {
            "id": "urn:x:deep",
            "type": "T",
            "a": {"type": "Property", "value": [hiding, deep]},
        }
        r = client.post("entities", json=body)
        assert r.status_code == 400, r.text
        assert r.json()["detail"] == "the payload is nested too deeply"
        r = client.post("entityOperations/upsert", json=[body])
        assert r.status_code == 400
    assert client.get("entities/urn:x:deep").status_code == 404
    # brackets in strings alone are fine
    body = {"id": "urn:x:flat", "type": "T", "a": {"type": "Property", "value": "[[[[" * 100}}
    assert client.post("entities", json=body).status_code == 201


def test_unknown_parameters_and_routes_stay_as_etsi_expects(client):
    assert client.get("entities", params={"type": "T", "bogus": "1"}).status_code == 400
    assert client.post("entityOperations/create", params={"bogus": "1"}, json=[]).status_code == 400
    assert client.get("entities/urn:x:1/attrs").status_code == 405
    assert client.get("entities/urn:x:1/attrs/a/b").status_code == 404
    assert client.patch("entities", json={}).status_code == 400  # missing identifier
    assert client.get("jsonldContexts/" + CORE).status_code == 200
    r = client.request("OPTIONS", "entities")  # no CORS preflight: as any other method
    assert r.status_code == 405


def test_workers_run_off_the_loop_bounded_and_pass_errors():
    from herzstadt.ngsi.asgi import Workers

    w = Workers(2)
    gate = threading.Event()
    names: set[str] = set()

    def job(k):
        gate.wait(5)
        names.add(threading.current_thread().name)
        if k == 3:
            raise ValueError("boom")
        return k * 2

    async def main():
        futs = [w.run(job, k) for k in range(6)]
        await asyncio.sleep(0.05)
        assert len(w.threads) == 2 and not any(f.done() for f in futs)
        gate.set()
        return await asyncio.gather(*futs, return_exceptions=True)

    results = asyncio.run(main())
    assert results[:3] == [0, 2, 4] and isinstance(results[3], ValueError)
    assert results[4:] == [8, 10]
    assert names <= {"ngsi-0", "ngsi-1"} and threading.current_thread().name not in names
    w.shutdown()
    for t in w.threads:
        t.join(5)
        assert not t.is_alive()
