"""HTTP behaviour of the raw ASGI app: negotiation, limits, errors, isolation from Django."""

import subprocess
import sys

from herzstadt.ngsi.asgi import make_app
from herzstadt.ngsi.config import NgsiConfig

from .conftest import Client


def test_core_never_imports_django():
    code = (
        "import sys, herzstadt.ngsi.asgi, herzstadt.ngsi.service, herzstadt.ngsi.storage.sqlite;"
        "assert 'django' not in sys.modules, 'django imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_path_and_method(client):
    assert client.get("nothing").status_code == 404
    r = client.request("DELETE", "types/x")
    assert r.status_code == 405
    assert client.get("/other/v1/entities").status_code == 404


def test_body_limits(tmp_path):
    app = make_app(
        NgsiConfig(
            database=str(tmp_path / "x.sqlite3"),
            max_body_bytes=1000,
            max_json_depth=10,
            open_access=True,
        )
    )
    c = Client(app, "")
    try:
        r = c.post("entities", json={"id": "urn:x:1", "type": "T", "a": "x" * 2000})
        assert r.status_code == 413
        deep: dict = {"value": 1}
        for _ in range(20):
            deep = {"value": deep}
        r = c.post("entities", json={"id": "urn:x:1", "type": "T", "a": deep})
        assert r.status_code == 400
    finally:
        c.close()
        app.close()


def test_internal_errors_are_problem_details(client, monkeypatch):
    import dataclasses

    from herzstadt.ngsi.routes import ROUTER

    def boom(*a, **k):
        raise RuntimeError("secret stack")

    route, _ = ROUTER.match("types")
    monkeypatch.setitem(
        route.methods, "GET", dataclasses.replace(route.methods["GET"], handler=boom)
    )
    r = client.get("types")
    assert r.status_code == 500
    assert r.json()["type"].endswith("InternalError") and "secret" not in r.text


def test_accept_negotiation(client):
    client.post("entities", json={"id": "urn:x:1", "type": "T"})
    r = client.get("entities/urn:x:1", headers={"Accept": "application/ld+json;q=0.9, */*;q=0.1"})
    assert r.headers["content-type"] == "application/ld+json"
    r = client.get("entities/urn:x:1", headers={"Accept": "*/*"})
    assert r.headers["content-type"] == "application/json"
    assert client.get("entities/urn:x:1", headers={"Accept": "image/png"}).status_code == 406


def test_lifespan():
    import asyncio

    app = make_app(NgsiConfig(database=":memory:"))
    msgs = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent = []

    async def receive():
        return msgs.pop(0)

    async def send(m):
        sent.append(m["type"])

    asyncio.run(app({"type": "lifespan"}, receive, send))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
