"""1,000 ballots cast at the same moment (threads, each with its own database connection) give an
exact tally, no double vote, and concurrent second attempts of the same electors are all refused —
on SQLite and on PostgreSQL (run with HERZSTADT_TEST_DATABASE_URL)."""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest
from django.db import connection

from herzstadt.decisions import log, voting
from herzstadt.decisions.models import Ballot, Elector, PendingBallot
from tests.decisions.ballotkit import make_decision, make_electors

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BALLOTS = 1000
THREADS = 12  # connections at once: below the PostgreSQL pool of one process (16), with the test
DOUBLE = 100  # electors who try a second ballot at the same moment


def _run(tasks, work):
    """Run ``work(task)`` for every task on THREADS threads released together."""
    barrier = threading.Barrier(THREADS)
    results: list = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    chunks = [tasks[i::THREADS] for i in range(THREADS)]

    def worker(chunk):
        try:
            barrier.wait(timeout=60)
            for task in chunk:
                outcome = work(task)
                with lock:
                    results.append(outcome)
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == [], failures[:3]
    return results


def test_1000_simultaneous_ballots_are_counted_exactly_once(city, monkeypatch):
    monkeypatch.setenv("HERZSTADT_DECISIONS_MIX_BATCH", "20")
    decision = make_decision(city, max_choices=3)
    electors = make_electors(decision, BALLOTS)
    rng = random.Random(14)
    choices = [
        {str(n): 1 for n in rng.sample(["1", "2", "3", "4"], rng.randint(1, 3))} for _ in electors
    ]
    # every elector once, and DOUBLE of them a second time, all at once
    tasks = [(e, c) for e, c in zip(electors, choices, strict=True)]
    tasks += [(e, {"1": 1}) for e in electors[:DOUBLE]]
    rng.shuffle(tasks)

    def work(task):
        elector, choice = task
        try:
            return ("ok", elector.pk, voting.cast(decision, elector, choice, "web"), choice)
        except voting.AlreadyVoted:
            return ("refused", elector.pk, None, choice)

    results = _run(tasks, work)
    ok = [r for r in results if r[0] == "ok"]
    refused = [r for r in results if r[0] == "refused"]
    assert len(ok) == BALLOTS and len(refused) == DOUBLE
    assert len({r[1] for r in ok}) == BALLOTS  # nobody twice
    assert len({r[2] for r in ok}) == BALLOTS  # receipts unique
    assert Elector.objects.filter(decision=decision, has_voted=True).count() == BALLOTS
    expected: Counter[str] = Counter()
    for r in ok:  # whichever of a double voter's two ballots came first counts
        expected.update(r[3])

    decision.refresh_from_db()
    log.flush(decision)  # the remainder of the pool, as at the close
    assert not PendingBallot.objects.filter(decision=decision).exists()
    entries = [log.as_entry(b) for b in Ballot.objects.filter(decision=decision).order_by("seq")]
    assert len(entries) == BALLOTS
    assert [e["seq"] for e in entries] == list(range(1, BALLOTS + 1))
    decision.refresh_from_db()
    assert log.verify_chain(entries) == decision.log_head
    assert log.tally(entries) == dict(sorted(expected.items()))
    # the double-vote attempts that were refused left no trace; each receipt is in the log once
    assert {e["receipt_hash"] for e in entries} == {log.receipt_hash(r[2]) for r in ok}


def test_1000_second_attempts_race_the_first_and_exactly_one_wins(city, monkeypatch):
    monkeypatch.setenv("HERZSTADT_DECISIONS_MIX_BATCH", "50")
    decision = make_decision(city, kind="poll")
    electors = make_electors(decision, BALLOTS // 2)
    tasks = [(e, {"1": 1}) for e in electors] + [(e, {"2": 1}) for e in electors]
    random.Random(7).shuffle(tasks)

    def work(task):
        elector, choice = task
        try:
            voting.cast(decision, elector, choice, "code")
            return elector.pk
        except voting.AlreadyVoted:
            return None

    results = _run(tasks, work)
    winners = [r for r in results if r is not None]
    assert len(winners) == len(electors) == len(set(winners))
    log.flush(decision)
    assert Ballot.objects.filter(decision=decision).count() == len(electors)
