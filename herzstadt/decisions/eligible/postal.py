"""The postal vote in two steps, as in German postal voting:

1. **Register the voting card** (:func:`register_card`): the returned card names the person (letter
   code or census identifier). The elector is marked as having voted — refused if they already have,
   online or at the booth — and the decision's count of registered cards goes up. The card is then
   separated from the sealed ballot envelope, so nothing links the two.
2. **Double entry of the anonymous ballot sheets** (:func:`enter_sheet`): two different clerks each
   type every sheet (its number and the marks). When two entries of a sheet agree, it counts: one
   ballot is cast with ``voting.cast(decision, None, choice, "postal")`` (or it is counted as invalid,
   if both say so); when they differ, the sheet is shown for a third entry by yet another clerk.
   Never more sheets are counted than cards were registered.

Entries of the same sheet are serialised by locking the decision row first (a no-op update: a row
lock on PostgreSQL, the write lock on SQLite), so two clerks finishing the same sheet at once count it
once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F

from herzstadt.decisions import voting
from herzstadt.decisions.eligibility import NotEligible, authorize_person
from herzstadt.decisions.eligible.paper import INVALID
from herzstadt.decisions.models import Decision, Elector, PostalEntry

#: results of :func:`enter_sheet`
WAITING = "waiting"  # the first entry: a second clerk must enter the sheet too
COUNTED = "counted"  # two entries agree: the ballot is cast
COUNTED_INVALID = "invalid"  # two entries agree that the sheet is invalid
MISMATCH = "mismatch"  # the entries differ: a third clerk enters the sheet


class PostalError(Exception):
    """``code``: "already_counted", "same_clerk", "too_many_sheets", "bad_envelope"."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def _lock(decision: Decision) -> None:
    Decision.objects.filter(pk=decision.pk).update(postal_cards=F("postal_cards"))


def register_card(decision: Decision, value: str) -> Elector:
    """Register the returned voting card of the person with letter code or identifier ``value``."""
    with transaction.atomic():
        elector = authorize_person(decision, value, channel="postal")
        if not Elector.objects.filter(pk=elector.pk, has_voted=False).update(has_voted=True):
            raise NotEligible("already_voted")
        Decision.objects.filter(pk=decision.pk).update(postal_cards=F("postal_cards") + 1)
    return elector


def normalise_envelope(value: str) -> str:
    envelope = "".join((value or "").split()).upper()
    if not envelope or len(envelope) > 40:
        raise PostalError("bad_envelope")
    return envelope


def enter_sheet(decision: Decision, clerk, envelope: str, choice: Mapping[str, int]) -> str:
    """One clerk's entry of ballot sheet ``envelope``; returns WAITING, COUNTED, COUNTED_INVALID or
    MISMATCH, or raises :class:`PostalError` (nothing stored then) or ``voting.VotingError``."""
    envelope = normalise_envelope(envelope)
    choice = {str(k): int(v) for k, v in choice.items()}
    try:
        with transaction.atomic():
            _lock(decision)
            cards = Decision.objects.values_list("postal_cards", flat=True).get(pk=decision.pk)
            entries = list(PostalEntry.objects.filter(decision=decision, envelope=envelope))
            if any(e.reconciled for e in entries):
                raise PostalError("already_counted", envelope=envelope)
            if any(e.entered_by_id == clerk.pk for e in entries):
                raise PostalError("same_clerk", envelope=envelope)
            PostalEntry.objects.create(
                city_id=decision.city_id,
                decision=decision,
                envelope=envelope,
                choice=choice,
                entered_by=clerk,
            )
            if not entries:
                return WAITING
            if not any(e.choice == choice for e in entries):
                return MISMATCH
            counted = (
                PostalEntry.objects.filter(decision=decision, reconciled=True)
                .values("envelope")
                .distinct()
                .count()
            )
            if counted >= cards:
                raise PostalError("too_many_sheets", cards=cards)
            PostalEntry.objects.filter(decision=decision, envelope=envelope).update(reconciled=True)
            if choice == INVALID:
                return COUNTED_INVALID
            voting.cast(decision, None, choice, "postal")
            return COUNTED
    except IntegrityError as error:  # the same clerk twice at once
        raise PostalError("same_clerk", envelope=envelope) from error


@dataclass(frozen=True)
class PostalState:
    cards: int
    counted: int
    invalid: int
    waiting: tuple[str, ...]
    conflicts: tuple[str, ...]


def state(decision: Decision) -> PostalState:
    """Where the postal count stands (sheet numbers that need a second or a third entry)."""
    by_envelope: dict[str, list[tuple[bool, dict]]] = defaultdict(list)
    for envelope, reconciled, choice in PostalEntry.objects.filter(decision=decision).values_list(
        "envelope", "reconciled", "choice"
    ):
        by_envelope[envelope].append((reconciled, choice))
    counted = invalid = 0
    waiting: list[str] = []
    conflicts: list[str] = []
    for envelope, entries in sorted(by_envelope.items()):
        if any(r for r, _ in entries):
            choices = [c for _, c in entries]
            agreed = next((c for c in choices if choices.count(c) >= 2), None)
            if agreed == INVALID:
                invalid += 1
            else:
                counted += 1
        elif len(entries) == 1:
            waiting.append(envelope)
        else:
            conflicts.append(envelope)
    cards = Decision.objects.values_list("postal_cards", flat=True).get(pk=decision.pk)
    return PostalState(cards, counted, invalid, tuple(waiting), tuple(conflicts))
