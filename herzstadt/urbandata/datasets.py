"""The city's urban data as open-data datasets: one per entity type in the city's NGSI-LD tenant,
distributed through the NGSI-LD API (for the coming DCAT-AP.de catalogue)."""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _

from herzstadt.core.registry import Dataset, Distribution
from herzstadt.ngsi.errors import NgsiError
from herzstadt.urbandata.broker import get_broker, get_verifier
from herzstadt.urbandata.measured import TYPE_LABELS

#: The NGSI-LD API under the site (mounted by this pillar, see pillar.py).
NGSI_LD_PREFIX = "/ngsi-ld/"
#: How many values per attribute the history distribution returns (a day at 15 minutes).
HISTORY_LAST_N = 96
#: Datenlizenz Deutschland – Namensnennung – 2.0, as a DCAT-AP.de licence URI.
LICENCE = "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
#: Themes of the EU data-theme vocabulary, by Smart Data Model.
THEMES = {
    "OffStreetParking": ("TRAN",),
    "ParkingSpot": ("TRAN",),
    "TrafficFlowObserved": ("TRAN",),
    "BikeHireDockingStation": ("TRAN",),
    "EVChargingStation": ("TRAN", "ENER"),
    "AirQualityObserved": ("ENVI",),
    "NoiseLevelObserved": ("ENVI",),
    "WeatherObserved": ("ENVI",),
    "PhotovoltaicMeasurement": ("ENER",),
    "SmartMeteringObservation": ("ENER",),
    "IssueReporting": ("GOVE",),
}


def _short(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def entity_types(city) -> list[str]:
    """The (expanded) entity types in the city's tenant that anyone may read (the city's open data,
    as the site's verifier says); none when the tenant has no data yet or publishes nothing."""
    policy = get_verifier().tenant_policy(city.ngsi_tenant)
    if policy is None or not policy.public_types:
        return []
    store = get_broker().store
    try:
        if city.ngsi_tenant:
            store.check_tenant(city.ngsi_tenant)
        return sorted(t for t in store.entity_types(city.ngsi_tenant) if t in policy.public_types)
    except NgsiError:
        return []


def datasets(city) -> list[Dataset]:
    found = []
    seen: set[str] = set()
    for iri in entity_types(city):
        name = _short(iri)
        # two published types with one short name (e.g. a Smart Data Model and a device's type
        # of the core @context): the second gets a suffix from its IRI, identifiers stay unique
        ident = (
            name if name not in seen else f"{name}-{hashlib.sha256(iri.encode()).hexdigest()[:8]}"
        )
        seen.add(name)
        label = str(TYPE_LABELS.get(name, name))
        tenant = (
            _(" (NGSI-LD tenant “%(tenant)s”: send it in the NGSILD-Tenant header)")
            % {"tenant": city.ngsi_tenant}
            if city.ngsi_tenant
            else ""
        )
        found.append(
            Dataset(
                identifier=f"urbandata-{ident}",
                title=_("%(label)s in %(city)s") % {"label": label, "city": city.tr.name},
                description=_(
                    "Current data of every %(model)s entity of %(city)s, as NGSI-LD (FIWARE Smart "
                    "Data Models)%(tenant)s."
                )
                % {"model": name, "city": city.tr.name, "tenant": tenant},
                distributions=(
                    Distribution(
                        url=f"{NGSI_LD_PREFIX}v1/entities?{urlencode({'type': iri})}",
                        media_type="application/json",
                        title=_("NGSI-LD query: %(label)s") % {"label": label},
                        format="NGSI-LD",
                    ),
                    *extra_distributions(iri, label),
                ),
                licence=LICENCE,
                keywords=(name, label, "NGSI-LD", "Smart Data Models"),
                themes=THEMES.get(name, ()),
            )
        )
    return found


def extra_distributions(iri: str, label: str) -> tuple[Distribution, ...]:
    """A type's current entities as CSV (downloads.py) and GeoJSON, and its history (the NGSI-LD temporal API: the last
    HISTORY_LAST_N values of every attribute), both through the broker."""
    geojson = urlencode({"type": iri, "format": "geojson", "options": "keyValues"})
    temporal = urlencode({"type": iri, "lastN": HISTORY_LAST_N})
    return (
        Distribution(
            url=f"{reverse('api:urbandata-entities-csv')}?{urlencode({'type': iri})}",
            media_type="text/csv",
            title=_("Current values as CSV: %(label)s") % {"label": label},
            format="CSV",
        ),
        Distribution(
            url=f"{NGSI_LD_PREFIX}v1/entities?{geojson}",
            media_type="application/json",  # what the broker sends for format=geojson
            title=_("Current values as GeoJSON: %(label)s") % {"label": label},
            format="GeoJSON",
        ),
        Distribution(
            url=f"{NGSI_LD_PREFIX}v1/temporal/entities?{temporal}",
            media_type="application/json",
            title=_("History (NGSI-LD temporal API): %(label)s") % {"label": label},
            format="NGSI-LD",
        ),
    )
