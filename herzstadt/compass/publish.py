"""Indicators as NGSI-LD ``KeyPerformanceIndicator`` entities (FIWARE Smart Data Model, schema
0.2.1, copied into ``sdm/``), written into the city's tenant of the in-process broker.

The entity id is ``urn:ngsi-ld:KeyPerformanceIndicator:<city>:<indicator>``; ``kpiValue`` carries
``observedAt`` (the end of the period), so the broker's temporal API keeps the indicator's history
(``/ngsi-ld/v1/temporal/entities/<id>``). The Smart Data Model's terms are sent inline as the
entity's @context (no network). Only public indicators are published; a hidden or deleted one is
removed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from functools import cache
from pathlib import Path
from typing import Any

from herzstadt.compass import formulas
from herzstadt.compass.models import Indicator

log = logging.getLogger("herzstadt.compass")

SDM_DIR = Path(__file__).resolve().parent / "sdm"
TYPE = "KeyPerformanceIndicator"
#: the expanded names (the Smart Data Model's @context)
TYPE_IRI = "https://smartdatamodels.org/dataModel.KeyPerformanceIndicator/KeyPerformanceIndicator"
KPI_VALUE_IRI = "https://smartdatamodels.org/dataModel.KeyPerformanceIndicator/kpiValue"
CORE_CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"
#: the traffic light as the model's ``currentStanding``
STANDING = {"green": "good", "amber": "fair", "red": "bad"}


@cache
def sdm_context() -> dict[str, Any]:
    data = json.loads((SDM_DIR / "context.jsonld").read_text(encoding="utf-8"))
    return dict(data["@context"])


def entity_id(indicator: Indicator) -> str:
    return f"urn:ngsi-ld:{TYPE}:{indicator.city.slug}:{indicator.slug}"


def frequency(minutes: int) -> str:
    """``calculationFrequency`` (the model's enumeration): the coarsest step not shorter than the
    schedule (every 15 minutes is at least hourly)."""
    for limit, name in ((60, "hourly"), (1440, "daily"), (10080, "weekly"), (43200, "monthly")):
        if minutes <= limit:
            return name
    return "yearly"


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _prop(value: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value, **extra}


def entity(indicator: Indicator, now: dt.datetime | None = None) -> dict[str, Any]:
    """The normalized NGSI-LD entity of ``indicator`` (without @context)."""
    now = now or dt.datetime.now(dt.UTC)
    out: dict[str, Any] = {
        "id": entity_id(indicator),
        "type": TYPE,
        "name": _prop(indicator.name),
        "category": _prop(["quantitative"]),
        "organization": _prop(indicator.city.name),
        "calculatedBy": _prop(indicator.city.name),
        "calculationMethod": _prop("automatic"),
        "calculationFrequency": _prop(frequency(indicator.schedule_minutes)),
        "calculationFormula": _prop(formulas.describe(indicator.formula)[:1000]),
        "updatedAt": _prop(_iso(now)),
        "dateNextCalculation": _prop(
            (now + dt.timedelta(minutes=indicator.schedule_minutes)).date().isoformat()
        ),
    }
    if indicator.description:
        out["description"] = _prop(indicator.description[:2000])
    try:
        types = formulas.entity_types(formulas.validate(indicator.formula))
    except Exception:
        types = {}
    aggregated = [
        {"entityType": name, "attrs": sorted(attrs)}
        for name, attrs in sorted(types.items())
        if attrs
    ]
    if aggregated:
        out["aggregatedData"] = _prop(aggregated)
    goals = [g.title for g in indicator.goals.all()]
    if goals:
        out["businessTarget"] = _prop("; ".join(goals)[:1000])
    if indicator.district_id:
        out["area"] = _prop(indicator.district.name)
    if indicator.last_value is not None and indicator.last_period_end is not None:
        out["kpiValue"] = _prop(
            indicator.last_value,
            observedAt=_iso(indicator.last_period_end),
            **({"unitText": indicator.unit} if indicator.unit else {}),
        )
        start = indicator.last_period_end - formulas.parse_duration(indicator.period)
        out["calculationPeriod"] = _prop(
            {"from": start.date().isoformat(), "to": indicator.last_period_end.date().isoformat()}
        )
        standing = STANDING.get(indicator.light())
        if standing:
            out["currentStanding"] = _prop(standing)
    return out


def key_values(normalized: dict[str, Any]) -> dict[str, Any]:
    """The key-values form (what the Smart Data Model's JSON schema describes)."""
    return {
        k: (v["value"] if isinstance(v, dict) and "value" in v else v)
        for k, v in normalized.items()
        if k != "@context"
    }


def _req(tenant: str, body: Any = None) -> Any:
    from herzstadt.ngsi.auth import system_principal
    from herzstadt.ngsi.service import Req
    from herzstadt.urbandata.broker import get_broker

    broker = get_broker()
    return Req(
        principal=system_principal(tenant, "compass"),
        tenant=tenant,
        ctx=broker.resolver.get(None),
        body=body,
        ld=isinstance(body, list) and bool(body) and isinstance(body[0], dict),
    )


def publish(indicator: Indicator, now: dt.datetime | None = None) -> bool:
    """Upsert the indicator's entity (public indicators) or remove it (hidden ones); whether the
    broker took it. Never raises: publication must not undo a computed value."""
    from herzstadt.ngsi.params import WriteOptions
    from herzstadt.ngsi.service import batch_delete, batch_upsert
    from herzstadt.urbandata.broker import get_broker

    tenant = indicator.city.ngsi_tenant
    try:
        if not indicator.is_public:
            batch_delete(get_broker(), _req(tenant, [entity_id(indicator)]))
            return True
        doc = {**entity(indicator, now), "@context": [CORE_CONTEXT, sdm_context()]}
        result = batch_upsert(get_broker(), _req(tenant, [doc]), WriteOptions())
    except Exception:
        log.exception("publishing indicator %s failed", indicator.slug)
        return False
    if result.status not in (201, 204):
        log.warning("the broker refused indicator %s: %s", indicator.slug, result.body)
        return False
    return True
