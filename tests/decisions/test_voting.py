"""voting.cast: the rules of casting a ballot, the receipt, and the mixing pool."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from herzstadt.decisions import log, voting
from herzstadt.decisions.models import Ballot, Elector, PendingBallot
from tests.decisions.ballotkit import HOUR, make_decision, make_electors

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def big_batch(monkeypatch):
    monkeypatch.setenv("HERZSTADT_DECISIONS_MIX_BATCH", "1000")


def test_a_ballot_goes_to_the_pool_with_the_hash_of_its_receipt_only(city):
    decision = make_decision(city)
    [elector] = make_electors(decision, 1)
    receipt = voting.cast(decision, elector, {"1": 1, 3: 1}, "web")
    assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4}-){6}[0-9A-HJKMNP-TV-Z]{4}", receipt)
    [pending] = PendingBallot.objects.all()
    assert pending.choice == {"1": 1, "3": 1}
    assert pending.channel == "web"
    assert pending.receipt_hash == log.receipt_hash(receipt)
    assert receipt not in str(list(PendingBallot.objects.values()))
    assert Elector.objects.get(pk=elector.pk).has_voted
    # typed sloppily, the receipt still finds its ballot
    assert log.receipt_hash(receipt.lower().replace("-", " ")) == pending.receipt_hash


def test_receipts_differ_and_carry_140_bits():
    receipts = {voting.new_receipt() for _ in range(200)}
    assert len(receipts) == 200
    assert len(voting.RECEIPT_ALPHABET) == 32 and voting.RECEIPT_LENGTH * 5 >= 128


def test_a_second_ballot_of_the_same_elector_is_refused(city):
    decision = make_decision(city)
    [elector] = make_electors(decision, 1)
    voting.cast(decision, elector, {"1": 1}, "web")
    stale = Elector.objects.get(pk=elector.pk)
    stale.has_voted = False  # a copy read before the first vote: the update is conditional
    with pytest.raises(voting.AlreadyVoted):
        voting.cast(decision, stale, {"2": 1}, "booth")
    assert PendingBallot.objects.count() == 1


@pytest.mark.parametrize(
    ("opens", "closes", "code"),
    [(HOUR, 2 * HOUR, "not_open"), (-2 * HOUR, -HOUR, "closed")],
)
def test_no_ballot_outside_the_voting_time(city, opens, closes, code):
    decision = make_decision(city, opens=opens, closes=closes, results=3 * HOUR)
    [elector] = make_electors(decision, 1)
    with pytest.raises(voting.VotingError) as err:
        voting.cast(decision, elector, {"1": 1}, "web")
    assert err.value.code == code
    assert not Elector.objects.get(pk=elector.pk).has_voted
    assert not PendingBallot.objects.exists()


@pytest.mark.parametrize("channel", ["web", "code", "booth", "postal"])
def test_a_closed_channel_takes_no_ballot(city, channel):
    flag = voting.CHANNELS[channel][0]
    decision = make_decision(city, **{flag: False})
    [elector] = make_electors(decision, 1)
    with pytest.raises(voting.VotingError) as err:
        voting.cast(decision, None if channel == "postal" else elector, {"1": 1}, channel)
    assert err.value.code == "channel_closed"
    with pytest.raises(voting.VotingError):
        voting.cast(decision, elector, {"1": 1}, "fax")


def test_only_a_postal_sheet_comes_without_an_elector(city):
    decision = make_decision(city)
    with pytest.raises(voting.VotingError) as err:
        voting.cast(decision, None, {"1": 1}, "web")
    assert err.value.code == "no_elector"
    receipt = voting.cast(decision, None, {"1": 1}, "postal")
    assert PendingBallot.objects.get().channel == "postal" and receipt


def test_an_elector_of_another_decision_is_refused(city):
    one, other = make_decision(city), make_decision(city)
    [elector] = make_electors(other, 1)
    with pytest.raises(voting.VotingError) as err:
        voting.cast(one, elector, {"1": 1}, "web")
    assert err.value.code == "wrong_elector"


@pytest.mark.parametrize(
    ("style", "choice", "code"),
    [
        ("approval", {}, "empty"),
        ("approval", {"1": 0}, "empty"),
        ("approval", {"1": 1, "2": 1, "3": 1, "4": 1}, "too_many"),
        ("approval", {"5": 1}, "unknown"),  # not feasible: not on the ballot
        ("approval", {"99": 1}, "unknown"),
        ("approval", {"1": 2}, "bad_points"),
        ("approval", {"1": -1}, "bad_points"),
        ("approval", {"1": "x"}, "bad_points"),
        ("knapsack", {"1": 1, "2": 1, "4": 1}, "over_budget"),  # 40,000 > 30,000
        ("points", {"1": 6, "2": 5}, "too_many_points"),
    ],
)
def test_a_ballot_that_breaks_its_style_is_refused(city, style, choice, code):
    decision = make_decision(city, style=style)
    [elector] = make_electors(decision, 1)
    with pytest.raises(voting.VotingError) as err:
        voting.cast(decision, elector, choice, "web")
    assert err.value.code == code
    assert not Elector.objects.get(pk=elector.pk).has_voted


@pytest.mark.parametrize(
    ("style", "choice", "stored"),
    [
        ("approval", {"1": 1, "2": 1, "3": 1}, {"1": 1, "2": 1, "3": 1}),
        ("knapsack", {"1": 1, "4": 1}, {"1": 1, "4": 1}),  # 28,000 ≤ 30,000
        ("points", {"1": 7, "2": 3, "3": 0}, {"1": 7, "2": 3}),
    ],
)
def test_a_valid_ballot_of_each_style_is_taken(city, style, choice, stored):
    decision = make_decision(city, style=style)
    [elector] = make_electors(decision, 1)
    voting.cast(decision, elector, choice, "web")
    assert PendingBallot.objects.get().choice == stored


def test_a_poll_takes_exactly_one_option(city):
    decision = make_decision(city, kind="poll")
    a, b = make_electors(decision, 2)
    with pytest.raises(voting.VotingError) as err:
        voting.cast(decision, a, {"1": 1, "2": 1}, "web")
    assert err.value.code == "one_option"
    voting.cast(decision, b, {"2": 1}, "code")
    assert PendingBallot.objects.get().channel == "web"  # the log keeps only the coarse kind


def test_the_pool_is_appended_when_it_is_full(city, monkeypatch):
    monkeypatch.setenv("HERZSTADT_DECISIONS_MIX_BATCH", "5")
    decision = make_decision(city)
    electors = make_electors(decision, 7)
    for e in electors[:4]:
        voting.cast(decision, e, {"1": 1}, "web")
    assert PendingBallot.objects.count() == 4 and not Ballot.objects.exists()
    voting.cast(decision, electors[4], {"2": 1}, "web")
    assert PendingBallot.objects.count() == 0 and Ballot.objects.count() == 5
    voting.cast(decision, electors[5], {"2": 1}, "web")
    assert PendingBallot.objects.count() == 1
    decision.refresh_from_db()
    assert decision.log_length == 5
    assert decision.log_head == Ballot.objects.get(seq=5).entry_hash


def test_after_the_close_the_pool_is_flushed_on_read(city):
    decision = make_decision(city)
    electors = make_electors(decision, 3)
    for e in electors:
        voting.cast(decision, e, {"1": 1}, "web")
    assert log.flush_if_closed(decision) == 0  # still open
    decision.closes_at = decision.opens_at + dt.timedelta(seconds=1)
    decision.save(update_fields=["closes_at"])
    assert log.flush_closed_decisions() == 3
    assert Ballot.objects.count() == 3 and not PendingBallot.objects.exists()
