"""herzstadt's NGSI-LD context broker core (ETSI GS CIM 009), framework-free.

Public API for the web layer::

    from herzstadt.ngsi import NgsiConfig, make_app, Broker, load_entities, system_principal
    app = make_app(NgsiConfig(database="data/ngsi.sqlite3"), verifier=my_verifier)
    # ASGI app, full paths /ngsi-ld/v1/...; the verifier checks credentials (see auth)
    load_entities(app.broker, [entity, ...], principal=system_principal("city"))  # demo data
"""

from typing import Any

from .auth import Principal, Scope, TenantPolicy, Verifier, system_principal
from .config import NgsiConfig

__all__ = [
    "Broker",
    "NgsiConfig",
    "Principal",
    "Scope",
    "TenantPolicy",
    "Verifier",
    "load_entities",
    "make_app",
    "system_principal",
]


def __getattr__(name: str) -> Any:
    if name == "make_app":
        from .asgi import make_app

        return make_app
    if name == "Broker":
        from .service import Broker

        return Broker
    if name == "load_entities":
        from .service import load_entities

        return load_entities
    raise AttributeError(name)
