"""Concurrent writers and readers (issue 8, finding 7): threads with their own stores (like worker
processes) upsert and create the same new entities at once; the pool queues and answers 503 when
exhausted; SQLite reads do not wait for writes. SQLite always, PostgreSQL with
HERZSTADT_TEST_DATABASE_URL."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest

from herzstadt.ngsi.auth import system_principal
from herzstadt.ngsi.broker import Broker, Req
from herzstadt.ngsi.config import NgsiConfig
from herzstadt.ngsi.errors import AlreadyExists, ServiceUnavailable
from herzstadt.ngsi.params import WriteOptions
from herzstadt.ngsi.service import batch_create, batch_upsert, create_entity
from herzstadt.ngsi.storage import open_store
from herzstadt.ngsi.tenants import create_tenant
from tests.ngsi.conftest import BACKENDS, PG_URL
from tests.ngsi.pgutil import drop_tenant

WORKERS = 6


def _database(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return str(tmp_path / "ngsi.sqlite3")
    return PG_URL + ("&" if "?" in PG_URL else "?") + "schema=ngsi_test"


@pytest.fixture(params=BACKENDS)
def brokers(request, tmp_path):
    """WORKERS brokers on one database, each with its own store (connections), one tenant."""
    db = _database(request.param, tmp_path)
    tenant = f"c{uuid.uuid4().hex[:10]}"
    bs = [
        Broker(NgsiConfig(database=db, allow_remote_contexts=False, db_pool_size=2))
        for _ in range(WORKERS)
    ]
    create_tenant(bs[0], tenant)
    yield bs, tenant
    if request.param == "postgresql":
        drop_tenant(bs[0].store, tenant)
    for b in bs:
        b.close()


def _req(b: Broker, tenant: str, body) -> Req:
    return Req(
        tenant=tenant, ctx=b.resolver.get(None), body=body, principal=system_principal(tenant)
    )


def _run_all(fns) -> list:
    """Start every function at the same moment on its own thread; results or exceptions."""
    barrier = threading.Barrier(len(fns))
    out: list = [None] * len(fns)

    def run(n, fn):
        barrier.wait()
        try:
            out[n] = fn()
        except Exception as e:  # collected and asserted on by the test
            out[n] = e

    ts = [threading.Thread(target=run, args=(n, fn)) for n, fn in enumerate(fns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not any(t.is_alive() for t in ts), "a writer hung"
    return out


def _entity(n: int, writer: int) -> dict:
    return {
        "id": f"urn:ngsi-ld:Sensor:{n}",
        "type": "Sensor",
        "writer": {"type": "Property", "value": writer},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [7, 49]}},
    }


def test_concurrent_upserts_of_the_same_new_entities(brokers):
    bs, tenant = brokers
    ids = range(40)

    def upsert(w: int):
        b = bs[w]
        # overlapping batches in different orders
        ents = [_entity(n, w) for n in (ids if w % 2 else reversed(ids))]
        return batch_upsert(b, _req(b, tenant, ents), WriteOptions())

    results = _run_all([lambda w=w: upsert(w) for w in range(WORKERS)])
    for r in results:
        assert not isinstance(r, Exception), r
        assert r.status in (201, 204), r.body  # created some, or only replaced
    created = [i for r in results if r.status == 201 for i in r.body]
    assert sorted(created) == sorted(f"urn:ngsi-ld:Sensor:{n}" for n in ids)  # each exactly once
    store = bs[0].store
    for n in ids:
        doc = store.get(tenant, f"urn:ngsi-ld:Sensor:{n}")
        writer = doc["attrs"]["https://uri.etsi.org/ngsi-ld/default-context/writer"][0]["value"]
        assert writer in range(WORKERS)
    # one entity row and one type index row per id, whatever the interleaving
    docs, total = store.query(
        tenant, _spec(["https://uri.etsi.org/ngsi-ld/default-context/Sensor"])
    )
    assert total == len(ids) and len({d["id"] for d in docs}) == len(ids)


def _spec(types):
    from herzstadt.ngsi.storage import QuerySpec

    return QuerySpec(types=types, limit=1000, count=True)


def test_concurrent_creates_one_201_the_rest_409(brokers):
    bs, tenant = brokers

    def create(w: int):
        b = bs[w]
        return create_entity(b, _req(b, tenant, _entity(1, w)))

    results = _run_all([lambda w=w: create(w) for w in range(WORKERS)])
    ok = [r for r in results if not isinstance(r, Exception)]
    assert len(ok) == 1 and ok[0].status == 201
    assert all(isinstance(r, AlreadyExists) for r in results if isinstance(r, Exception))

    def create_batch(w: int):
        b = bs[w]
        ents = [_entity(n, w) for n in range(10, 30)]
        return batch_create(b, _req(b, tenant, ents))

    results = _run_all([lambda w=w: create_batch(w) for w in range(WORKERS)])
    won: list[str] = []
    for r in results:
        assert not isinstance(r, Exception), r
        if r.status == 201:
            won += r.body
        else:
            assert r.status == 207
            won += r.body["success"]
            assert {e["error"]["status"] for e in r.body["errors"]} == {409}
    assert sorted(won) == sorted(f"urn:ngsi-ld:Sensor:{n}" for n in range(10, 30))


def test_pool_queues_then_answers_503(tmp_path):
    if not PG_URL:
        pytest.skip("HERZSTADT_TEST_DATABASE_URL not set")
    store = open_store(_database("postgresql", tmp_path), pool_size=1, pool_timeout=0.3)
    try:
        held = threading.Event()
        release = threading.Event()

        def hold():
            with store.write("") as tx:
                tx.get("urn:x:none")
                held.set()
                release.wait(30)

        t = threading.Thread(target=hold)
        t.start()
        assert held.wait(30)
        with pytest.raises(ServiceUnavailable) as ei:
            store.get("", "urn:x:none")  # the only connection is taken: queue, then 503
        assert ei.value.status == 503
        release.set()
        t.join(30)
        assert store.get("", "urn:x:none") is None  # the connection is back
    finally:
        store.close()


def test_sqlite_reads_do_not_wait_for_a_write(tmp_path):
    store = open_store(str(tmp_path / "r.sqlite3"))
    try:
        with store.write("") as tx:
            tx.insert({"id": "urn:x:1", "type": ["T"], "attrs": {}})
        in_write = threading.Event()
        release = threading.Event()

        def write():
            with store.write("") as tx:
                tx.insert({"id": "urn:x:2", "type": ["T"], "attrs": {}})
                in_write.set()
                release.wait(30)

        t = threading.Thread(target=write)
        t.start()
        assert in_write.wait(30)
        got: list = []
        reader = threading.Thread(target=lambda: got.append(store.get("", "urn:x:1")))
        reader.start()
        reader.join(30)
        finished = not reader.is_alive()
        release.set()
        t.join(30)
        assert finished, "the read waited for the write transaction"
        assert got[0]["id"] == "urn:x:1"
        assert store.get("", "urn:x:2") is not None  # committed, and visible to readers
    finally:
        store.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_reading_inside_a_write_sees_the_write(backend, tmp_path):
    store = open_store(_database(backend, tmp_path), pool_size=1, pool_timeout=5)
    tenant = f"r{uuid.uuid4().hex[:10]}"
    try:
        with store.write(tenant) as tx:
            tx.insert({"id": "urn:x:in-tx", "type": ["T"], "attrs": {}})
            # same thread, same transaction: no second connection (the pool has one), own changes
            assert store.get(tenant, "urn:x:in-tx") is not None
            with store.reading() as cur:
                cur.execute(
                    f"SELECT count(*) FROM ngsi_entity WHERE tenant = {store.placeholder}",
                    (tenant,),
                )
                assert cur.fetchone()[0] == 1
        assert store.get(tenant, "urn:x:in-tx") is not None
    finally:
        if backend == "postgresql":
            drop_tenant(store, tenant)
        store.close()
