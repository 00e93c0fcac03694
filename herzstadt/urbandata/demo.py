"""Load the Pfaff-Areal snapshot (FIWARE Smart Data Models, NGSI-LD normalized) into the broker."""

from __future__ import annotations

import json
from pathlib import Path

from herzstadt.core.models import City
from herzstadt.ngsi.auth import system_principal
from herzstadt.ngsi.params import WriteOptions
from herzstadt.ngsi.service import Req, batch_upsert
from herzstadt.urbandata.broker import get_broker

DEMO_DIR = Path(__file__).resolve().parent / "demo"
#: The snapshot shipped for a demo city, by the city's slug.
DEMO_FILES = {"kaiserslautern": DEMO_DIR / "pfaff-areal.jsonld"}


class DemoLoadError(RuntimeError):
    pass


def load_city(city: City, path: Path) -> int:
    """Upsert the entities of ``path`` into the city's NGSI-LD tenant; returns how many."""
    entities = json.loads(path.read_text(encoding="utf-8"))
    broker = get_broker()
    # Each entity carries its @context, as an application/ld+json batch would.
    request = Req(
        principal=system_principal(city.ngsi_tenant, "demo-loader"),
        tenant=city.ngsi_tenant,
        ctx=broker.resolver.get(None),
        body=entities,
        ld=True,
    )
    result = batch_upsert(broker, request, WriteOptions())
    if result.status not in (201, 204):
        errors = result.body.get("errors", []) if isinstance(result.body, dict) else result.body
        raise DemoLoadError(f"NGSI-LD demo entities were rejected: {errors}")
    return len(entities)


def demo_loader(context) -> str:
    """The pillar's ``DemoLoader``: the snapshot of every demo city that has one."""
    count = 0
    for slug, city in context.cities.items():
        path = DEMO_FILES.get(slug)
        if path is not None:
            count += load_city(city, path)
    return f"{count} NGSI-LD entities"
