"""The notifier: the dispatcher and the deliverer in one loop, ``run(stop_event)``.

It runs as a thread of the standalone broker (``python -m herzstadt.ngsi``) and as the
background task ``ngsi-notify`` of ``herzstadt worker``. Several may run at once (processes,
machines): the dispatcher's cursor is locked per round, notification rows are claimed with
leases. The wake-up is a short poll (``notify_poll``, 10 ms): one indexed ``max(seq)`` read and
one ``LIMIT 1`` read of the outbox per idle round.
"""

from __future__ import annotations

import logging
import threading
import time

from ..broker import Broker
from ..config import NgsiConfig
from . import schema
from .deliver import Deliverer
from .dispatch import Dispatcher

log = logging.getLogger(__name__)

#: seconds without work after which the notifier polls every IDLE_POLL seconds instead
IDLE_AFTER = 2.0
IDLE_POLL = 0.05


class Notifier:
    def __init__(self, broker: Broker | None = None, *, config: NgsiConfig | None = None):
        self._own = broker is None
        self.broker = broker or Broker(config or NgsiConfig.from_env())
        schema.ensure(self.broker.store)
        self.dispatcher = Dispatcher(self.broker)
        self.deliverer = Deliverer(self.broker)
        self.poll = max(0.001, self.broker.config.notify_poll)

    def step(self) -> int:
        """One round of everything; returns how much was done (0: idle)."""
        n = self.dispatcher.round()
        n += self.deliverer.flush()
        n += self.deliverer.pump()
        return n

    def _idle(self, idle_for: float = 0.0) -> None:
        """Wait one poll interval, or less when a delivery ends: its outcome (timesSent, …) is
        written at once."""
        # A short sleep, never a blocking ``results.get(timeout=…)``: in a whole ETSI run (Python
        # 3.12.1, a granian worker) that timed get once never returned and the notifier stopped for
        # good while deliveries were in flight — a sleep and a look at the queue cannot hang.
        d = self.deliverer
        # after IDLE_AFTER seconds without work the poll slows to IDLE_POLL: an idle notifier
        # costs forty queries a second instead of two hundred, and the first change after a quiet
        # spell waits at most IDLE_POLL longer
        poll = self.poll if idle_for < IDLE_AFTER else max(self.poll, IDLE_POLL)
        step = poll / 5 if d.in_flight > 0 else poll
        deadline = time.monotonic() + poll
        while True:
            time.sleep(step)
            if (d.in_flight > 0 and not d.results.empty()) or time.monotonic() >= deadline:
                return

    def run(self, stop: threading.Event) -> None:
        pause = 0.0
        idle_since = time.monotonic()
        try:
            while not stop.is_set():
                try:
                    busy = self.step()
                    pause = 0.0
                    if busy:
                        idle_since = time.monotonic()
                except Exception:
                    log.exception("notifier round failed")
                    pause = min(5.0, pause * 2 or 0.1)
                    stop.wait(pause)
                    continue
                if not busy:
                    self._idle(time.monotonic() - idle_since)
        finally:
            self.deliverer.close()
            stop.wait(0.05)
            try:
                self.deliverer.flush()
            except Exception:
                log.exception("notifier: last outcomes not written (they are sent again)")
            if self._own:
                self.broker.close()


def start_thread(config: NgsiConfig | None = None) -> tuple[threading.Thread, threading.Event]:
    """Run a notifier in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()

    def main() -> None:
        while not stop.is_set():
            try:
                Notifier(config=config).run(stop)
            except Exception:
                log.exception("notifier stopped; restarting")
                stop.wait(2.0)

    t = threading.Thread(target=main, name="ngsi-notifier", daemon=True)
    t.start()
    return t, stop
