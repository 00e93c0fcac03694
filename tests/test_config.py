import os
import stat

import pytest

from herzstadt.config import ConfigError, load


def test_development_defaults_use_embedded_sqlite_in_the_data_directory(tmp_path):
    config = load({"HERZSTADT_DATA_DIR": str(tmp_path)})
    assert config.database_url == f"sqlite:///{tmp_path / 'herzstadt.sqlite3'}"
    assert config.is_sqlite
    assert not config.production
    assert config.debug is False


def test_development_secret_key_is_random_and_kept_private(tmp_path):
    first = load({"HERZSTADT_DATA_DIR": str(tmp_path)}).secret_key
    second = load({"HERZSTADT_DATA_DIR": str(tmp_path)}).secret_key
    other = load({"HERZSTADT_DATA_DIR": str(tmp_path / "other")}).secret_key
    assert first == second
    assert first != other
    assert len(first) >= 50
    mode = stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode)
    assert mode == 0o600


def test_production_without_secret_key_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="HERZSTADT_SECRET_KEY is not set"):
        load(
            {
                "HERZSTADT_ENV": "production",
                "HERZSTADT_DATA_DIR": str(tmp_path),
                "HERZSTADT_ALLOWED_HOSTS": "example.org",
            }
        )
    assert not (tmp_path / "secret_key").exists()


def test_production_rejects_a_short_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="too short"):
        load(
            {
                "HERZSTADT_ENV": "production",
                "HERZSTADT_SECRET_KEY": "short",
                "HERZSTADT_ALLOWED_HOSTS": "example.org",
                "HERZSTADT_DATA_DIR": str(tmp_path),
            }
        )


def test_production_requires_allowed_hosts(tmp_path):
    with pytest.raises(ConfigError, match="HERZSTADT_ALLOWED_HOSTS"):
        load(
            {
                "HERZSTADT_ENV": "production",
                "HERZSTADT_SECRET_KEY": "x" * 50,
                "HERZSTADT_DATA_DIR": str(tmp_path),
            }
        )


def test_production_configuration(tmp_path):
    config = load(
        {
            "HERZSTADT_ENV": "production",
            "HERZSTADT_SECRET_KEY": "k" * 50,
            "HERZSTADT_ALLOWED_HOSTS": "herzstadt.example.org, www.example.org",
            "DATABASE_URL": "postgresql://herzstadt@db:5432/herzstadt",
            "HERZSTADT_DATA_DIR": str(tmp_path),
        }
    )
    assert config.production
    assert config.allowed_hosts == ["herzstadt.example.org", "www.example.org"]
    assert not config.is_sqlite
    assert "smtp" in config.email_backend


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"HERZSTADT_ENV": "staging"}, "HERZSTADT_ENV"),
        ({"HERZSTADT_DEBUG": "maybe"}, "not a boolean"),
        ({"DATABASE_URL": "mysql://x@y/z"}, "not supported"),
    ],
)
def test_invalid_values_name_the_variable(tmp_path, environ, message):
    with pytest.raises(ConfigError, match=message):
        load({"HERZSTADT_DATA_DIR": str(tmp_path), **environ})


def test_trusted_proxy_hops(tmp_path):
    assert load({"HERZSTADT_DATA_DIR": str(tmp_path)}).trusted_proxy_hops == 0
    assert (
        load(
            {"HERZSTADT_DATA_DIR": str(tmp_path), "HERZSTADT_TRUSTED_PROXY_HOPS": "1"}
        ).trusted_proxy_hops
        == 1
    )
    with pytest.raises(ConfigError, match="PROXY_HOPS"):
        load({"HERZSTADT_DATA_DIR": str(tmp_path), "HERZSTADT_TRUSTED_PROXY_HOPS": "many"})


def test_production_refuses_ngsi_open_access(tmp_path):
    env = {
        "HERZSTADT_ENV": "production",
        "HERZSTADT_SECRET_KEY": "k" * 50,
        "HERZSTADT_ALLOWED_HOSTS": "herzstadt.example.org",
        "HERZSTADT_DATA_DIR": str(tmp_path),
        "HERZSTADT_PUBLIC_URL": "https://herzstadt.example.org/",
    }
    assert load(env).public_url == "https://herzstadt.example.org"
    for on in ("1", "true", "yes", "on"):
        with pytest.raises(ConfigError, match="HERZSTADT_NGSI_OPEN_ACCESS"):
            load({**env, "HERZSTADT_NGSI_OPEN_ACCESS": on})
    assert load({**env, "HERZSTADT_NGSI_OPEN_ACCESS": "0"}).production
    # development may open the API for experiments
    dev = {"HERZSTADT_DATA_DIR": str(tmp_path), "HERZSTADT_NGSI_OPEN_ACCESS": "1"}
    assert not load(dev).production


def test_media_accel_redirect_is_an_internal_location_or_nothing(tmp_path):
    base = {"HERZSTADT_DATA_DIR": str(tmp_path)}
    assert load(base).media_accel_redirect == ""
    ok = load({**base, "HERZSTADT_MEDIA_ACCEL_REDIRECT": "/_protected-media/"})
    assert ok.media_accel_redirect == "/_protected-media/"
    for bad in ("_protected-media/", "/_protected-media", "http://x/", "/a b/", "/../"):
        with pytest.raises(ConfigError, match="HERZSTADT_MEDIA_ACCEL_REDIRECT"):
            load({**base, "HERZSTADT_MEDIA_ACCEL_REDIRECT": bad})
