"""Load the Pfaff-Areal snapshot (FIWARE Smart Data Models, NGSI-LD normalized) into the broker,
publish its non-personal entity types as open data and make a demo API client whose key is printed
for the data engineer."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import quote

from herzstadt.core.models import City
from herzstadt.ngsi.auth import system_principal
from herzstadt.ngsi.params import WriteOptions
from herzstadt.ngsi.service import Req, batch_upsert
from herzstadt.urbandata.broker import get_broker, public_url

DEMO_DIR = Path(__file__).resolve().parent / "demo"
#: The snapshot shipped for a demo city, by the city's slug.
DEMO_FILES = {"kaiserslautern": DEMO_DIR / "pfaff-areal.jsonld"}
#: Smart Data Models the demo publishes as open data (no personal data: not the households'
#: smart-meter readings, not the citizens' issue reports).
OPEN_DATA_MODELS = frozenset(
    {
        "OffStreetParking",
        "ParkingSpot",
        "TrafficFlowObserved",
        "BikeHireDockingStation",
        "EVChargingStation",
        "AirQualityObserved",
        "NoiseLevelObserved",
        "WeatherObserved",
        "PhotovoltaicMeasurement",
    }
)
#: Smart Data Models the demo marks as personal data (the households' smart meters): never open
#: data, shown on the pages only aggregated over at least 5 meters.
PERSONAL_MODELS = frozenset({"SmartMeteringObservation"})
#: The entity types each demo measure produces (by the measure's slug).
MEASURE_MODELS = {
    "mobilitaetsstation-pfaff-areal": ("BikeHireDockingStation", "EVChargingStation"),
    "sensorgestuetzte-parkraumerfassung-pfaff-areal": ("OffStreetParking", "ParkingSpot"),
    "ladeinfrastruktur-pfaff-areal": ("EVChargingStation",),
    "quartiersenergienetz-pfaff-areal": ("PhotovoltaicMeasurement", "SmartMeteringObservation"),
    "klima-und-luftmessnetz-pfaff-areal": (
        "AirQualityObserved",
        "NoiseLevelObserved",
        "WeatherObserved",
        "TrafficFlowObserved",
    ),
    # taken over with the measure from Solingen (knowledge demo: provenance)
    "digitaler-zwilling-pfaff-areal": ("AirQualityObserved", "WeatherObserved"),
}
#: The Smart Data Models the measures of the demo cities without a snapshot name (expanded type
#: IRIs; their tenants hold no data, so the measure pages show nothing, but the measures' network
#: records offer the data models to a city that replicates them).
_SDM = "https://smartdatamodels.org/dataModel."
DECLARED_MODELS = {
    "solingen": {
        "digitaler-zwilling-solingen": (
            _SDM + "Environment/AirQualityObserved",
            _SDM + "Weather/WeatherObserved",
        ),
        "urbane-datenplattform-solingen": (
            _SDM + "Environment/AirQualityObserved",
            _SDM + "Parking/OffStreetParking",
            _SDM + "Environment/WaterObserved",
        ),
        "hitzevorsorge-solingen": (_SDM + "Weather/WeatherObserved",),
    },
    "wolfsburg": {
        "oepnv-auf-abruf-wolfsburg": (_SDM + "Transportation/Vehicle",),
        "mobilitaetsdaten-wolfsburg": (
            _SDM + "Parking/OffStreetParking",
            _SDM + "Transportation/EVChargingStation",
        ),
        "radverkehrszaehlung-wolfsburg": (_SDM + "Transportation/TrafficFlowObserved",),
    },
    "cottbus": {
        "energiemonitoring-cottbus": (
            _SDM + "Building/Building",
            _SDM + "Energy/ACMeasurement",
            _SDM + "WaterConsumption/WaterConsumptionObserved",
        ),
        "waermeplanung-cottbus": (_SDM + "Building/Building",),
    },
}
#: The demo's API client (read and write), re-keyed on every demo load.
DEMO_CLIENT_NAME = "Demo: Datenplattform (lesen und schreiben)"


class DemoLoadError(RuntimeError):
    pass


def load_city(city: City, path: Path, at: dt.datetime | None = None) -> int:
    """Upsert the entities of ``path`` into the city's NGSI-LD tenant; returns how many. With
    ``at``, the simulated sensors carry the simulation's values at that time instead of the
    snapshot's (see :mod:`herzstadt.urbandata.simulation`)."""
    entities = json.loads(path.read_text(encoding="utf-8"))
    if at is not None:
        from herzstadt.urbandata.simulation.district import overlay

        entities = overlay(entities, at)
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


def _short(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def publish_open_data(city: City) -> list[str]:
    """Publish the city's non-personal demo types as open data and mark the households' meters as
    personal data; returns the open types' IRIs."""
    from herzstadt.urbandata.access import save_settings, settings_of

    known = get_broker().store.entity_types(city.ngsi_tenant)
    types = [t for t in known if _short(t) in OPEN_DATA_MODELS]
    personal = [t for t in known if _short(t) in PERSONAL_MODELS]
    save_settings(city, types, settings_of(city).cors_origins, personal)
    return sorted(types)


def link_measures(city: City) -> int:
    """Name the entity types each demo measure produces; returns how many measures."""
    from herzstadt.core.models import Measure
    from herzstadt.urbandata.models import MeasureEntityTypes

    known = {_short(t): t for t in get_broker().store.entity_types(city.ngsi_tenant)}
    linked = 0
    for measure in Measure.objects.filter(city=city, slug__in=MEASURE_MODELS):
        types = [known[name] for name in MEASURE_MODELS[measure.slug] if name in known]
        MeasureEntityTypes.objects.update_or_create(
            measure=measure, defaults={"city": city, "entity_types": types}
        )
        linked += 1
    return linked


def link_declared(city: City) -> int:
    """Name the entity types of the demo measures of a city without a snapshot
    (``DECLARED_MODELS``); returns how many measures."""
    from herzstadt.core.models import Measure
    from herzstadt.urbandata.models import MeasureEntityTypes

    declared = DECLARED_MODELS.get(city.slug, {})
    linked = 0
    for measure in Measure.objects.filter(city=city, slug__in=declared):
        MeasureEntityTypes.objects.update_or_create(
            measure=measure,
            defaults={"city": city, "entity_types": sorted(declared[measure.slug])},
        )
        linked += 1
    return linked


def demo_client(city: City) -> str:
    """The demo's read+write API client of ``city`` with a new key; returns the key (the previous
    demo key stops working)."""
    from herzstadt.urbandata.access import new_key
    from herzstadt.urbandata.models import ApiClient

    client, _created = ApiClient.objects.get_or_create(
        city=city,
        name=DEMO_CLIENT_NAME,
        defaults={
            "description": "Made by the demo loader; its key is printed when the demo starts.",
            "scopes": ["read", "write"],
        },
    )
    client.scopes, client.entity_types, client.revoked_at, client.expires_at = (
        ["read", "write"],
        None,
        None,
        None,
    )
    client.save()
    return new_key(client)


def demo_loader(context) -> str:
    """The pillar's ``DemoLoader``: the snapshot of every demo city that has one, its open data,
    and a demo API key (printed)."""
    from herzstadt.urbandata.simulation.runner import enabled, tick_time

    count = 0
    lines = []
    # with the simulation on (herzstadt demo), the current simulated values, not the snapshot's
    at = tick_time(dt.datetime.now(dt.UTC), 1.0) if enabled() else None
    for slug, city in context.cities.items():
        path = DEMO_FILES.get(slug)
        if path is None:
            link_declared(city)
            continue
        count += load_city(city, path, at)
        types = publish_open_data(city)
        link_measures(city)
        key = demo_client(city)
        example = next(
            (t for t in types if _short(t) == "OffStreetParking"), types[0] if types else ""
        )
        tenant = f" -H 'NGSILD-Tenant: {city.ngsi_tenant}'" if city.ngsi_tenant else ""
        lines.append(
            f"\n  Demo API key for {city.name} (read+write, shown at every demo start): {key}"
            f"\n  Try: curl -H 'X-API-Key: {key}'{tenant}"
            f" '{public_url()}/ngsi-ld/v1/entities?type={quote(example, safe='')}'"
            "\n  (more keys, OAuth2 and device keys: back office → API-Zugänge)"
        )
    return f"{count} NGSI-LD entities" + "".join(lines)
