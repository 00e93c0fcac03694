"""The history of a measured quantity for the charts: the last 24 hours (hourly means) and the last
30 days (daily mean, minimum and maximum).

The values come from the broker's temporal API in process (``aggrMethods=avg,min,max`` with
``aggrPeriodDuration`` PT1H or P1D, ``timerel=between``): aggregated by the database, so a chart
costs the same however many instances are stored. :data:`reader` is the function the pages call;
tests replace it. Until the broker has a temporal API (the route answers 501) it answers None ("no
history yet").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from django.conf import settings

from herzstadt.core.ttlcache import TTLCache
from herzstadt.urbandata.charts import Point

#: (tenant, entity ids, attribute IRI, start, end, daily) → points (the mean over the entities), or
#: None when the broker keeps no history
Reader = Callable[[str, Sequence[str], str, dt.datetime, dt.datetime, bool], list[Point] | None]

#: per worker, a minute: the same chart for every visitor within that time
history_cache = TTLCache(ttl=60.0, max_entries=1024)


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def temporal_reader(
    tenant: str,
    entity_ids: Sequence[str],
    attr: str,
    start: dt.datetime,
    end: dt.datetime,
    daily: bool,
) -> list[Point] | None:
    """The broker's temporal API in process, through its route table exactly as
    ``GET /ngsi-ld/v1/temporal/entities?id=…&attrs=…&timerel=between&timeAt=…&endTimeAt=…
    &options=aggregatedValues&aggrMethods=avg,min,max&aggrPeriodDuration=PT1H|P1D`` would be
    served (ETSI GS CIM 009, the aggregated temporal representation). None: the broker keeps no
    history (the route answers 501 until the temporal API is merged) or refuses the query."""
    if not entity_ids:
        return None
    from herzstadt.ngsi.auth import system_principal
    from herzstadt.ngsi.errors import NgsiError
    from herzstadt.ngsi.routes import ROUTER
    from herzstadt.ngsi.service import Req
    from herzstadt.urbandata.broker import get_broker

    found = ROUTER.match("temporal/entities")
    op = found[0].methods.get("GET") if found else None
    if op is None:
        return None
    broker = get_broker()
    raw = {
        "id": ",".join(entity_ids),
        "attrs": attr,
        "timerel": "between",
        "timeAt": _iso(start),
        "endTimeAt": _iso(end),
        "options": "aggregatedValues",
        "aggrMethods": "avg,min,max",
        "aggrPeriodDuration": "P1D" if daily else "PT1H",
        "limit": str(min(len(entity_ids), broker.config.max_limit)),
    }
    req = Req(
        principal=system_principal(tenant, "history"),
        tenant=tenant,
        ctx=broker.resolver.get(None),
    )
    try:
        params = op.parse(raw, broker.config) if op.parse is not None else None
        result = op.handler(broker, req, params)
    except NgsiError:
        return None
    return points_from_aggregated(result.body, attr)


def _when(text: object) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def points_from_aggregated(body: object, attr: str) -> list[Point]:
    """Points from the aggregated temporal representation of entities (a list, or one entity):
    per period, the mean of the entities' ``avg``, the least ``min`` and the greatest ``max``
    (each method a list of ``[value, startAt, endAt]``; a multi-attribute's instances are merged)."""
    entities = body if isinstance(body, list) else [body]
    periods: dict[dt.datetime, dict[str, list[float]]] = {}
    for entity in entities:
        if not isinstance(entity, dict):
            continue
        value = entity.get(attr)
        instances = value if isinstance(value, list) else [value]
        for instance in instances:
            if not isinstance(instance, dict):
                continue
            for method in ("avg", "min", "max"):
                for item in instance.get(method) or ():
                    if not isinstance(item, list) or len(item) < 2:
                        continue
                    number, when = item[0], _when(item[1])
                    if when is None or isinstance(number, bool):
                        continue
                    if not isinstance(number, (int, float)):
                        continue
                    periods.setdefault(when, {}).setdefault(method, []).append(float(number))
    points = []
    for when in sorted(periods):
        found = periods[when]
        if not found.get("avg"):
            continue
        avg = sum(found["avg"]) / len(found["avg"])
        points.append(
            Point(
                when,
                avg,
                min(found["min"]) if found.get("min") else None,
                max(found["max"]) if found.get("max") else None,
                sources=len(found["avg"]),
            )
        )
    return points


reader: Reader = temporal_reader


def history(
    tenant: str,
    entity_ids: Sequence[str],
    attr: str,
    end: dt.datetime,
    daily: bool,
) -> tuple[dt.datetime, list[Point] | None]:
    """The start of the period and its points (cached per worker for a minute)."""
    if daily:
        end = end.replace(minute=0, second=0, microsecond=0)
        start = end.replace(hour=0) - dt.timedelta(days=29)
    else:
        # whole hours, so that the hourly means are the clock's hours
        start = end.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=23)
        end = end.replace(second=0, microsecond=0)
    key = (settings.HERZSTADT_NGSI_DATABASE, tenant, tuple(entity_ids), attr, start, daily, reader)
    points = history_cache.get_or_set(
        key, lambda: reader(tenant, entity_ids, attr, start, end, daily)
    )
    return start, points
