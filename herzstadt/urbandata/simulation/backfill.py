"""Thirty days of history for the demo: the simulation's values every 15 minutes, written through
the temporal API (``POST /temporal/entities/{entityId}/attrs``: per attribute an array of instances,
each with ``observedAt``), in-process through the broker's route table.

Idempotent: before writing an entity, :func:`has_history` asks the temporal API whether the entity
already has an instance of its first attribute in the first hour of the window; if so (an earlier
demo start wrote it), the entity is skipped. The times lie on the UTC quarter-hour grid, so two
starts within the same window agree on them.

The broker calls go through :func:`temporal_call` only: it finds the use case in the broker's
route table (as the HTTP layer does) and calls it with the parsed parameters, so the backfill uses
whatever the temporal API does, and a broker without one (501) makes the backfill report that it
was skipped instead of failing the demo.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from herzstadt.urbandata.simulation import district

Entity = dict[str, Any]
STEP = dt.timedelta(minutes=15)


@dataclass
class BackfillReport:
    entities: int = 0  # written
    skipped: int = 0  # had history already
    instances: int = 0
    seconds: float = 0.0
    unavailable: str = ""  # why nothing could be written (the broker has no temporal API)

    def summary(self) -> str:
        if self.unavailable:
            return f"history not backfilled: {self.unavailable}"
        return (
            f"{self.instances} attribute instances of {self.entities} entities backfilled "
            f"in {self.seconds:.1f} s ({self.skipped} had history already)"
        )


class TemporalUnavailable(RuntimeError):
    pass


def temporal_call(
    broker: Any,
    tenant: str,
    method: str,
    path: str,
    params: dict[str, str] | None = None,
    body: Entity | None = None,
    context: Any = None,
) -> Any:
    """Call the broker's use case of ``method`` ``path`` (relative to ``/ngsi-ld/v1/``) in-process,
    as the system principal of ``tenant``, with the @context ``context`` (or the body's), as the
    HTTP layer would; returns its :class:`~herzstadt.ngsi.broker.Result`. Errors
    (:class:`~herzstadt.ngsi.errors.NgsiError`) propagate, except 501 (not implemented), which
    becomes :class:`TemporalUnavailable`."""
    from herzstadt.ngsi.auth import system_principal
    from herzstadt.ngsi.errors import NgsiError
    from herzstadt.ngsi.routes import ROUTER
    from herzstadt.ngsi.service import Req

    found = ROUTER.match(path)
    op = found[0].methods.get(method) if found else None
    if found is None or op is None:
        raise TemporalUnavailable(f"the broker has no route {method} {path}")
    if body is not None and "@context" in body:
        body = dict(body)
        context = body.pop("@context")
    req = Req(
        principal=system_principal(tenant, "simulator-backfill"),
        tenant=tenant,
        body=body,
        raw_context=context,
        ctx=broker.resolver.get(context, tenant),
    )
    try:
        parsed = op.parse(params or {}, broker.config) if op.parse is not None else None
        return op.handler(broker, req, parsed, *found[1])
    except NgsiError as e:
        if e.status == 501:
            raise TemporalUnavailable("the broker has no temporal API yet") from None
        raise


def _entity_path(entity_id: str) -> str:
    return f"temporal/entities/{quote(entity_id, safe=':')}"


def has_history(broker: Any, tenant: str, fragment: Entity, start: dt.datetime) -> bool:
    """Whether the entity has an instance of the fragment's first attribute within the hour after
    ``start`` (an earlier backfill of this window wrote it)."""
    from herzstadt.ngsi.errors import NgsiError

    attrs = [k for k, v in fragment.items() if k != "@context" and isinstance(v, list)]
    if not attrs:
        return True
    params = {
        "attrs": attrs[0],
        "timerel": "between",
        "timeAt": district.iso(start),
        "endTimeAt": district.iso(start + dt.timedelta(hours=1)),
        "lastN": "1",
    }
    try:
        result = temporal_call(
            broker,
            tenant,
            "GET",
            _entity_path(fragment["id"]),
            params,
            context=fragment.get("@context"),
        )
    except NgsiError as e:
        if e.status == 404:
            return False
        raise
    body = result.body if isinstance(result.body, dict) else {}
    return any(isinstance(v, list) and v for k, v in body.items() if k not in ("id", "type"))


def append(broker: Any, tenant: str, fragment: Entity) -> int:
    """Append the fragment's instances (``POST /temporal/entities/{id}/attrs``); returns how many."""
    body = {k: v for k, v in fragment.items() if k not in ("id", "type")}
    result = temporal_call(
        broker, tenant, "POST", _entity_path(fragment["id"]) + "/attrs", body=body
    )
    if result.status not in (201, 204):
        raise RuntimeError(
            f"the temporal API refused the history of {fragment['id']}: {result.body}"
        )
    return sum(len(v) for k, v in body.items() if k != "@context" and isinstance(v, list))


def backfill(
    broker: Any,
    tenant: str,
    entities: Sequence[Entity],
    now: dt.datetime,
    days: int = 30,
    seed: int = district.DEFAULT_SEED,
) -> BackfillReport:
    """Write ``days`` of history at 15-minute resolution for every simulated entity that has none."""
    started = time.perf_counter()
    report = BackfillReport()
    times = district.quarter_hours(now, days, STEP)
    try:
        # probe before generating: a second start costs one query per entity
        first = district.temporal_fragments(entities, times[:1], seed)
        todo = {f["id"] for f in first if not has_history(broker, tenant, f, times[0])}
        report.skipped = len(first) - len(todo)
        if todo:
            # one entity at a time: the history of one entity in memory, not of all
            for eid in [e["id"] for e in entities if e.get("id") in todo]:
                for fragment in district.temporal_fragments(entities, times, seed, only={eid}):
                    report.instances += append(broker, tenant, fragment)
                    report.entities += 1
    except TemporalUnavailable as e:
        report.unavailable = str(e)
    report.seconds = time.perf_counter() - started
    return report
