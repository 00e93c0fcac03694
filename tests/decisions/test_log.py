"""The hash-chained ballot log: encoding, verification (tampering detected) and the tally."""

from __future__ import annotations

import copy

import pytest

from herzstadt.decisions import log, voting
from herzstadt.decisions.models import Ballot
from tests.decisions.ballotkit import make_decision, make_electors


def _chain(n: int) -> list[dict]:
    entries, prev = [], ""
    for seq in range(1, n + 1):
        choice = {str(seq % 3 + 1): 1}
        rh = f"{seq:064x}"
        h = log.entry_hash(prev, seq, choice, "web", rh, "2026-12-01")
        entries.append(
            {
                "seq": seq,
                "choice": choice,
                "channel": "web",
                "receipt_hash": rh,
                "day": "2026-12-01",
                "prev_hash": prev,
                "entry_hash": h,
            }
        )
        prev = h
    return entries


def test_the_encoding_is_canonical():
    assert log.encode("", 1, {"10": 1, "2": 1}, "web", "ab", "2026-12-01") == (
        b'|1|{"10":1,"2":1}|web|ab|2026-12-01'
    )
    assert log.canonical_choice({2: 1, "10": 1}) == log.canonical_choice({"10": 1, "2": 1})


def test_an_untouched_chain_verifies_to_its_head():
    entries = _chain(10)
    assert log.verify_chain(entries) == entries[-1]["entry_hash"]
    assert log.verify_chain([]) == ""
    assert log.tally(entries) == {"1": 3, "2": 4, "3": 3}


@pytest.mark.parametrize(
    "tamper",
    [
        lambda e: e[4]["choice"].update({"1": 1}),  # a changed choice
        lambda e: e[4].update(channel="booth"),
        lambda e: e[4].update(day="2026-12-02"),
        lambda e: e.pop(4),  # a removed entry
        lambda e: e.insert(4, copy.deepcopy(e[3])),  # a duplicated entry
        lambda e: e.__setitem__(slice(3, 5), [e[4], e[3]]),  # two swapped
        lambda e: e[9].update(entry_hash="0" * 64),
    ],
)
def test_tampering_is_detected(tamper):
    entries = _chain(10)
    tamper(entries)
    with pytest.raises(log.ChainError):
        log.verify_chain(entries)


def test_a_rewritten_tail_does_not_match_the_published_head():
    """Whoever recomputes every hash after a change gets a valid chain — but another head."""
    entries = _chain(10)
    head = entries[-1]["entry_hash"]
    entries[4]["choice"] = {"1": 1}
    prev = entries[3]["entry_hash"]
    for e in entries[4:]:
        e["prev_hash"] = prev
        e["entry_hash"] = prev = log.entry_hash(
            prev, e["seq"], e["choice"], e["channel"], e["receipt_hash"], e["day"]
        )
    assert log.verify_chain(entries) != head


@pytest.mark.django_db
def test_the_stored_log_verifies_and_a_changed_row_is_found(city, monkeypatch):
    monkeypatch.setenv("HERZSTADT_DECISIONS_MIX_BATCH", "4")
    decision = make_decision(city)
    for e in make_electors(decision, 12):
        voting.cast(decision, e, {"1": 1, "2": 1}, "web")
    entries = [log.as_entry(b) for b in Ballot.objects.filter(decision=decision)]
    decision.refresh_from_db()
    assert len(entries) == 12 == decision.log_length
    assert log.verify_chain(entries) == decision.log_head
    assert log.tally(entries) == {"1": 12, "2": 12}
    Ballot.objects.filter(decision=decision, seq=7).update(choice={"3": 1})
    entries = [log.as_entry(b) for b in Ballot.objects.filter(decision=decision)]
    with pytest.raises(log.ChainError) as err:
        log.verify_chain(entries)
    assert err.value.seq == 7
