"""The history of a measured quantity for the charts: the last 24 hours (hourly means) and the last
30 days (daily mean, minimum and maximum).

The values come from the broker's temporal API in process (``aggrMethods=avg,min,max`` with
``aggrPeriodDuration`` PT1H or P1D, ``timerel=between``): aggregated by the database, so a chart
costs the same however many instances are stored. :data:`reader` is the function the pages call;
tests replace it. Until the broker has a temporal API it answers None ("no history yet").
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


def temporal_reader(
    tenant: str,
    entity_ids: Sequence[str],
    attr: str,
    start: dt.datetime,
    end: dt.datetime,
    daily: bool,
) -> list[Point] | None:
    """The broker's temporal API, in process. None: this broker keeps no history yet (the temporal
    API is built on its own branch; this reader calls it once that is merged)."""
    return None


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
