"""The compass's open data: one DCAT dataset per public indicator of a city, distributed as the
CSV and JSON exports of its values (served by the compass pages) and as the NGSI-LD
``KeyPerformanceIndicator`` entity with its history (the broker's temporal API)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.utils.translation import gettext as _

from herzstadt.compass.models import Indicator
from herzstadt.compass.publish import KPI_VALUE_IRI, TYPE_IRI, entity_id
from herzstadt.core.registry import Dataset, Distribution

#: Datenlizenz Deutschland – Namensnennung – 2.0 (as the urban data)
LICENCE = "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
NGSI_LD = "/ngsi-ld/v1/"
#: indicator exports (the compass pages serve them; German URLs)
EXPORT = "/kompass/indikatoren/{slug}.{ext}"


def kpi_type_public(city) -> bool:
    """Whether anyone may read the city's KeyPerformanceIndicator entities (the city lists the
    type among its open-data types under "API-Zugänge"); only then are the NGSI-LD
    distributions offered."""
    from herzstadt.urbandata.broker import get_verifier

    try:
        policy = get_verifier().tenant_policy(city.ngsi_tenant)
    except Exception:
        return False
    return bool(policy is not None and TYPE_IRI in (policy.public_types or ()))


def datasets(city) -> list[Dataset]:
    found = []
    ngsi = kpi_type_public(city)
    indicators = (
        Indicator.objects.filter(city=city, is_public=True)
        .select_related("district")
        .order_by("position", "name")
    )
    for indicator in indicators:
        unit = f" ({indicator.unit})" if indicator.unit else ""
        reference = (
            _(" Reference: %(reference)s.") % {"reference": indicator.reference}
            if indicator.reference
            else ""
        )
        found.append(
            Dataset(
                identifier=f"compass-{indicator.slug}",
                title=_("Indicator: %(name)s, %(city)s")
                % {"name": indicator.tr.name, "city": city.tr.name},
                description=(
                    _(
                        "Values of the indicator “%(name)s”%(unit)s of the values compass of %(city)s, "
                        "each with the share of expected observations present."
                    )
                    % {"name": indicator.tr.name, "unit": unit, "city": city.tr.name}
                    + reference
                ),
                distributions=(
                    Distribution(
                        url=EXPORT.format(slug=indicator.slug, ext="csv"),
                        media_type="text/csv",
                        title=_("Values as CSV"),
                        format="CSV",
                    ),
                    Distribution(
                        url=EXPORT.format(slug=indicator.slug, ext="json"),
                        media_type="application/json",
                        title=_("Values as JSON"),
                        format="JSON",
                    ),
                    *(_ngsi_distributions(indicator) if ngsi else ()),
                ),
                licence=LICENCE,
                keywords=(
                    "KeyPerformanceIndicator",
                    "Kompass",
                    *((indicator.reference,) if indicator.reference else ()),
                ),
                themes=("GOVE",),
                spatial=indicator.district.boundary if indicator.district_id else None,
                modified=indicator.last_computed_at,
            )
        )
    return found


def _ngsi_distributions(indicator: Indicator) -> tuple[Distribution, ...]:
    query = {"type": TYPE_IRI, "id": entity_id(indicator)}
    return (
        Distribution(
            url=f"{NGSI_LD}entities?{urlencode(query)}",
            media_type="application/json",
            title=_("NGSI-LD entity (KeyPerformanceIndicator)"),
            format="NGSI-LD",
        ),
        Distribution(
            url=f"{NGSI_LD}temporal/entities?{urlencode({**query, 'attrs': KPI_VALUE_IRI})}",
            media_type="application/json",
            title=_("History (NGSI-LD temporal API)"),
            format="NGSI-LD",
        ),
    )
