"""Casting a ballot.

``cast(decision, elector, choice, channel) -> str``: in one transaction, checks that voting is open
and the channel allowed, validates ``choice`` with the decision's ballot style, marks the elector as
having voted (a conditional update: a second ballot of the same elector raises
:class:`AlreadyVoted`), and puts the ballot into the mixing pool. Returns the voter's receipt (shown
once; only its hash is stored). ``elector`` is ``None`` only for a reconciled postal sheet, whose
voting card was registered (and its elector marked) when the envelope was opened.

``channel`` is how the ballot came in: ``"web"`` (a verified account), ``"code"`` (online with a
voting code), ``"booth"`` (paper, entered at a polling station) or ``"postal"`` (a reconciled postal
sheet). The log keeps only the coarse kind: ``"code"`` is stored as ``"web"``.

A choice maps the *numbers* of proposals (or poll options) — as strings or ints — to points: 1 for
approval and knapsack ballots and polls; the points given for points ballots. It is returned
normalised by :func:`validate` (string keys, only the proposals chosen).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from herzstadt.decisions import counting, log
from herzstadt.decisions.models import (
    BallotStyle,
    Decision,
    DecisionKind,
    Elector,
    Feasibility,
    PendingBallot,
)

#: Receipts are 28 characters of Crockford's base 32 (no I, L, O, U): 28 × 5 = 140 bits.
RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECEIPT_LENGTH = 28
#: channel given to cast() -> (the decision's flag, the kind stored in the log)
CHANNELS = {
    "web": ("channel_web", "web"),
    "code": ("channel_code", "web"),
    "booth": ("channel_booth", "booth"),
    "postal": ("channel_postal", "postal"),
}


class VotingError(Exception):
    """A ballot that cannot be cast; ``code`` names the reason (the caller translates it):
    ``not_open``, ``closed``, ``channel_closed``, ``no_elector``, ``wrong_elector``, ``empty``,
    ``unknown``, ``too_many``, ``over_budget``, ``bad_points``, ``too_many_points``, ``one_option``,
    ``already_voted``."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class AlreadyVoted(VotingError):
    def __init__(self) -> None:
        super().__init__("already_voted")


def new_receipt() -> str:
    """A receipt from :mod:`secrets`: 140 bits, grouped by four for reading (``ABCD-EFGH-…``)."""
    raw = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, RECEIPT_LENGTH, 4))


def ballot_items(decision: Decision) -> dict[str, int]:
    """What is on the ballot: ``{number: cost}`` of the feasible proposals (cost 0 for poll options)."""
    if decision.kind == DecisionKind.POLL:
        return {str(n): 0 for n in decision.options.values_list("number", flat=True)}
    return {
        str(n): cost
        for n, cost in decision.proposals.filter(feasibility=Feasibility.FEASIBLE).values_list(
            "number", "cost_eur"
        )
    }


#: BallotError codes of ``counting.STYLES`` -> (our code, {our param: their param})
_STYLE_ERRORS = {
    "empty": ("empty", {}),
    "unknown_project": ("unknown", {"number": "project_id"}),
    "invalid_points": ("bad_points", {"number": "project_id"}),
    "duplicate": ("bad_points", {"number": "project_id"}),
    "too_many_choices": ("too_many", {"count": "chosen", "limit": "max"}),
    "over_budget": ("over_budget", {"spent": "total", "budget": "budget"}),
    "too_many_points": ("too_many_points", {"total": "total", "limit": "max"}),
}


def validate(
    decision: Decision, choice: Mapping[Any, Any], items: Mapping[str, int] | None = None
) -> dict[str, int]:
    """The normalised choice, or :class:`VotingError` saying what is wrong with it. A budget's
    ballot is checked by its style's strategy (``counting.STYLES``); a poll takes one answer."""
    items = ballot_items(decision) if items is None else items
    normal: dict[str, int] = {}
    for key, value in choice.items():
        number = str(key).strip()
        if number not in items:
            raise VotingError("unknown", number=number)
        try:
            points = int(value)
        except (TypeError, ValueError):
            raise VotingError("bad_points", number=number) from None
        if points < 0:
            raise VotingError("bad_points", number=number)
        normal[number] = points
    if decision.kind == DecisionKind.POLL:
        normal = {k: v for k, v in normal.items() if v}
        if not normal:
            raise VotingError("empty")
        if len(normal) != 1 or set(normal.values()) != {1}:
            raise VotingError("one_option")
        return normal
    instance = counting.Instance(
        budget=decision.budget_eur or 1,
        projects=tuple(counting.Project(id=n, cost=max(1, cost)) for n, cost in items.items()),
    )
    style = counting.STYLES[decision.ballot_style]
    if decision.ballot_style == BallotStyle.POINTS and not decision.total_points:
        raise VotingError("bad_points")  # a points ballot without points: set up wrongly
    try:
        counted = style.validate(
            instance,
            normal,
            max_choices=decision.max_choices or None
            if decision.ballot_style == BallotStyle.APPROVAL
            else None,
            total_points=decision.total_points,
        )
    except counting.BallotError as exc:
        code, names = _STYLE_ERRORS.get(exc.code, (exc.code, {}))
        params = getattr(exc, "params", {}) or {}
        raise VotingError(
            code, **{ours: params.get(theirs) for ours, theirs in names.items()}
        ) from None
    return dict(counted)


def check_open(decision: Decision, channel: str) -> None:
    now = timezone.now()
    if now < decision.opens_at:
        raise VotingError("not_open")
    if now >= decision.closes_at:
        raise VotingError("closed")
    flag = CHANNELS.get(channel)
    if flag is None or not getattr(decision, flag[0]):
        raise VotingError("channel_closed")


def cast(
    decision: Decision, elector: Elector | None, choice: Mapping[str, int], channel: str
) -> str:
    check_open(decision, channel)
    if elector is None and channel != "postal":
        raise VotingError("no_elector")
    if elector is not None and elector.decision_id != decision.pk:
        raise VotingError("wrong_elector")
    normal = validate(decision, choice)
    receipt = new_receipt()
    with transaction.atomic():
        if elector is not None:
            marked = Elector.objects.filter(
                pk=elector.pk, decision_id=decision.pk, has_voted=False
            ).update(has_voted=True)
            if marked != 1:
                raise AlreadyVoted()
        PendingBallot.objects.create(
            id=uuid.uuid4(),
            city_id=decision.city_id,
            decision_id=decision.pk,
            choice=normal,
            channel=CHANNELS[channel][1],
            receipt_hash=log.receipt_hash(receipt),
        )
    if elector is not None:
        elector.has_voted = True
    log.flush_if_full(decision)
    return receipt
