"""The NGSI-LD broker as herzstadt runs it: configured from the same settings as the site.

The broker core (:mod:`herzstadt.ngsi`) knows nothing of Django; this module builds its configuration
from herzstadt's settings and hands out a broker for in-process use (demo loading, district pages) and
the ASGI application mounted at ``/ngsi-ld/``, whose access control asks the verifier named by
``settings.NGSI_VERIFIER``.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

from herzstadt.ngsi import Broker, NgsiConfig, Verifier
from herzstadt.ngsi.auth import ChainedVerifier, KeyFileVerifier

#: Smart Data Models @contexts shipped with herzstadt, so the district's data works offline.
SMART_DATA_MODELS_PRELOAD = Path(__file__).resolve().parent / "demo" / "contexts" / "preload.json"

_local = threading.local()


def ngsi_config() -> NgsiConfig:
    config = NgsiConfig.from_env()
    config.database = settings.HERZSTADT_NGSI_DATABASE
    config.preload_files = [*config.preload_files, str(SMART_DATA_MODELS_PRELOAD)]
    config.allowed_hosts = list(settings.ALLOWED_HOSTS)
    config.public_url = public_url()
    return config


def public_url() -> str:
    """``HERZSTADT_PUBLIC_URL``, else the first named host of ``ALLOWED_HOSTS`` (https in
    production, else http with ``HERZSTADT_PORT``): never the ``Host`` of a request."""
    if settings.HERZSTADT_PUBLIC_URL:
        return settings.HERZSTADT_PUBLIC_URL
    hosts = [h for h in settings.ALLOWED_HOSTS if h != "*" and not h.startswith(".")]
    host = hosts[0] if hosts else "localhost"
    if settings.CONFIG.production:
        return f"https://{host}"
    return f"http://{host}:{os.environ.get('HERZSTADT_PORT', '8000')}"


def get_verifier(config: NgsiConfig | None = None) -> Verifier:
    """The verifier of ``settings.NGSI_VERIFIER`` (a dotted path of a callable); with
    ``HERZSTADT_NGSI_API_KEYS_FILE`` the keys and tenants of that file come first."""
    verifier = import_string(settings.NGSI_VERIFIER)()
    if config is not None and config.api_keys_file:
        return ChainedVerifier(KeyFileVerifier(config.api_keys_file), verifier)
    return verifier


def get_broker() -> Broker:
    """A broker for this thread (SQLite connections belong to the thread that opened them)."""
    broker = getattr(_local, "broker", None)
    if broker is None or getattr(_local, "database", None) != settings.HERZSTADT_NGSI_DATABASE:
        broker = Broker(ngsi_config())
        _local.broker, _local.database = broker, settings.HERZSTADT_NGSI_DATABASE
    return broker


def ngsi_application():
    """The NGSI-LD API as an ASGI application, for herzstadt.asgi to mount at /ngsi-ld/."""
    from herzstadt.ngsi import make_app

    config = ngsi_config()
    return make_app(config, verifier=None if config.open_access else get_verifier(config))


def personal_types(city) -> frozenset[str]:
    """The city's entity types (expanded IRIs) that hold personal data: another pillar that reads
    the broker (e.g. the compass's indicators) shows them only as an aggregate over at least
    :data:`K_ANONYMITY` sources."""
    from herzstadt.urbandata.access import personal_types as _personal

    return _personal(city)


#: the fewest sources of a personal type an aggregate may describe (see urbandata.models)
K_ANONYMITY = 5
