"""Results are frozen once: several workers (threads, each with its own connection) publishing the
same due decision at the same moment all get the one stored result."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.decisions.test_results import BALLOTS, close, make_decision, vote

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

THREADS = 6


def test_racing_publications_freeze_one_result(city):
    from herzstadt.decisions import results
    from herzstadt.decisions.models import Decision

    decision = make_decision(city)
    vote(decision, BALLOTS * 3)  # 36 ballots: one batch of 20 in the log, 16 still in the pool
    close(decision)
    barrier = threading.Barrier(THREADS)
    got: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            mine = Decision.objects.get(pk=decision.pk)
            barrier.wait(timeout=60)
            data = results.publish(mine)
            with lock:
                got.append(data["computed_at"])
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == [], failures[:3]
    stored = Decision.objects.get(pk=decision.pk).results
    assert len(got) == THREADS and set(got) == {stored["computed_at"]}
    assert stored["ballots"] == 36 and stored["log"]["length"] == 36
