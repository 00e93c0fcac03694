"""@contexts safe by default (issue 8, findings 5 and 8; issue 9): caches bounded by bytes,
hosted @contexts in the store per tenant and visible to every worker, deleting them needs the
admin scope, configuration flags parsed by one parser."""

from __future__ import annotations

import uuid

import orjson
import pytest

from herzstadt.ngsi import jsonld
from herzstadt.ngsi.asgi import make_app
from herzstadt.ngsi.auth import ALL_SCOPES, Principal, Scope, TenantPolicy
from herzstadt.ngsi.config import NgsiConfig
from herzstadt.ngsi.errors import LdContextNotAvailable
from herzstadt.ngsi.lru import ByteLRU
from herzstadt.ngsi.tenants import create_tenant, delete_tenant

from .conftest import Client, make_config
from .test_fetch import _json, context_server

LINK_REL = 'rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'


# ------------------------------------------------------------------------------- ByteLRU
def test_byte_lru_evicts_least_recently_used_by_bytes():
    c = ByteLRU(100)
    assert c.put("a", 1, 40) and c.put("b", 2, 40)
    assert c.get("a") == 1  # a is now the most recently used
    assert c.put("c", 3, 40)  # over budget: b goes
    assert "b" not in c and c.get("a") == 1 and c.get("c") == 3
    assert c.bytes == 80 and len(c) == 2
    assert not c.put("huge", 4, 101)  # larger than the budget: not stored, nothing evicted
    assert "huge" not in c and len(c) == 2
    c.put("a", 5, 10)  # replace: the size is the new one
    assert c.bytes == 50 and c.peek("a") == 5
    assert c.pop("a") == 5 and c.bytes == 40
    assert c.discard_if(lambda k, v: v == 3) == 1 and c.bytes == 0 and len(c) == 0
    assert c.get("zz", "d") == "d"


def test_byte_lru_is_consistent_under_threads():
    import threading

    c = ByteLRU(10_000)

    def work(n):
        for i in range(2000):
            c.put((n, i % 50), i, 100 + i % 7)
            c.get((n, (i * 7) % 50))
            if i % 11 == 0:
                c.pop((n, i % 50))

    ts = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert c.bytes <= 10_000
    assert c.bytes == sum(s for _, s in c._data.values())


# ------------------------------------------------------------------------- memory bounds
def _big_context(n: int, terms: int = 200) -> dict:
    return {f"t{n}_{i}": f"https://example.org/{n}/{'x' * 400}/{i}" for i in range(terms)}


def test_resolver_memory_is_bounded_by_the_budget():
    budget = 2 * 1024 * 1024
    r = jsonld.ContextResolver(cache_bytes=budget)
    for n in range(60):  # ~90 KiB each inline, ~60 * 400 KiB built
        ctx = r.get(_big_context(n))
        assert ctx.expand(f"t{n}_3").endswith("/3")
        r.implicit(_big_context(n), "http://localhost/ngsi-ld/v1/jsonldContexts")
        assert r.contexts.bytes <= budget // 2 and r.docs.bytes <= budget // 2
    assert 0 < len(r.contexts) < 60 and 0 < len(r.docs) < 60
    # the most recent ones are still there
    assert r.get(_big_context(59)) is r.get(_big_context(59))


def test_fetched_documents_are_bounded_too():
    routes = {f"/c{n}.jsonld": _json({"@context": _big_context(n)}) for n in range(30)}
    with context_server(routes) as port:
        r = jsonld.ContextResolver(
            context_hosts=[f"127.0.0.1:{port}"], allow_private=True, cache_bytes=1024 * 1024
        )
        for n in range(30):
            r.get(f"http://127.0.0.1:{port}/c{n}.jsonld")
            assert r.docs.bytes <= 512 * 1024 and r.contexts.bytes <= 512 * 1024
        cached = [sc.url for sc in r.cached()]
        assert f"http://127.0.0.1:{port}/c29.jsonld" in cached
        assert f"http://127.0.0.1:{port}/c0.jsonld" not in cached  # evicted


def test_memos_of_a_context_are_bounded():
    ctx = jsonld.ContextResolver().core
    for i in range(jsonld.MEMO_ENTRIES * 3):
        ctx.expand(f"attr{i}")
        ctx.compact(f"https://example.org/{i}")
    assert len(ctx._cexp) <= jsonld.MEMO_ENTRIES and len(ctx._ccomp) <= jsonld.MEMO_ENTRIES


def test_inline_contexts_of_entity_operations_query_are_bounded(backend, tmp_path):
    budget = 1024 * 1024
    app = make_app(make_config(backend, tmp_path, context_cache_bytes=budget))
    tenant = f"q{uuid.uuid4().hex[:10]}"
    create_tenant(app.broker, tenant)
    c = Client(app, tenant)
    try:
        r = app.broker.resolver
        for n in range(25):
            body = {"type": "Query", "entities": [{"type": f"t{n}_1"}], "@context": _big_context(n)}
            res = c.post(
                "entityOperations/query",
                content=orjson.dumps(body),
                headers={"Content-Type": "application/ld+json", "Accept": "application/json"},
            )
            assert res.status_code == 200, res.text
            assert "/jsonldContexts/" in res.headers["link"]
            assert r.contexts.bytes <= budget // 2 and r.docs.bytes <= budget // 2
        assert len(r.contexts) < 25
    finally:
        c.close()
        delete_tenant(app.broker, tenant)
        app.close()


# ------------------------------------------------------------------------ hosted contexts
def _link(url: str) -> dict:
    return {"Link": f"<{url}>; {LINK_REL}"}


@pytest.fixture
def two_workers(backend, tmp_path):
    """Two apps (two workers) on one database, and a fresh tenant."""
    a = make_app(make_config(backend, tmp_path))
    b = make_app(make_config(backend, tmp_path))
    tenant = f"h{uuid.uuid4().hex[:10]}"
    ca, cb = Client(a, tenant), Client(b, tenant)
    yield ca, cb, tenant
    ca.close()
    cb.close()
    for t in (tenant, tenant + "x"):
        delete_tenant(a.broker, t)
    a.close()
    b.close()


def test_hosted_contexts_are_seen_by_every_worker(two_workers):
    ca, cb, _ = two_workers
    r = ca.post(
        "jsonldContexts",
        json={"@context": {"speed": "https://example.org/speed"}},
        headers={"Host": "evil.example"},
    )
    assert r.status_code == 201
    cid = r.headers["location"].rsplit("/", 1)[1]
    url = "http://testserver/ngsi-ld/v1/jsonldContexts/" + cid
    # the other worker serves, lists and uses it
    assert cb.get("jsonldContexts/" + cid).json() == {
        "@context": {"speed": "https://example.org/speed"}
    }
    assert cb.get("jsonldContexts", params={"kind": "Hosted"}).json() == [url]  # not evil.example
    r = cb.post(
        "entities",
        json={"id": "urn:x:h1", "type": "T", "speed": 3},
        headers=_link(url),
    )
    assert r.status_code == 201, r.text
    assert "https://example.org/speed" in cb.get("entities/urn:x:h1").json()
    # deleted through one worker: the other answers 404 at once
    assert cb.delete("jsonldContexts/" + cid).status_code == 204
    assert ca.get("jsonldContexts/" + cid).status_code == 404
    assert ca.get("jsonldContexts", params={"kind": "Hosted"}).json() == []
    assert ca.delete("jsonldContexts/" + cid).status_code == 404


def test_hosted_contexts_belong_to_their_tenant(two_workers):
    ca, _, tenant = two_workers
    other = tenant + "x"
    r = ca.post("jsonldContexts", json={"@context": {"speed": "https://example.org/speed"}})
    cid = r.headers["location"].rsplit("/", 1)[1]
    url = "http://testserver/ngsi-ld/v1/jsonldContexts/" + cid
    assert ca.get("jsonldContexts/" + cid, tenant=other).status_code == 404
    assert ca.get("jsonldContexts", params={"kind": "Hosted"}, tenant=other).json() == []
    assert ca.delete("jsonldContexts/" + cid, tenant=other).status_code == 404
    r = ca.post("entities", json={"id": "urn:x:h2", "type": "T"}, headers=_link(url), tenant=other)
    assert r.status_code == 503 and r.json()["type"].endswith("LdContextNotAvailable")
    assert ca.get("jsonldContexts/" + cid).status_code == 200  # still there for its tenant
    # inline contexts recorded as implicitly created are per tenant as well
    ca.post(
        "entityOperations/query",
        content=b'{"type": "Query", "entities": [{"type": "T"}], "@context": {"T": "urn:T"}}',
        headers={"Content-Type": "application/ld+json"},
    )
    mine = ca.get("jsonldContexts", params={"kind": "ImplicitlyCreated"}).json()
    theirs = ca.get("jsonldContexts", params={"kind": "ImplicitlyCreated"}, tenant=other).json()
    assert len(mine) == 1 and theirs == []


class _Keys:
    def __init__(self, tenant: str):
        self.keys = {
            "write-key": Principal("writer", tenant, frozenset({Scope.READ, Scope.WRITE})),
            "admin-key": Principal("admin", tenant, ALL_SCOPES),
        }
        self.tenant = tenant

    def authenticate(self, scheme, credential):
        return self.keys.get(credential)

    def tenant_policy(self, tenant):
        return TenantPolicy(frozenset()) if tenant == self.tenant else None


def test_deleting_a_hosted_context_needs_the_admin_scope(backend, tmp_path):
    tenant = f"a{uuid.uuid4().hex[:10]}"
    app = make_app(make_config(backend, tmp_path, open_access=False), verifier=_Keys(tenant))
    c = Client(app, tenant)
    try:
        body = {"@context": {"speed": "https://example.org/speed"}}
        assert c.post("jsonldContexts", json=body).status_code == 401
        r = c.post("jsonldContexts", json=body, headers={"X-API-Key": "write-key"})
        assert r.status_code == 201
        cid = r.headers["location"].rsplit("/", 1)[1]
        assert c.get("jsonldContexts/" + cid).status_code == 200  # anonymous read is fine
        assert c.delete("jsonldContexts/" + cid).status_code == 401
        r = c.delete("jsonldContexts/" + cid, headers={"X-API-Key": "write-key"})
        assert r.status_code == 403
        assert c.get("jsonldContexts/" + cid).status_code == 200
        r = c.delete("jsonldContexts/" + cid, headers={"X-API-Key": "admin-key"})
        assert r.status_code == 204
        assert c.get("jsonldContexts/" + cid).status_code == 404
    finally:
        c.close()
        delete_tenant(app.broker, tenant)
        app.close()


def test_resolver_without_a_store_keeps_hosted_contexts_in_memory():
    r = jsonld.ContextResolver()
    sc = r.host({"@context": {"a": "urn:a"}}, "http://localhost/ngsi-ld/v1/jsonldContexts", "c1")
    assert r.get(sc.url).expand("a") == "urn:a"
    with pytest.raises(LdContextNotAvailable):
        r.get(sc.url, "another-tenant")
    r.forget(sc)
    with pytest.raises(LdContextNotAvailable):
        r.get("urn:ngsi-ld:Context:c1")


# --------------------------------------------------------------------------- configuration
@pytest.mark.parametrize(
    ("raw", "want"),
    [("0", False), ("off", False), ("no", False), ("False", False), ("on", True), ("YES", True)],
)
def test_remote_contexts_flag(monkeypatch, raw, want):
    monkeypatch.setenv("HERZSTADT_NGSI_REMOTE_CONTEXTS", raw)
    assert NgsiConfig.from_env().allow_remote_contexts is want


def test_unknown_flag_values_are_errors(monkeypatch):
    for var in (
        "HERZSTADT_NGSI_REMOTE_CONTEXTS",
        "HERZSTADT_NGSI_CONTEXT_ALLOW_PRIVATE",
        "HERZSTADT_NGSI_ETSI_PRELOAD",
    ):
        monkeypatch.setenv(var, "maybe")
        with pytest.raises(ValueError, match=var):
            NgsiConfig.from_env()
        monkeypatch.delenv(var)


def test_context_settings_from_env(monkeypatch):
    monkeypatch.setenv("HERZSTADT_NGSI_CONTEXT_HOSTS", " 127.0.0.1:8087, *.example.org ,")
    monkeypatch.setenv("HERZSTADT_NGSI_CONTEXT_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("HERZSTADT_NGSI_CONTEXT_MAX_BYTES", "2048")
    monkeypatch.setenv("HERZSTADT_NGSI_CONTEXT_CACHE_BYTES", "4096")
    monkeypatch.setenv("HERZSTADT_NGSI_CONTEXT_FETCH_TIMEOUT", "1.5")
    cfg = NgsiConfig.from_env()
    assert cfg.context_hosts == ["127.0.0.1:8087", "*.example.org"]
    assert cfg.context_allow_private is True
    assert (cfg.context_max_bytes, cfg.context_cache_bytes) == (2048, 4096)
    assert cfg.context_fetch_timeout == 1.5
    defaults = NgsiConfig()
    assert defaults.context_hosts == [] and defaults.context_allow_private is False
