"""What is measured in a district: the NGSI-LD entities located inside its boundary, by type."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import orjson
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from herzstadt.core.models import District
from herzstadt.core.ttlcache import TTLCache
from herzstadt.ngsi.auth import system_principal
from herzstadt.ngsi.errors import NgsiError
from herzstadt.ngsi.params import (
    Details,
    EntityQuery,
    GeoQuery,
    Paging,
    QueryParams,
    RetrieveOptions,
)
from herzstadt.ngsi.service import Req, list_types, query_entities
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


@dataclass(frozen=True)
class MeasuredType:
    type_iri: str
    name: str
    label: str
    count: int
    api_url: str


def _short(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


#: per worker: (database, tenant, district, boundary) → [(type IRI, count)]; 60 s
measured_cache = TTLCache(ttl=60.0, max_entries=512)


def _geo(district: District) -> dict[str, str]:
    return {
        "georel": "within",
        "geometry": district.boundary["type"],
        "coordinates": orjson.dumps(district.boundary["coordinates"]).decode(),
    }


def _count_by_type(tenant: str, geo: dict[str, str]) -> list[tuple[str, int]]:
    """The broker's own counts (``count=true&limit=0``) of each entity type inside ``geo``: no entity
    is sent back, so the totals are right however many there are."""
    broker = get_broker()
    request = Req(
        principal=system_principal(tenant, "district-page"),
        tenant=tenant,
        ctx=broker.resolver.get(None),
    )
    try:
        types = list_types(broker, request, Details()).body["typeList"]
    except NgsiError:  # e.g. the city's tenant has no data yet
        return []
    counts = []
    for iri in types:
        params = QueryParams(
            query=EntityQuery(type=iri, geo=GeoQuery(**geo)),
            paging=Paging(limit=0, count=True),
            render=RetrieveOptions(),
        )
        try:
            result = query_entities(broker, request, params)
        except NgsiError:
            continue
        total = dict(result.headers).get(b"ngsild-results-count", b"0")
        if int(total):
            counts.append((iri, int(total)))
    return counts


def measured_in(district: District) -> list[MeasuredType]:
    """Entity types located within the district, with counts and the NGSI-LD query that lists them.

    Counted by the broker, one count query per type of the city's tenant, kept for 60 s per worker."""
    geo = _geo(district)
    tenant = district.city.ngsi_tenant
    key = (settings.HERZSTADT_NGSI_DATABASE, tenant, district.pk, geo["coordinates"])
    counts = measured_cache.get_or_set(key, lambda: _count_by_type(tenant, geo))
    found = []
    for iri, count in counts:
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
