"""What is measured in a district: the NGSI-LD entities located inside its boundary, by type."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlencode

import orjson
from django.utils.translation import gettext_lazy as _

from herzstadt.core.models import District
from herzstadt.ngsi.auth import system_principal
from herzstadt.ngsi.errors import NgsiError
from herzstadt.ngsi.params import EntityQuery, GeoQuery, Paging, QueryParams, RetrieveOptions
from herzstadt.ngsi.service import Req, query_entities
from herzstadt.urbandata.broker import get_broker

#: Readable names of the Smart Data Models the platform knows (others show their type name).
TYPE_LABELS = {
    "OffStreetParking": _("Car parks"),
    "ParkingSpot": _("Parking spaces"),
    "AirQualityObserved": _("Air quality"),
    "WeatherObserved": _("Weather"),
    "NoiseLevelObserved": _("Noise"),
    "TrafficFlowObserved": _("Traffic flow"),
    "BikeHireDockingStation": _("Bike hire stations"),
    "EVChargingStation": _("EV charging stations"),
    "PhotovoltaicMeasurement": _("Photovoltaics"),
    "SmartMeteringObservation": _("Energy metering"),
    "IssueReporting": _("Citizen reports"),
}
MAX_ENTITIES = 1000


@dataclass(frozen=True)
class MeasuredType:
    type_iri: str
    name: str
    label: str
    count: int
    api_url: str


def _short(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def measured_in(district: District) -> list[MeasuredType]:
    """Entity types located within the district, with counts and the NGSI-LD query that lists them."""
    geo = {
        "georel": "within",
        "geometry": district.boundary["type"],
        "coordinates": orjson.dumps(district.boundary["coordinates"]).decode(),
    }
    broker = get_broker()
    tenant = district.city.ngsi_tenant
    request = Req(
        principal=system_principal(tenant, "district-page"),
        tenant=tenant,
        ctx=broker.resolver.get(None),
    )
    params = QueryParams(
        query=EntityQuery(attrs=("location",), geo=GeoQuery(**geo)),
        paging=Paging(limit=MAX_ENTITIES),
        render=RetrieveOptions(attrs=("location",)),
    )
    try:
        result = query_entities(broker, request, params)
    except NgsiError:  # e.g. the city's tenant has no data yet
        return []
    counts: Counter[str] = Counter()
    for entity in result.body or []:
        kinds = entity.get("type", [])
        counts.update([kinds] if isinstance(kinds, str) else kinds)
    found = []
    for iri, count in counts.items():
        name = _short(iri)
        found.append(
            MeasuredType(
                type_iri=iri,
                name=name,
                label=str(TYPE_LABELS.get(name, name)),
                count=count,
                api_url="/ngsi-ld/v1/entities?" + urlencode({"type": iri, **geo}),
            )
        )
    return sorted(found, key=lambda m: m.label)
