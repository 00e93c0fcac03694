"""One vote per person when the channels race: the same person's letter code online, the booth and a
postal voting card, tried at the same moment from many threads (each with its own database
connection) — exactly one wins. And two clerks finishing the same postal sheet at once count it once."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from herzstadt.accounts.models import Role
from herzstadt.decisions import eligibility, voting
from herzstadt.decisions.eligibility import NotEligible
from herzstadt.decisions.eligible import booth, census, postal
from herzstadt.decisions.models import Decision, Elector, PendingBallot, PostalEntry
from tests.decisions import eligible_factories
from tests.decisions.eligible_factories import make_decision

pytestmark = pytest.mark.django_db(transaction=True)
cast = eligible_factories.cast  # the fixture

THREADS = 24


def _race(actions: list[Callable[[], object]]) -> tuple[list[object], list[BaseException]]:
    barrier = threading.Barrier(len(actions))
    done: list[object] = []
    refused: list[BaseException] = []
    lock = threading.Lock()

    def run(action):
        try:
            barrier.wait(timeout=30)
            result = action()
            with lock:
                done.append(result)
        except (NotEligible, voting.VotingError, postal.PostalError) as error:
            with lock:
                refused.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(a,)) for a in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return done, refused


def test_one_person_many_channels_at_once_one_vote(city, cast):
    decision = make_decision(city)
    report = census.import_census(decision, "Kennung;Geburtsdatum\nA-1;1980-01-01\n", letters=True)
    code = report.letters[0].code
    decision = Decision.objects.get(pk=decision.pk)

    def online():
        return voting.cast(decision, eligibility.authorize_code(decision, code), {"1": 1}, "web")

    actions: list[Callable[[], object]] = []
    for i in range(THREADS):
        actions.append(
            (
                online,
                lambda: booth.cast_paper(decision, "A-1", {"2": 1}),
                lambda: postal.register_card(decision, code),
            )[i % 3]
        )
    done, refused = _race(actions)
    assert len(done) == 1, (done, refused)
    assert len(refused) == THREADS - 1
    assert {getattr(e, "code", "") for e in refused} == {"already_voted"}
    ballots = PendingBallot.objects.filter(decision=decision).count()
    cards = Decision.objects.get(pk=decision.pk).postal_cards
    assert ballots + cards == 1
    assert Elector.objects.get(decision=decision).has_voted


def test_two_clerks_finish_a_sheet_at_once(city, make_user, cast):
    decision = make_decision(city)
    census.import_census(decision, "Kennung;Geburtsdatum\nA-1;1980-01-01\nA-2;1980-01-01\n")
    postal.register_card(decision, "A-1")
    postal.register_card(decision, "A-2")
    first = make_user(Role.MODERATOR, city)
    postal.enter_sheet(decision, first, "5", {"1": 1})
    clerks = [make_user(Role.MODERATOR, city) for _ in range(8)]
    done, refused = _race(
        [lambda c=c: postal.enter_sheet(decision, c, "5", {"1": 1}) for c in clerks]
    )
    assert done == [postal.COUNTED]
    assert {e.code for e in refused} == {"already_counted"}  # type: ignore[attr-defined]
    assert PendingBallot.objects.filter(decision=decision, channel="postal").count() == 1
    assert PostalEntry.objects.filter(decision=decision, envelope="5").count() == 2
