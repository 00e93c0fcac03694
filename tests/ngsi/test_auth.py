"""Access control of the broker (issue 8, finding 1): scopes, tenants, public types, credentials.

The access matrix iterates the route table, so a new route cannot escape it.
"""

from __future__ import annotations

import uuid

import pytest

from herzstadt.ngsi.asgi import make_app
from herzstadt.ngsi.auth import (
    ALL_SCOPES,
    CachingVerifier,
    KeyFileVerifier,
    Principal,
    Scope,
    TenantPolicy,
    hash_key,
)
from herzstadt.ngsi.routes import ROUTES
from herzstadt.ngsi.tenants import audit_log, create_tenant, delete_tenant

from .conftest import Client, building, make_config

CORE_NS = "https://uri.etsi.org/ngsi-ld/default-context/"
BUILDING = CORE_NS + "Building"
SECRET = CORE_NS + "Secret"
DASHBOARD = "https://dash.example.org"


class DictVerifier:
    """Principals by API key (bearer tokens: 'tok-' + key), policies by tenant; counts calls."""

    def __init__(self, keys: dict[str, Principal], policies: dict[str, TenantPolicy]):
        self.keys = keys
        self.policies = policies
        self.calls = {"authenticate": 0, "tenant_policy": 0}

    def authenticate(self, scheme, credential):
        self.calls["authenticate"] += 1
        if scheme == "bearer" and credential.startswith("tok-"):
            credential = credential[4:]
        return self.keys.get(credential)

    def tenant_policy(self, tenant):
        self.calls["tenant_policy"] += 1
        return self.policies.get(tenant)


class World:
    def __init__(self, app, verifier, tenant, other):
        self.app = app
        self.verifier = verifier
        self.tenant = tenant
        self.other = other
        self.client = Client(app, tenant)

    def as_(self, key: str | None, method: str, path: str, **kw):
        h = dict(kw.pop("headers", None) or {})
        if key is not None:
            h["X-API-Key"] = key
        return self.client.request(method, path, headers=h, **kw)

    def count(self, tenant=None) -> int:
        store = self.app.broker.store
        t = self.tenant if tenant is None else tenant
        return sum(1 for _ in store.all_docs(t)) if store.tenant_exists(t) else 0


@pytest.fixture
def world(backend, tmp_path):
    tenant, other = f"city{uuid.uuid4().hex[:8]}", f"other{uuid.uuid4().hex[:8]}"
    r, w = frozenset({Scope.READ}), frozenset({Scope.READ, Scope.WRITE})
    keys = {
        "read-key": Principal("reader", tenant, r),
        "write-key": Principal("writer", tenant, w),
        "other-key": Principal("stranger", other, ALL_SCOPES),
        "typed-key": Principal("typed", tenant, w, frozenset({BUILDING})),
        "admin-key": Principal("admin", tenant, ALL_SCOPES),
    }
    policies = {
        tenant: TenantPolicy(frozenset({BUILDING}), frozenset({DASHBOARD})),
        other: TenantPolicy(frozenset()),
    }
    verifier = DictVerifier(keys, policies)
    app = make_app(make_config(backend, tmp_path, open_access=False), verifier=verifier)
    wd = World(app, verifier, tenant, other)
    yield wd
    wd.client.close()
    for t in (tenant, other):
        delete_tenant(app.broker, t)
    app.close()


# ------------------------------------------------------------------------------ the matrix
ARGS = {
    "entityId": "urn:ngsi-ld:Building:m1",
    "attrId": "name",
    "type": "Building",
    "contextId": "urn:ngsi-ld:Context:none",
    "subscriptionId": "urn:ngsi-ld:Subscription:s1",
    "registrationId": "urn:ngsi-ld:ContextSourceRegistration:r1",
    "instanceId": "urn:ngsi-ld:Instance:1",
}
PROPERTY = {"type": "Property", "value": "x"}
SUBSCRIPTION = {
    "id": "urn:ngsi-ld:Subscription:s1",
    "type": "Subscription",
    "entities": [{"type": "Building"}],
    "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify"}},
}


def _body(pattern: str, method: str):
    if pattern == "entities":
        return building("urn:ngsi-ld:Building:m1")
    if pattern == "entities/{entityId}":
        return {"name": PROPERTY}
    if pattern == "entities/{entityId}/attrs":
        return {"name": PROPERTY}
    if pattern == "temporal/entities":
        return building("urn:ngsi-ld:Building:m3")
    if pattern == "temporal/entities/{entityId}/attrs":
        return {"name": [PROPERTY]}
    if pattern == "temporal/entities/{entityId}/attrs/{attrId}/{instanceId}":
        return PROPERTY
    if pattern == "temporal/entityOperations/query":
        return {"type": "Query", "entities": [{"type": "Building"}]}
    if pattern == "entities/{entityId}/attrs/{attrId}":
        return PROPERTY
    if pattern == "entityOperations/delete":
        return ["urn:ngsi-ld:Building:m2"]
    if pattern == "entityOperations/query":
        return {"type": "Query", "entities": [{"type": "Building"}]}
    if pattern.startswith("entityOperations/"):
        return [building("urn:ngsi-ld:Building:m2")]
    if pattern == "jsonldContexts":
        return {"@context": {"x": "https://example.org/x"}}
    if pattern == "subscriptions":
        return SUBSCRIPTION
    if pattern.startswith("subscriptions/"):
        return {"isActive": False}
    return {"id": "urn:ngsi-ld:X:1", "type": "X"}


def _path(pattern: str) -> str:
    parts = []
    for seg in pattern.split("/"):
        if seg.startswith("{"):
            parts.append(ARGS[seg[1:-1].split(":")[0]])
        else:
            parts.append(seg)
    return "/".join(parts)


def _query(pattern: str, method: str) -> dict | None:
    if pattern == "entities" and method in ("GET", "DELETE"):
        return {"type": "Building"}
    return None


ACTORS = {
    "anonymous": None,
    "read": "read-key",
    "write": "write-key",
    "other-tenant": "other-key",
    "typed": "typed-key",
    "admin": "admin-key",
}


def expected(actor: str, scope: Scope | None) -> int | None:
    """The denial status of an actor for a scope (None: allowed)."""
    if scope is None:
        return None
    if actor == "anonymous":
        return None if scope == Scope.READ else 401
    if actor == "other-tenant":
        return 403
    allowed = {
        "read": {Scope.READ},
        "write": {Scope.READ, Scope.WRITE},
        "typed": {Scope.READ, Scope.WRITE},
        "admin": set(ALL_SCOPES),
    }[actor]
    return None if scope in allowed else 403


@pytest.mark.parametrize("actor", list(ACTORS))
def test_access_matrix_over_every_route(world, actor):
    key = ACTORS[actor]
    seen = 0
    for route in ROUTES:
        for method, op in route.methods.items():
            seen += 1
            body = _body(route.pattern, method) if op.body else None
            r = world.as_(
                key,
                method,
                _path(route.pattern),
                json=body,
                params=_query(route.pattern, method),
            )
            want = expected(actor, op.scope)
            where = f"{actor} {method} {route.pattern}: {r.status_code} {r.text[:200]}"
            if want is None:
                assert r.status_code not in (401, 403), where
                assert r.status_code < 500 or r.status_code == 501, where
            else:
                assert r.status_code == want, where
                assert r.headers["content-type"] == "application/json", where
                if want == 401:
                    assert r.headers["www-authenticate"].startswith("Bearer realm="), where
    assert seen == sum(len(r.methods) for r in ROUTES) >= 40


def test_denied_requests_change_nothing(world):
    admin = "admin-key"
    assert world.as_(admin, "POST", "entities", json=building()).status_code == 201
    before = world.count()
    for key in (None, "read-key", "other-key"):
        assert world.as_(
            key, "POST", "entities", json=building("urn:ngsi-ld:Building:n")
        ).status_code in (401, 403)
        r = world.as_(key, "DELETE", "entities", params={"type": "Building"})
        assert r.status_code in (401, 403)
        r = world.as_(key, "POST", "entityOperations/upsert", json=[building()])
        assert r.status_code in (401, 403)
    assert world.count() == before == 1
    assert [e["clientId"] for e in audit_log(world.app.broker, world.tenant)] == ["admin"]


# ----------------------------------------------------------------- finding 1: regressions
def test_anonymous_writes_are_refused_and_never_land(world):
    r = world.as_(None, "POST", "entities", json=building())
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == (
        'Bearer realm="herzstadt NGSI-LD", ApiKey realm="herzstadt NGSI-LD"'
    )
    assert r.json()["status"] == 401 and r.json()["title"] == "Unauthorized"
    assert world.as_(None, "DELETE", "entities", params={"type": "Building"}).status_code == 401
    r = world.as_(None, "POST", "entities", json=building(), tenant=False)  # default tenant
    assert r.status_code == 401
    assert world.count() == 0 and world.count("") == 0


def test_unknown_tenant_is_404_and_not_created(world):
    store = world.app.broker.store
    for key in (None, "admin-key"):
        for method, path, body in (
            ("GET", "entities", None),
            ("POST", "entities", building()),
            ("POST", "entityOperations/upsert", [building()]),
        ):
            r = world.as_(
                key,
                method,
                path,
                json=body,
                params={"type": "Building"} if method == "GET" else None,
                tenant="nonexistent-city",
            )
            if key is None and method == "POST":
                assert r.status_code == 401
            else:
                assert r.status_code == 404, r.text
                assert r.json()["type"].endswith("NonexistentTenant")
    assert not store.tenant_exists("nonexistent-city")


def test_tenant_defaults_to_the_principals_and_other_tenants_are_forbidden(world):
    r = world.as_("admin-key", "POST", "entities", json=building(), tenant=False)
    assert r.status_code == 201  # no NGSILD-Tenant: the key's tenant
    assert world.count() == 1
    r = world.as_("admin-key", "GET", "entities/urn:ngsi-ld:Building:b1", tenant=world.other)
    assert r.status_code == 403 and "tenant" in r.json()["detail"]
    r = world.as_("other-key", "GET", "entities/urn:ngsi-ld:Building:b1")
    assert r.status_code == 403


def test_missing_scope_is_403(world):
    r = world.as_("read-key", "POST", "entities", json=building())
    assert r.status_code == 403 and "write" in r.json()["detail"]
    r = world.as_("write-key", "DELETE", "entities", params={"type": "Building"})
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    r = world.as_("write-key", "POST", "subscriptions", json=SUBSCRIPTION)
    assert r.status_code == 403


def test_bad_credentials_are_401_with_one_text(world):
    texts = set()
    for headers in (
        {"X-API-Key": "unknown"},
        {"Authorization": "ApiKey revoked"},
        {"Authorization": "Bearer tok-expired"},
        {"Authorization": "Basic dXNlcjpwdw=="},
        {"Authorization": "Bearer"},
    ):
        r = world.client.get("entities", params={"type": "Building"}, headers=headers)
        assert r.status_code == 401, headers
        assert "www-authenticate" in r.headers
        texts.add(r.json()["detail"])
    assert len(texts) == 1
    # a bad key is refused on public routes too
    r = world.client.get("jsonldContexts", headers={"X-API-Key": "unknown"})
    assert r.status_code == 401


def test_all_credential_forms_work(world):
    for headers in (
        {"X-API-Key": "admin-key"},
        {"Authorization": "ApiKey admin-key"},
        {"Authorization": "Bearer tok-admin-key"},
    ):
        r = world.client.get("entities", params={"type": "Building"}, headers=headers)
        assert r.status_code == 200, headers


# ------------------------------------------------------------------ public types, types
def _seed(world):
    admin = "admin-key"
    secret = {
        "id": "urn:ngsi-ld:Secret:s1",
        "type": "Secret",
        "name": {"type": "Property", "value": "hidden"},
        "code": {"type": "Property", "value": 42},
    }
    b = building(owner={"type": "Relationship", "object": "urn:ngsi-ld:Secret:s1"})
    both = {"id": "urn:ngsi-ld:Building:both", "type": ["Building", "Secret"]}
    for e in (secret, b, both):
        assert world.as_(admin, "POST", "entities", json=e).status_code == 201


def test_anonymous_reads_only_public_types(world):
    _seed(world)
    get = world.client.get
    r = get("entities", params={"local": "true"})
    assert r.status_code == 200
    assert [e["id"] for e in r.json()] == ["urn:ngsi-ld:Building:b1"]
    assert get("entities", params={"type": "Secret"}).json() == []
    r = get("entities", params={"type": "Secret", "count": "true", "limit": "0"})
    assert r.headers["ngsild-results-count"] == "0"
    assert get("entities/urn:ngsi-ld:Secret:s1").status_code == 404
    assert get("entities/urn:ngsi-ld:Building:both").status_code == 404  # not all types public
    r = world.client.post("entityOperations/query", json={"type": "Query", "attrs": ["name"]})
    assert [e["id"] for e in r.json()] == ["urn:ngsi-ld:Building:b1"]
    assert get("types").json()["typeList"] == ["Building"]
    details = get("types", params={"details": "true"}).json()
    assert [t["typeName"] for t in details] == ["Building"]
    assert get("types/Secret").status_code == 404
    assert "code" not in get("attributes").json()["attributeList"]
    assert get("attributes/code").status_code == 404
    # a join does not reveal the linked entity of a type that is not public
    r = get("entities/urn:ngsi-ld:Building:b1", params={"join": "inline"})
    assert "entity" not in r.json()["owner"]
    r = get("entities", params={"type": "Building", "join": "flat"})
    assert [e["id"] for e in r.json()] == ["urn:ngsi-ld:Building:b1"]
    # the admin sees everything
    admin = world.as_("admin-key", "GET", "entities", params={"local": "true"})
    assert len(admin.json()) == 3


def test_a_client_limited_to_types(world):
    _seed(world)
    typed = "typed-key"
    r = world.as_(typed, "GET", "entities", params={"local": "true"})
    assert [e["id"] for e in r.json()] == ["urn:ngsi-ld:Building:b1"]
    r = world.as_(typed, "POST", "entities", json={"id": "urn:ngsi-ld:Secret:s2", "type": "Secret"})
    assert r.status_code == 403
    r = world.as_(typed, "PATCH", "entities/urn:ngsi-ld:Secret:s1/attrs", json={"code": PROPERTY})
    assert r.status_code == 403
    r = world.as_(typed, "DELETE", "entities/urn:ngsi-ld:Building:both")
    assert r.status_code == 403
    # changing the type of an allowed entity into one that is not
    r = world.as_(typed, "PUT", "entities/urn:ngsi-ld:Building:b1", json={"type": "Secret"})
    assert r.status_code == 403
    r = world.as_(
        typed,
        "POST",
        "entityOperations/upsert",
        json=[
            building("urn:ngsi-ld:Building:b9"),
            {"id": "urn:ngsi-ld:Secret:s3", "type": "Secret"},
        ],
    )
    assert r.status_code == 207
    assert r.json()["success"] == ["urn:ngsi-ld:Building:b9"]
    (err,) = r.json()["errors"]
    assert err["entityId"] == "urn:ngsi-ld:Secret:s3" and err["error"]["status"] == 403
    r = world.as_(typed, "POST", "entityOperations/delete", json=["urn:ngsi-ld:Secret:s1"])
    assert r.status_code == 207 and r.json()["errors"][0]["error"]["status"] == 403
    r = world.as_(
        typed,
        "POST",
        "entityOperations/update",
        json=[{"id": "urn:ngsi-ld:Secret:s1", "code": PROPERTY}],
    )
    assert r.status_code == 207 and r.json()["errors"][0]["error"]["status"] == 403
    admin = world.as_("admin-key", "GET", "entities/urn:ngsi-ld:Secret:s1").json()
    assert admin["code"]["value"] == 42 and admin["type"] == "Secret"
    assert world.as_("admin-key", "GET", "entities/urn:ngsi-ld:Secret:s3").status_code == 404


# --------------------------------------------------------------------------- contexts
def test_contexts_are_readable_without_credentials(world):
    assert world.client.get("jsonldContexts").status_code == 200
    core = "https%3A%2F%2Furi.etsi.org%2Fngsi-ld%2Fv1%2Fngsi-ld-core-context-v1.9.jsonld"
    assert world.client.get("jsonldContexts/" + core).status_code == 200
    r = world.client.post("jsonldContexts", json={"@context": {"x": "https://example.org/x"}})
    assert r.status_code == 401
    r = world.as_(
        "write-key", "POST", "jsonldContexts", json={"@context": {"x": "https://e.org/x"}}
    )
    assert r.status_code == 201
    cid = r.headers["location"].rsplit("/", 1)[1]
    assert world.as_("write-key", "DELETE", "jsonldContexts/" + cid).status_code == 403
    assert world.as_("admin-key", "DELETE", "jsonldContexts/" + cid).status_code == 204


# ------------------------------------------------------------------------------ caching
def test_verifier_answers_are_cached_with_a_ttl():
    now = [0.0]
    k = "super-secret-key-123"
    inner = DictVerifier(
        {k: Principal("c", "t", frozenset({Scope.READ}))}, {"t": TenantPolicy(frozenset())}
    )
    v = CachingVerifier(inner, ttl=30, max_entries=2, clock=lambda: now[0])
    for _ in range(3):
        assert v.authenticate("apikey", k).client_id == "c"
        assert v.authenticate("apikey", "bad") is None
        assert v.tenant_policy("t") is not None
    assert inner.calls == {"authenticate": 2, "tenant_policy": 1}
    # the cache holds SHA-256 digests, never the secret
    assert all(len(key) == 32 and b"secret" not in key for key in v.principals.data)
    del inner.keys[k]  # revoked
    assert v.authenticate("apikey", k) is not None  # still cached
    now[0] = 31
    assert v.authenticate("apikey", k) is None  # revocation effective after the TTL
    v.authenticate("apikey", "x1")
    v.authenticate("apikey", "x2")
    assert len(v.principals.data) == 2  # bounded


def test_the_app_asks_the_verifier_once_per_ttl(world):
    calls = world.verifier.calls
    for _ in range(5):
        r = world.as_("read-key", "GET", "entities", params={"type": "Building"})
        assert r.status_code == 200
    assert calls["authenticate"] == 1 and calls["tenant_policy"] == 1


# ------------------------------------------------------------------------------- audit
def test_audit_trail_of_writes(world):
    admin, writer = "admin-key", "write-key"
    assert world.as_(writer, "POST", "entities", json=building()).status_code == 201
    r = world.as_(writer, "POST", "entities", json=building())  # 409: no audit entry
    assert r.status_code == 409
    r = world.as_(
        admin,
        "POST",
        "entityOperations/upsert",
        json=[building(f"urn:ngsi-ld:Building:u{i}") for i in range(3)],
    )
    assert r.status_code == 201
    r = world.as_(writer, "PATCH", "entities/urn:ngsi-ld:Building:b1/attrs/name", json=PROPERTY)
    assert r.status_code == 204
    assert world.as_(admin, "DELETE", "entities", params={"type": "Building"}).status_code == 204
    log = audit_log(world.app.broker, world.tenant)
    assert [(e["clientId"], e["operation"], e["count"]) for e in log] == [
        ("admin", "purgeEntities", 4),
        ("writer", "partialAttrUpdate", 1),
        ("admin", "batchUpsert", 3),
        ("writer", "createEntity", 1),
    ]
    assert log[-1]["entityIds"] == ["urn:ngsi-ld:Building:b1"]
    assert [e["operation"] for e in audit_log(world.app.broker, world.tenant, "writer")] == [
        "partialAttrUpdate",
        "createEntity",
    ]
    older = audit_log(world.app.broker, world.tenant, limit=2, before=log[1]["seq"])
    assert [e["operation"] for e in older] == ["batchUpsert", "createEntity"]
    assert audit_log(world.app.broker, world.other) == []


def test_audit_trail_is_pruned_to_its_bound(backend, tmp_path):
    app = make_app(
        make_config(backend, tmp_path, audit_max_rows=5, audit_prune_every=3, max_limit=1000)
    )
    tenant = f"t{uuid.uuid4().hex[:10]}"
    c = Client(app, tenant)
    try:
        for i in range(20):
            assert c.post("entities", json={"id": f"urn:x:{i}", "type": "T"}).status_code == 201
        log = audit_log(app.broker, tenant, limit=100)
        # pruned at every third write to the newest 5, so at most 5 + 2 rows
        assert 5 <= len(log) <= 7
        assert log[0]["entityIds"] == ["urn:x:19"] and log[0]["clientId"] == "open"
    finally:
        c.close()
        delete_tenant(app.broker, tenant)
        app.close()


# ----------------------------------------------------------------------------- tenants
def test_tenants_are_created_and_deleted_explicitly(world):
    store = world.app.broker.store
    name = f"new{uuid.uuid4().hex[:8]}"
    assert not store.tenant_exists(name)
    create_tenant(world.app.broker, name)
    assert store.tenant_exists(name)
    world.verifier.policies[name] = TenantPolicy(frozenset())
    world.verifier.keys["new-key"] = Principal("n", name, ALL_SCOPES)
    r = world.as_("new-key", "POST", "entities", json=building(), tenant=False)
    assert r.status_code == 201
    delete_tenant(world.app.broker, name)
    assert not store.tenant_exists(name) and world.count(name) == 0


def test_open_access_creates_tenants_on_write(backend, tmp_path):
    app = make_app(make_config(backend, tmp_path))  # open_access=True in the test config
    tenant = f"open{uuid.uuid4().hex[:8]}"
    c = Client(app, tenant)
    try:
        r = c.get("entities", params={"type": "T"})
        assert r.status_code == 404 and r.json()["type"].endswith("NonexistentTenant")
        assert c.post("entities", json={"id": "urn:x:1", "type": "T"}).status_code == 201
        assert app.broker.store.tenant_exists(tenant)
    finally:
        c.close()
        delete_tenant(app.broker, tenant)
        app.close()


def test_standalone_without_verifier_only_serves_contexts(tmp_path):
    from herzstadt.ngsi.config import NgsiConfig

    app = make_app(NgsiConfig(database=str(tmp_path / "n.sqlite3")))
    c = Client(app, "")
    try:
        assert c.get("jsonldContexts").status_code == 200
        assert c.get("entities", params={"type": "T"}).status_code == 404
        assert c.post("entities", json={"id": "urn:x:1", "type": "T"}).status_code == 401
        r = c.post("entities", json={"id": "urn:x:1", "type": "T"}, headers={"X-API-Key": "k"})
        assert r.status_code == 401
    finally:
        c.close()
        app.close()


def test_key_file_verifier(tmp_path):
    import orjson

    from herzstadt.ngsi.config import NgsiConfig

    keys = tmp_path / "keys.json"
    keys.write_bytes(
        orjson.dumps(
            {
                "tenants": {"": {"public_types": [BUILDING]}},
                "keys": [
                    {"sha256": hash_key("s3cret"), "client_id": "etl", "scopes": ["read", "write"]}
                ],
            }
        )
    )
    assert "s3cret" not in keys.read_text()
    v = KeyFileVerifier(keys)
    assert v.authenticate("apikey", "s3cret").client_id == "etl"
    assert v.authenticate("apikey", "other") is None
    assert v.authenticate("bearer", "s3cret") is None
    app = make_app(NgsiConfig(database=str(tmp_path / "n.sqlite3"), api_keys_file=str(keys)))
    c = Client(app, "")
    try:
        r = c.post("entities", json={"id": "urn:x:1", "type": "T"}, headers={"X-API-Key": "s3cret"})
        assert r.status_code == 201
        assert c.post("entities", json={"id": "urn:x:2", "type": "T"}).status_code == 401
        # anonymous: only the public Building type
        assert c.get("entities", params={"type": "T"}).json() == []
        assert c.get("entities/urn:x:1", headers={"X-API-Key": "s3cret"}).status_code == 200
    finally:
        c.close()
        app.close()
    bad = tmp_path / "bad.json"
    bad.write_text('{"keys": [{"sha256": "x", "scopes": ["root"]}]}')
    with pytest.raises(ValueError, match="key #0"):
        KeyFileVerifier(bad)


# -------------------------------------------------------------------------------- CORS
def test_cors_only_for_the_tenants_origins(world):
    h = {"Origin": DASHBOARD, "Access-Control-Request-Method": "GET"}
    r = world.client.request("OPTIONS", "entities", headers=h)
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == DASHBOARD
    assert r.headers["access-control-allow-methods"] == "DELETE, GET, POST"
    assert "NGSILD-Tenant" in r.headers["access-control-allow-headers"]
    h["Origin"] = "https://evil.example"
    r = world.client.request("OPTIONS", "entities", headers=h)
    assert r.status_code == 204 and "access-control-allow-origin" not in r.headers
    r = world.client.get("entities", params={"type": "Building"}, headers={"Origin": DASHBOARD})
    assert r.headers["access-control-allow-origin"] == DASHBOARD
    assert r.headers["vary"] == "Origin"
    r = world.client.get(
        "entities", params={"type": "B"}, headers={"Origin": "https://evil.example"}
    )
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    r = world.client.post("entities", json=building(), headers={"Origin": DASHBOARD})
    assert r.status_code == 401 and r.headers["access-control-allow-origin"] == DASHBOARD
    # other tenants (here: one without origins) and open access: no CORS
    r = world.client.get(
        "entities", params={"type": "B"}, headers={"Origin": DASHBOARD}, tenant=world.other
    )
    assert "access-control-allow-origin" not in r.headers


def test_cors_is_off_under_open_access(client):
    r = client.get("entities", params={"type": "B"}, headers={"Origin": DASHBOARD})
    assert "access-control-allow-origin" not in r.headers
    h = {"Origin": DASHBOARD, "Access-Control-Request-Method": "GET"}
    r = client.request("OPTIONS", "entities", headers=h)
    assert r.status_code == 204 and "access-control-allow-origin" not in r.headers
