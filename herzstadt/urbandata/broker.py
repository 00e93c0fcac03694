"""The NGSI-LD broker as herzstadt runs it: configured from the same settings as the site.

The broker core (:mod:`herzstadt.ngsi`) knows nothing of Django; this module builds its configuration
from herzstadt's settings and hands out a broker for in-process use (demo loading, district pages) and
the ASGI application mounted at ``/ngsi-ld/``.
"""

from __future__ import annotations

import threading
from pathlib import Path

from django.conf import settings

from herzstadt.ngsi import Broker, NgsiConfig

#: Smart Data Models @contexts shipped with herzstadt, so the district's data works offline.
SMART_DATA_MODELS_PRELOAD = Path(__file__).resolve().parent / "demo" / "contexts" / "preload.json"

_local = threading.local()


def ngsi_config() -> NgsiConfig:
    config = NgsiConfig.from_env()
    config.database = settings.HERZSTADT_NGSI_DATABASE
    config.preload_files = [*config.preload_files, str(SMART_DATA_MODELS_PRELOAD)]
    return config


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

    return make_app(ngsi_config())
