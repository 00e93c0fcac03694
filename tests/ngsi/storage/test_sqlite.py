"""Store-level tests (SQLite; PostgreSQL with HERZSTADT_TEST_DATABASE_URL)."""

import sqlite3

from herzstadt.ngsi.storage import QuerySpec, event_rows, open_store


def test_schema_idempotent_and_versioned(tmp_path):
    p = tmp_path / "ngsi.sqlite3"
    open_store(str(p)).close()
    s = open_store(f"sqlite://{p}")
    s.close()
    c = sqlite3.connect(p)
    assert c.execute("SELECT value FROM ngsi_meta WHERE key='schema_version'").fetchone() == ("1",)
    assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _doc(eid, types=("T",), geo=None):
    d = {"id": eid, "type": list(types), "attrs": {}}
    if geo:
        d["attrs"]["https://uri.etsi.org/ngsi-ld/location"] = [
            {"type": "GeoProperty", "value": {"type": "Point", "coordinates": geo}}
        ]
    return d


def test_index_tables_kept_in_step(tmp_path):
    s = open_store(str(tmp_path / "n.sqlite3"))
    with s.write("") as tx:
        tx.insert_many([_doc("urn:a", geo=[1, 1]), _doc("urn:b", ("T", "U"), geo=[5, 5])])
        tx.events(event_rows("", None, _doc("urn:a"), "2026-01-01T00:00:00.000Z"))
    c = s.conn
    assert c.execute("SELECT count(*) FROM ngsi_entity_type").fetchone()[0] == 3
    assert c.execute("SELECT count(*) FROM ngsi_geo").fetchone()[0] == 2
    docs, n = s.query("", QuerySpec(types=["U"], count=True))
    assert [d["id"] for d in docs] == ["urn:b"] and n == 1
    docs, _ = s.query("", QuerySpec(bbox=("https://uri.etsi.org/ngsi-ld/location", 0, 0, 2, 2)))
    assert [d["id"] for d in docs] == ["urn:a"]
    with s.write("") as tx:
        pk, old = tx.get("urn:b")
        new = _doc("urn:b", ("T",), geo=[9, 9])
        tx.update(pk, old, new)
    assert c.execute("SELECT count(*) FROM ngsi_entity_type").fetchone()[0] == 2
    assert (
        c.execute(
            "SELECT minx FROM ngsi_geo g JOIN ngsi_entity e ON e.pk=g.entity_pk WHERE e.id='urn:b'"
        ).fetchone()[0]
        == 9
    )
    with s.write("") as tx:
        tx.delete_many([pk for pk, _ in tx.get_many(["urn:a", "urn:b"]).values()])
    for t in ("ngsi_entity", "ngsi_entity_type", "ngsi_geo"):
        assert c.execute(f"SELECT count(*) FROM {t}").fetchone()[0] == 0
    assert c.execute("SELECT count(*) FROM ngsi_event").fetchone()[0] == 1
    s.close()


def test_event_rows():
    old = {
        "id": "urn:a",
        "type": ["T"],
        "attrs": {"p": [{"type": "Property", "value": 1}], "q": [{"type": "Property", "value": 1}]},
    }
    new = {
        "id": "urn:a",
        "type": ["T"],
        "attrs": {"p": [{"type": "Property", "value": 2}], "r": [{"type": "Property", "value": 1}]},
    }
    rows = event_rows("", old, new, "now")
    kinds = {(r[2], r[3]) for r in rows}
    assert kinds == {("p", "update"), ("r", "create"), ("q", "delete")}
    assert event_rows("", old, None, "now")[0][3] == "delete"


def test_commit_durability_settings(tmp_path, monkeypatch):
    from herzstadt.ngsi.config import NgsiConfig
    from herzstadt.ngsi.storage import sqlite as sqlite_store

    fast = open_store(str(tmp_path / "fast.sqlite3"))
    assert fast.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert fast.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    monkeypatch.setattr(sqlite_store, "CHECKPOINT_INTERVAL", 0.0)
    for n in range(2):
        with fast.write("") as tx:
            tx.insert_many([_doc(f"urn:c:{n}")])
    # write() checkpointed the WAL after releasing the write lock: nothing left to copy
    busy, log, done = fast.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert busy == 0 and log == done
    fast.close()
    durable = open_store(str(tmp_path / "durable.sqlite3"), durable=True)
    assert durable.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert durable.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    durable.close()
    monkeypatch.setenv("HERZSTADT_NGSI_DURABLE_COMMITS", "1")
    assert NgsiConfig.from_env().durable_commits is True
    monkeypatch.setenv("HERZSTADT_NGSI_DURABLE_COMMITS", "0")
    assert NgsiConfig.from_env().durable_commits is False


def test_postgresql_commit_and_storage_settings():
    import os

    import pytest

    url = os.environ.get("HERZSTADT_TEST_DATABASE_URL")
    if not url:
        pytest.skip("HERZSTADT_TEST_DATABASE_URL not set")
    url += ("&" if "?" in url else "?") + "schema=ngsi_test"
    for durable, expected in ((False, "off"), (True, "on")):
        s = open_store(url, durable=durable)
        with s.connection() as c:  # every pooled connection is configured alike
            assert c.execute("SHOW synchronous_commit").fetchone()[0] == expected
            opts = c.execute(
                "SELECT reloptions FROM pg_class WHERE oid = 'ngsi_entity'::regclass"
            ).fetchone()[0]
        assert "toast_tuple_target=8160" in opts
        s.close()
