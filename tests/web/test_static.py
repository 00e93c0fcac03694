"""Production serves static files through a hashed manifest: collecting them must work with every
vendored file (a missing source map once broke `herzstadt serve` in production)."""

import pytest
from django.core.management import call_command
from django.test import override_settings


@pytest.mark.slow
def test_collectstatic_with_manifest_storage(tmp_path, settings):
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
    assert (tmp_path / "staticfiles.json").exists()
    assert list(tmp_path.glob("vendor/leaflet/leaflet.*.js"))
