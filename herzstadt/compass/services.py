"""The compass's use cases: computing indicators (on demand, on a schedule by the worker task
``compass-indicators``, or with ``herzstadt manage compute_indicators``) and keeping their history.

A value covers the indicator's ``period`` up to the newest point of its schedule's grid at or
before now (UTC; e.g. every 15 minutes, the last 24 hours up to 10:45): a rolling window, so the
compass moves with the data. Values are upserted per (indicator, period); values older than
:data:`KEEP_DENSE` are thinned to one a day (the one ending at midnight UTC), so the history grows
by a row per indicator and day. Several workers may run: each due indicator is claimed by a
conditional UPDATE of its ``last_computed_at``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

from django.db import close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone

from herzstadt.compass import formulas
from herzstadt.compass.models import Indicator, IndicatorValue

log = logging.getLogger("herzstadt.compass")

#: values newer than this keep every point of the schedule; older ones one a day
KEEP_DENSE = dt.timedelta(days=7)
#: how often the worker looks for due indicators (seconds)
POLL = 30.0
#: at most this many indicators per round (a round is quick; the next takes the rest)
BATCH = 50


def period_end(indicator: Indicator, now: dt.datetime) -> dt.datetime:
    """The newest point of the indicator's schedule grid (UTC) at or before ``now``."""
    step = max(1, int(indicator.schedule_minutes)) * 60
    seconds = int(now.timestamp()) // step * step
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def source_for(indicator: Indicator) -> Any:
    from herzstadt.compass.sources import BrokerSource

    return BrokerSource(indicator.city, indicator.district)


def compute_period(
    indicator: Indicator, start: dt.datetime, end: dt.datetime, source: Any = None
) -> formulas.Result:
    """The indicator's value over ``[start, end)`` without storing it (e.g. before and after a
    measure's start)."""
    return formulas.compute(
        indicator.formula, start, end, source if source is not None else source_for(indicator)
    )


def compute_indicator(
    indicator: Indicator,
    *,
    now: dt.datetime | None = None,
    source: Any = None,
    publish: bool = True,
) -> IndicatorValue:
    """Compute ``indicator`` for its newest complete period (ending at or before ``now``), store the
    value (upsert), update ``indicator.last_*`` and publish the KeyPerformanceIndicator entity.

    A formula that cannot be computed (invalid, or the broker refuses the query) stores no value:
    ``last_error`` says why and the IndicatorValue returned is unsaved (``pk`` None)."""
    now = now or timezone.now()
    end = period_end(indicator, now)
    try:
        start = end - formulas.parse_duration(indicator.period)
        result = compute_period(indicator, start, end, source)
    except Exception as e:  # a broken formula must not stop the others
        message = (e.messages[0] if hasattr(e, "messages") else str(e)) or type(e).__name__
        Indicator.objects.filter(pk=indicator.pk).update(
            last_error=message[:300], last_computed_at=now
        )
        indicator.last_error, indicator.last_computed_at = message[:300], now
        log.warning("indicator %s not computed: %s", indicator.slug, message)
        return IndicatorValue(
            city_id=indicator.city_id,
            indicator=indicator,
            period_start=end,
            period_end=end,
            computed_at=now,
        )
    with transaction.atomic():
        value, _created = IndicatorValue.objects.update_or_create(
            indicator=indicator,
            period_start=start,
            period_end=end,
            defaults={
                "city_id": indicator.city_id,
                "value": result.value,
                "coverage": round(result.coverage, 4),
                "computed_at": now,
                "details": _json_safe(result.details),
            },
        )
        newest = IndicatorValue.objects.filter(indicator=indicator).order_by("-period_end").first()
        fields = {
            "last_value": newest.value if newest else None,
            "last_coverage": newest.coverage if newest else None,
            "last_period_end": newest.period_end if newest else None,
            "last_computed_at": now,
            "last_error": "",
        }
        Indicator.objects.filter(pk=indicator.pk).update(**fields)
        for name, v in fields.items():
            setattr(indicator, name, v)
        thin(indicator, now)
    if publish:
        from herzstadt.compass.publish import publish as publish_entity

        publish_entity(indicator, now)
    return value


def _json_safe(details: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in details.items():
        if isinstance(v, float) and v != v:  # NaN
            v = None
        out[str(k)] = v
    return out


def thin(indicator: Indicator, now: dt.datetime) -> int:
    """Delete the indicator's values older than KEEP_DENSE except those ending at midnight UTC."""
    old = IndicatorValue.objects.filter(indicator=indicator, period_end__lt=now - KEEP_DENSE)
    keep = Q(period_end__hour=0, period_end__minute=0)
    with timezone.override(dt.UTC):
        deleted, _ = old.exclude(keep).delete()
    return deleted


def due(now: dt.datetime | None = None) -> list[Indicator]:
    """Indicators whose next computation is due (never computed, or their schedule has passed)."""
    now = now or timezone.now()
    found = []
    rows = Indicator.objects.exclude(formula={}).values_list(
        "pk", "last_computed_at", "schedule_minutes"
    )
    for pk, last, minutes in rows:
        if last is None or last + dt.timedelta(minutes=max(1, minutes)) <= now:
            found.append((last or dt.datetime.min.replace(tzinfo=dt.UTC), pk, last))
    found.sort()
    claimed = []
    for _when, pk, last in found[:BATCH]:
        # the claim: of several workers only the one whose UPDATE matches computes it
        if Indicator.objects.filter(pk=pk, last_computed_at=last).update(last_computed_at=now):
            claimed.append(pk)
    return list(
        Indicator.objects.filter(pk__in=claimed).select_related("city", "district").order_by("pk")
    )


def compute_due(now: dt.datetime | None = None) -> int:
    """One round of the worker: claim and compute the due indicators; returns how many."""
    now = now or timezone.now()
    indicators = due(now)
    for indicator in indicators:
        try:
            compute_indicator(indicator, now=now)
        except Exception:
            log.exception("indicator %s failed", indicator.slug)
    return len(indicators)


def compute_city(city: Any, now: dt.datetime | None = None) -> int:
    """Compute every indicator of ``city`` now (demo load, the management command)."""
    indicators = Indicator.objects.filter(city=city).select_related("city", "district")
    n = 0
    for indicator in indicators:
        compute_indicator(indicator, now=now)
        n += 1
    return n


def run(stop: threading.Event) -> None:
    """The worker task ``compass-indicators``."""
    while not stop.is_set():
        close_old_connections()
        try:
            compute_due()
        except Exception:
            log.exception("compass-indicators round failed")
        finally:
            close_old_connections()
        stop.wait(POLL)
