"""herzstadt's NGSI-LD context broker core (ETSI GS CIM 009), framework-free.

Public API for the web layer::

    from herzstadt.ngsi import NgsiConfig, make_app, Broker, load_entities
    app = make_app(NgsiConfig(database="data/ngsi.sqlite3"))   # ASGI app, full paths /ngsi-ld/v1/...
    load_entities(app.broker, [entity, ...])                     # upsert NGSI-LD entities (demo data)
"""

from .config import NgsiConfig

__all__ = ["Broker", "NgsiConfig", "load_entities", "make_app"]


def __getattr__(name: str):
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
