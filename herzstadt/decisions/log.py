"""The public ballot log: a hash chain of the counted ballots, and the mixing pool that feeds it.

A cast ballot waits in the pool (:class:`~herzstadt.decisions.models.PendingBallot`: a random id, no
time). When the pool holds ``HERZSTADT_DECISIONS_MIX_BATCH`` ballots (default 20), and whenever it is
read after the close, the whole pool is appended to the log in an order drawn with
:class:`random.SystemRandom`, so the log's order says nothing about the order of voting within a
batch.

Each entry is chained to the one before it::

    entry_hash = SHA-256( prev_hash "|" seq "|" canonical JSON of choice "|" channel "|"
                          receipt_hash "|" day )

with ``seq`` counting from 1, ``prev_hash`` "" for the first entry, ``day`` the ISO date the batch
was appended, and the canonical JSON of the choice sorted by key without spaces (ASCII only), e.g.
``{"3":1,"7":1}``. The keys of a choice are the *numbers* of the proposals (or poll options) as
strings — the numbers printed on the paper ballot — and the values the points (1 for approval and
knapsack ballots and polls). The pure functions here (:func:`encode`, :func:`entry_hash`,
:func:`verify_chain`, :func:`tally`) need nothing but the standard library, so anyone can check a
downloaded log with the same code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from herzstadt.decisions.models import Ballot, Decision, PendingBallot

#: The fields of a log entry, in the order of the JSON export.
FIELDS = ("seq", "choice", "channel", "receipt_hash", "day", "prev_hash", "entry_hash")


class ChainError(ValueError):
    """The log does not verify: ``seq`` is the first entry that is wrong, ``reason`` says why."""

    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(f"entry {seq}: {reason}")
        self.seq = seq
        self.reason = reason


def mix_batch() -> int:
    """The pool size at which the pool is appended to the log (``HERZSTADT_DECISIONS_MIX_BATCH``)."""
    try:
        return max(1, int(os.environ.get("HERZSTADT_DECISIONS_MIX_BATCH", "20")))
    except ValueError:
        return 20


def canonical_choice(choice: Mapping[str, Any]) -> str:
    return json.dumps(
        {str(k): int(v) for k, v in choice.items()},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )


def encode(
    prev_hash: str, seq: int, choice: Mapping[str, Any], channel: str, receipt_hash: str, day: str
) -> bytes:
    """The bytes an entry's hash is taken of."""
    return "|".join(
        (prev_hash, str(int(seq)), canonical_choice(choice), channel, receipt_hash, day)
    ).encode("ascii")


def entry_hash(
    prev_hash: str, seq: int, choice: Mapping[str, Any], channel: str, receipt_hash: str, day: str
) -> str:
    return hashlib.sha256(encode(prev_hash, seq, choice, channel, receipt_hash, day)).hexdigest()


_CROCKFORD = str.maketrans("OIL", "011")


def receipt_hash(receipt: str) -> str:
    """SHA-256 of a receipt as the voter types it: case, spaces and dashes do not matter, and
    O, I and L are read as 0, 1 and 1 (Crockford's base 32)."""
    normal = "".join(ch for ch in receipt.upper() if ch.isascii() and ch.isalnum())
    normal = normal.translate(_CROCKFORD)
    return hashlib.sha256(normal.encode("ascii", "ignore")).hexdigest()


def _day(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def verify_chain(entries: Iterable[Mapping[str, Any]]) -> str:
    """Check every entry (in order) against its predecessor; return the head hash ("" for an empty
    log) or raise :class:`ChainError` at the first entry that was changed, removed or inserted."""
    prev = ""
    expected_seq = 1
    for entry in entries:
        seq = int(entry["seq"])
        if seq != expected_seq:
            raise ChainError(expected_seq, "missing or out of order")
        if entry["prev_hash"] != prev:
            raise ChainError(seq, "does not follow the entry before it")
        computed = entry_hash(
            prev, seq, entry["choice"], entry["channel"], entry["receipt_hash"], _day(entry["day"])
        )
        if computed != entry["entry_hash"]:
            raise ChainError(seq, "its content does not match its hash")
        prev = computed
        expected_seq += 1
    return prev


def tally(entries: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Points (votes) per proposal or option number over the entries."""
    totals: dict[str, int] = {}
    for entry in entries:
        for key, points in entry["choice"].items():
            totals[str(key)] = totals.get(str(key), 0) + int(points)
    return dict(
        sorted(totals.items(), key=lambda kv: (int(kv[0]) if kv[0].isdigit() else 0, kv[0]))
    )


def as_entry(ballot: Ballot) -> dict[str, Any]:
    return {
        "seq": ballot.seq,
        "choice": ballot.choice,
        "channel": ballot.channel,
        "receipt_hash": ballot.receipt_hash,
        "day": ballot.day.isoformat(),
        "prev_hash": ballot.prev_hash,
        "entry_hash": ballot.entry_hash,
    }


# --- the pool -> the log ----------------------------------------------------------------------------
def flush(decision: Decision, *, minimum: int = 1) -> int:
    """Append the whole pool of ``decision`` to its log in a random order, if it holds at least
    ``minimum`` ballots; return how many were appended.

    Safe with several processes: the decision's row is locked first (``SELECT … FOR UPDATE`` on
    PostgreSQL; on SQLite the transaction takes the database's write lock when it begins), and the
    pool and the log head are read after the lock, so two flushes never chain onto the same head.
    """
    if not PendingBallot.objects.filter(decision_id=decision.pk).exists():
        return 0
    rng = random.SystemRandom()
    with transaction.atomic():
        locked = (
            Decision.objects.select_for_update()
            .only("id", "city_id", "log_head", "log_length")
            .get(pk=decision.pk)
        )
        pending = list(
            PendingBallot.objects.filter(decision_id=locked.pk).values_list(
                "id", "choice", "channel", "receipt_hash"
            )
        )
        if not pending or len(pending) < minimum:
            return 0
        rng.shuffle(pending)
        day = timezone.localdate().isoformat()
        prev, seq = locked.log_head, locked.log_length
        rows = []
        for _id, choice, channel, rhash in pending:
            seq += 1
            digest = entry_hash(prev, seq, choice, channel, rhash, day)
            rows.append(
                Ballot(
                    city_id=locked.city_id,
                    decision_id=locked.pk,
                    seq=seq,
                    choice=choice,
                    channel=channel,
                    receipt_hash=rhash,
                    day=day,
                    prev_hash=prev,
                    entry_hash=digest,
                )
            )
            prev = digest
        Ballot.objects.bulk_create(rows, batch_size=500)
        PendingBallot.objects.filter(pk__in=[p[0] for p in pending]).delete()
        Decision.objects.filter(pk=locked.pk).update(log_head=prev, log_length=seq)
    decision.log_head, decision.log_length = prev, seq
    return len(pending)


def flush_if_full(decision: Decision) -> int:
    """After a cast: append the pool once it holds a batch (a cheap count first, so that most
    casts never take the decision's lock)."""
    batch = mix_batch()
    if PendingBallot.objects.filter(decision_id=decision.pk).count() < batch:
        return 0
    return flush(decision, minimum=batch)


def flush_if_closed(decision: Decision) -> int:
    """After the close the pool is flushed on every read, so stragglers never wait."""
    if timezone.now() >= decision.closes_at:
        return flush(decision)
    return 0


def flush_closed_decisions() -> int:
    """For the worker: flush the pools of every closed decision (returns the ballots appended)."""
    appended = 0
    ids = (
        PendingBallot.objects.filter(decision__closes_at__lte=timezone.now())
        .values_list("decision_id", flat=True)
        .distinct()
    )
    for decision in Decision.objects.filter(pk__in=list(ids)):
        appended += flush(decision)
    return appended
