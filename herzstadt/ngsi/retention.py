"""The retention of attribute instances (temporal API): a loop that purges them periodically.

``python -m herzstadt.ngsi`` runs it in a thread of every worker process; in herzstadt it is the
background task ``ngsi-retention`` of the urbandata pillar (``herzstadt worker``). Purging is
idempotent, so several processes running it at once only repeat work; each tenant's rows are
deleted in chunks of short transactions (``storage.temporal.purge``).
"""

from __future__ import annotations

import logging
import threading

from .broker import Broker
from .storage.temporal import purge

log = logging.getLogger(__name__)


def purge_once(broker: Broker) -> int:
    """Delete the instances older than each tenant's retention; the number deleted."""
    return purge(broker.store, broker.config.temporal_retention_days)


def run_retention(broker: Broker, stop: threading.Event, interval: float | None = None) -> None:
    """Purge now and every ``interval`` seconds (``temporal_purge_interval``) until ``stop``."""
    every = interval if interval is not None else broker.config.temporal_purge_interval
    while True:
        try:
            n = purge_once(broker)
            if n:
                log.info("temporal retention: %d attribute instances deleted", n)
        except Exception:
            log.exception("temporal retention failed; next attempt in %.0f s", every)
        if stop.wait(max(every, 1.0)):
            return


def start_retention(broker: Broker) -> threading.Event:
    """Run ``run_retention`` in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(
        target=run_retention, args=(broker, stop), name="ngsi-retention", daemon=True
    ).start()
    return stop
