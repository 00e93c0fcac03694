"""Public API for the herzstadt web layer: config, load_entities."""

from herzstadt.ngsi import Broker, NgsiConfig, load_entities, make_app, system_principal


def test_load_entities_and_from_env(tmp_path, monkeypatch):
    monkeypatch.delenv("HERZSTADT_NGSI_DATABASE", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("HERZSTADT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HERZSTADT_NGSI_MAX_LIMIT", "50")
    cfg = NgsiConfig.from_env()
    assert cfg.database == str(tmp_path / "ngsi.sqlite3") and cfg.max_limit == 50
    app = make_app(cfg)
    try:
        res = load_entities(
            app.broker,
            [
                {"id": "urn:ngsi-ld:Building:1", "type": "Building", "height": 12},
                {"id": "urn:ngsi-ld:Building:2", "type": "Building", "height": {"value": 3}},
                {"id": "bad", "type": "Building"},
            ],
            principal=system_principal(""),
        )
        assert res["success"] == ["urn:ngsi-ld:Building:1", "urn:ngsi-ld:Building:2"]
        assert res["errors"][0]["entityId"] == "bad"
        assert app.broker.store.get("", "urn:ngsi-ld:Building:1") is not None
        assert isinstance(app.broker, Broker)
    finally:
        app.close()


def test_open_access_flag_is_parsed_strictly(monkeypatch):
    import pytest

    for raw, want in (("1", True), ("on", True), ("TRUE", True), ("off", False), ("no", False)):
        monkeypatch.setenv("HERZSTADT_NGSI_OPEN_ACCESS", raw)
        assert NgsiConfig.from_env().open_access is want, raw
    monkeypatch.setenv("HERZSTADT_NGSI_OPEN_ACCESS", "maybe")
    with pytest.raises(ValueError, match="HERZSTADT_NGSI_OPEN_ACCESS"):
        NgsiConfig.from_env()
