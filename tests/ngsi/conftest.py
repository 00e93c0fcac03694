"""Fixtures: the NGSI-LD ASGI app on SQLite (always) and PostgreSQL (HERZSTADT_TEST_DATABASE_URL)."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import httpx
import pytest

from herzstadt.ngsi.asgi import make_app
from herzstadt.ngsi.config import NgsiConfig

PG_URL = os.environ.get("HERZSTADT_TEST_DATABASE_URL", "")
# The SQLite pass runs the broker on SQLite, the PostgreSQL pass on PostgreSQL: each once.
BACKENDS = ["postgresql"] if PG_URL else ["sqlite"]
CONTEXTS = Path(__file__).parent / "data"

BASE = "/ngsi-ld/v1"


class Client:
    """Synchronous wrapper over httpx.AsyncClient + ASGITransport, with a per-test tenant."""

    def __init__(self, app, tenant: str):
        self.app = app
        self.tenant = tenant
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        json=None,
        headers=None,
        content=None,
        params=None,
        tenant: bool | str = True,
    ) -> httpx.Response:
        h = dict(headers or {})
        if tenant is True and self.tenant:
            h.setdefault("NGSILD-Tenant", self.tenant)
        elif isinstance(tenant, str) and tenant:
            h["NGSILD-Tenant"] = tenant
        if not path.startswith("/"):
            path = BASE + "/" + path
        return self.loop.run_until_complete(
            self.client.request(method, path, json=json, headers=h, content=content, params=params)
        )

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def close(self):
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


def make_config(backend: str, tmp_path: Path, **overrides) -> NgsiConfig:
    if backend == "sqlite":
        db = str(tmp_path / "ngsi.sqlite3")
    else:
        # own schema in the shared database; per-test tenants isolate the tests from each other
        db = PG_URL + ("&" if "?" in PG_URL else "?") + "schema=ngsi_test"
    # the NGSI-LD semantics tests run with open access; tests/ngsi/test_auth*.py test access
    settings = {
        "database": db,
        "allow_remote_contexts": False,
        "max_limit": 1000,
        "preload_files": [str(CONTEXTS / "preload.json")],
        "open_access": True,
        "public_url": "http://testserver",
    }
    settings.update(overrides)
    return NgsiConfig(**settings)


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def app(backend, tmp_path):
    a = make_app(make_config(backend, tmp_path))
    yield a
    a.close()


@pytest.fixture
def client(app, backend):
    # PostgreSQL is shared between tests: isolate each test in its own tenant
    tenant = f"t{uuid.uuid4().hex[:12]}" if backend == "postgresql" else ""
    c = Client(app, tenant)
    yield c
    c.close()
    if backend == "postgresql":
        from tests.ngsi.pgutil import drop_tenant

        drop_tenant(app.broker.store, tenant)


TEST_CTX = "https://example.org/ngsi-ld/test-context.jsonld"
LINK = f'<{TEST_CTX}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'


def building(eid: str = "urn:ngsi-ld:Building:b1", **extra) -> dict:
    e = {
        "id": eid,
        "type": "Building",
        "name": {"type": "Property", "value": "Pfaff-Halle"},
        "floors": {"type": "Property", "value": 3, "unitCode": "C62"},
        "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:p1"},
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [7.75, 49.44]},
        },
    }
    e.update(extra)
    return e
