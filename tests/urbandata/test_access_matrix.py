"""The access matrix over EVERY broker route (taken from the route table, so a new route is covered
automatically), through herzstadt's own NGSI-LD application and the site's verifier: API clients of
a city's back office, a client of another city, anonymous visitors reading the city's open data.
"""

import asyncio
import uuid

import httpx
import pytest

from herzstadt.core.models import City, CityRole
from herzstadt.ngsi.routes import ROUTES
from herzstadt.ngsi.tenants import delete_tenant
from herzstadt.urbandata import access
from herzstadt.urbandata.broker import ngsi_application
from herzstadt.urbandata.models import ApiClient
from tests.ngsi.test_auth import BUILDING, _body, _path, _query, expected

pytestmark = pytest.mark.django_db(transaction=True)

SCOPES = {
    "read": ["read"],
    "write": ["read", "write"],
    "typed": ["read", "write"],
    "admin": ["read", "write", "subscriptions", "admin"],
}


class World:
    def __init__(self):
        suffix = uuid.uuid4().hex[:8]
        self.city = City.objects.create(
            slug=f"c{suffix}", name="Teststadt", role=CityRole.HOSTED, ngsi_tenant=f"city{suffix}"
        )
        self.other = City.objects.create(
            slug=f"o{suffix}", name="Anderstadt", role=CityRole.HOSTED, ngsi_tenant=f"other{suffix}"
        )
        access.save_settings(self.city, [BUILDING], [])
        self.keys: dict[str, str | None] = {"anonymous": None}
        for actor, scopes in SCOPES.items():
            types = [BUILDING] if actor == "typed" else None
            client = ApiClient(name=actor, scopes=scopes, entity_types=types)
            self.keys[actor] = access.create_client(self.city, None, client)[1]
        stranger = ApiClient(name="stranger", scopes=SCOPES["admin"])
        self.keys["other-tenant"] = access.create_client(self.other, None, stranger)[1]
        self.app = ngsi_application()
        self.loop = asyncio.new_event_loop()
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://127.0.0.1"
        )

    def request(self, actor: str, method: str, path: str, **kw) -> httpx.Response:
        headers = {"NGSILD-Tenant": self.city.ngsi_tenant}
        if self.keys[actor] is not None:
            headers["X-API-Key"] = self.keys[actor]
        return self.loop.run_until_complete(
            self.http.request(method, f"/ngsi-ld/v1/{path}", headers=headers, **kw)
        )

    def close(self):
        self.loop.run_until_complete(self.http.aclose())
        self.loop.close()
        for tenant in (self.city.ngsi_tenant, self.other.ngsi_tenant):
            delete_tenant(self.app.broker, tenant)
        self.app.close()


@pytest.fixture
def world():
    w = World()
    yield w
    w.close()


def test_access_matrix_over_every_route_through_the_site_verifier(world):
    seen = 0
    for actor in world.keys:
        for route in ROUTES:
            for method, op in route.methods.items():
                seen += 1
                body = _body(route.pattern, method) if op.body else None
                r = world.request(
                    actor,
                    method,
                    _path(route.pattern),
                    json=body,
                    params=_query(route.pattern, method),
                )
                want = expected(actor, op.scope)
                where = f"{actor} {method} {route.pattern}: {r.status_code} {r.text[:200]}"
                if want is None:
                    assert r.status_code not in (401, 403, 404) or (
                        r.status_code == 404 and r.json()["type"].endswith("ResourceNotFound")
                    ), where
                    assert r.status_code < 500 or r.status_code == 501, where
                else:
                    assert r.status_code == want, where
                    assert r.headers["content-type"] == "application/json", where
                    assert r.json()["status"] == want, where
                    if want == 401:
                        assert r.headers["www-authenticate"].startswith("Bearer realm="), where
    assert seen == len(world.keys) * sum(len(r.methods) for r in ROUTES)
    assert seen >= 6 * 40


def test_anonymous_reads_only_the_citys_open_data_and_writes_need_a_key(world):
    made = world.request(
        "write",
        "POST",
        "entities",
        json=_body("entities", "POST") | {"id": "urn:ngsi-ld:Building:o"},
    )
    assert made.status_code == 201, made.text
    secret = {
        "id": "urn:ngsi-ld:Secret:s",
        "type": "Secret",
        "name": {"type": "Property", "value": 1},
    }
    assert world.request("write", "POST", "entities", json=secret).status_code == 201
    seen = world.request("anonymous", "GET", "entities", params={"type": "Building,Secret"})
    assert [e["id"] for e in seen.json()] == ["urn:ngsi-ld:Building:o"]
    assert world.request("anonymous", "GET", "entities/urn:ngsi-ld:Secret:s").status_code == 404
    assert world.request("read", "GET", "entities/urn:ngsi-ld:Secret:s").status_code == 200
    assert world.request("typed", "GET", "entities/urn:ngsi-ld:Secret:s").status_code == 404
    gone = world.request("anonymous", "DELETE", "entities/urn:ngsi-ld:Building:o")
    assert gone.status_code == 401 and gone.headers["www-authenticate"]
    assert (
        world.request("other-tenant", "GET", "entities/urn:ngsi-ld:Building:o").status_code == 403
    )


def test_a_tenant_exists_only_when_a_city_names_it(world):
    headers = {"NGSILD-Tenant": "nobodys", "X-API-Key": world.keys["admin"]}
    r = world.loop.run_until_complete(
        world.http.get("/ngsi-ld/v1/entities", params={"type": "Building"}, headers=headers)
    )
    assert r.status_code in (403, 404), r.text
    anonymous = world.loop.run_until_complete(
        world.http.get(
            "/ngsi-ld/v1/entities",
            params={"type": "Building"},
            headers={"NGSILD-Tenant": "nobodys"},
        )
    )
    assert anonymous.status_code == 404
    assert not world.app.broker.store.tenant_exists("nobodys")


def test_writes_are_audited_per_client(world):
    body = _body("entities", "POST") | {"id": "urn:ngsi-ld:Building:audited"}
    assert world.request("write", "POST", "entities", json=body).status_code == 201
    client = ApiClient.objects.get(city=world.city, name="write")
    from herzstadt.ngsi.tenants import audit_log

    log = audit_log(world.app.broker, world.city.ngsi_tenant, client.audit_id)
    assert [e["entityIds"] for e in log] == [["urn:ngsi-ld:Building:audited"]]
