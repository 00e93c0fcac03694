"""Running the simulation: ticks, the demo cities, the simulator's device key and the background
task ``simulate``.

A tick publishes the values of every simulated entity at the tick's time. Ticks lie on a grid of
the interval (UTC), so that several worker processes agree on them: the background task claims each
tick of a city with an atomic ``cache.add`` (Redis or the database cache, shared by all processes),
so one worker writes it and the others skip it. The task does nothing unless ``HERZSTADT_SIMULATE``
is on (``herzstadt demo`` turns it on unless ``--no-simulate``; production leaves it off unless set).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from herzstadt.urbandata.simulation import district
from herzstadt.urbandata.simulation.publish import Sink

log = logging.getLogger("herzstadt.simulate")

DEFAULT_INTERVAL = 10.0
SIMULATOR_DEVICE_ID = "herzstadt-simulator"
SIMULATOR_DEVICE_NAME = "Demo: Simulator (MQTT)"
Entity = dict[str, Any]


def enabled() -> bool:
    """``HERZSTADT_SIMULATE`` is on (1, true, yes, on)."""
    return os.environ.get("HERZSTADT_SIMULATE", "").strip().lower() in ("1", "true", "yes", "on")


def interval_from_env() -> float:
    raw = os.environ.get("HERZSTADT_SIMULATE_INTERVAL", "").strip()
    try:
        value = float(raw) if raw else DEFAULT_INTERVAL
    except ValueError:
        log.warning(
            "HERZSTADT_SIMULATE_INTERVAL=%r is not a number; using %s s", raw, DEFAULT_INTERVAL
        )
        return DEFAULT_INTERVAL
    return value if math.isfinite(value) and value >= 1 else DEFAULT_INTERVAL


@dataclass
class Clock:
    """Simulated time: the wall clock, or a time-lapse (``speed`` simulated seconds a second)
    starting now."""

    speed: float = 1.0
    now: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    origin: dt.datetime | None = None

    def __call__(self) -> dt.datetime:
        real = self.now()
        if self.speed == 1.0:
            return real
        if self.origin is None:
            self.origin = real
        return self.origin + (real - self.origin) * self.speed


def tick_time(t: dt.datetime, interval: float) -> dt.datetime:
    """``t`` rounded down to the interval's grid (whole milliseconds)."""
    ms = int(interval * 1000)
    return dt.datetime.fromtimestamp(int(t.timestamp() * 1000) // ms * ms / 1000, dt.UTC)


def run(
    sink: Sink,
    entities: Sequence[Entity],
    interval: float = DEFAULT_INTERVAL,
    stop: threading.Event | None = None,
    once: bool = False,
    clock: Callable[[], dt.datetime] | None = None,
    seed: int = district.DEFAULT_SEED,
    on_tick: Callable[[dt.datetime, int], None] | None = None,
) -> int:
    """Publish the current values every ``interval`` seconds (of real time) until ``stop`` is set
    (or once); returns the number of ticks. A failing publish is logged and retried next tick."""
    stop = stop or threading.Event()
    clock = clock or Clock()
    context = district.Context(entities)
    ticks = 0
    while True:
        at = clock()
        fragments = district.fragments(entities, at, seed, context)
        try:
            written = sink.publish(fragments)
        except Exception as e:
            if once:
                raise
            log.warning("simulation tick at %s not published: %s", district.iso(at), e)
        else:
            ticks += 1
            if on_tick is not None:
                on_tick(at, written)
        if once or stop.wait(interval):
            return ticks


# --------------------------------------------------------------------------- the demo's cities
def demo_cities() -> list[tuple[Any, Path]]:
    """The demo cities in the database that have a snapshot, with its file."""
    from herzstadt.core.models import City
    from herzstadt.urbandata.demo import DEMO_FILES

    return [(c, DEMO_FILES[c.slug]) for c in City.objects.filter(slug__in=list(DEMO_FILES))]


def simulator_device_key(city: Any) -> str:
    """A device key for the simulator in ``city`` (MQTT ingestion checks it): the credential
    ``herzstadt-simulator`` of the city's simulated entity types, re-keyed on every call (keys are
    stored hashed, so the previous key stops working)."""
    from herzstadt.urbandata.access import new_key
    from herzstadt.urbandata.broker import get_broker
    from herzstadt.urbandata.models import DeviceCredential

    types = sorted(
        t
        for t in get_broker().store.entity_types(city.ngsi_tenant)
        if t.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1] in district.MODELS
    )
    device, _created = DeviceCredential.objects.get_or_create(
        city=city,
        device_id=SIMULATOR_DEVICE_ID,
        defaults={
            "name": SIMULATOR_DEVICE_NAME,
            "description": "The Pfaff-Areal simulation ('herzstadt simulate --via mqtt').",
            "entity_types": types,
        },
    )
    device.entity_types, device.revoked_at, device.expires_at = types, None, None
    device.save()
    return new_key(device)


# --------------------------------------------------------------------------- the background task
def _claim(city_pk: int, at: dt.datetime, interval: float) -> bool:
    """Whether this process writes the tick ``at`` of the city (the first to ask does)."""
    from django.core.cache import cache

    key = f"herzstadt:simulate:{city_pk}:{int(at.timestamp() * 1000)}"
    return bool(cache.add(key, os.getpid(), timeout=max(60, int(interval * 3))))


def task(stop: threading.Event) -> None:
    """The background task ``simulate``: nothing unless ``HERZSTADT_SIMULATE`` is on; then a tick
    for every demo city every ``HERZSTADT_SIMULATE_INTERVAL`` seconds (claimed per tick)."""
    if not enabled():
        stop.wait()
        return
    from django.db import close_old_connections

    from herzstadt.urbandata.simulation.publish import InProcessSink

    interval = interval_from_env()
    snapshots: dict[Path, list[Entity]] = {}
    log.info("simulating the demo cities every %s s", interval)
    while not stop.is_set():
        close_old_connections()
        at = tick_time(dt.datetime.now(dt.UTC), interval)
        for city, path in demo_cities():
            if path not in snapshots:
                snapshots[path] = district.load_snapshot(path)
            if not _claim(city.pk, at, interval):
                continue
            entities = snapshots[path]
            try:
                InProcessSink(city.ngsi_tenant).publish(district.fragments(entities, at))
            except Exception:
                log.exception("simulation tick of %s failed", city.slug)
        close_old_connections()
        wait = interval - (time.time() % interval)
        stop.wait(wait)


def backfill_demo(now: dt.datetime | None = None, days: int = 30) -> str:
    """Backfill every demo city's history (idempotent); returns a summary line."""
    from herzstadt.urbandata.broker import get_broker
    from herzstadt.urbandata.simulation.backfill import backfill

    now = now or dt.datetime.now(dt.UTC)
    lines = []
    for city, path in demo_cities():
        report = backfill(get_broker(), city.ngsi_tenant, district.load_snapshot(path), now, days)
        lines.append(f"{city.name}: {report.summary()}")
    return "; ".join(lines) or "no demo city"
