"""Factories for the eligibility tests: a running budget decision, and a stand-in for
``voting.cast`` while the ballot part is not merged (the real one is used as soon as it exists)."""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
import itertools
import secrets
import uuid
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

_n = itertools.count(1)


def make_decision(city, **fields: Any):
    from herzstadt.decisions.models import Decision, Feasibility, Proposal

    now = timezone.now()
    n = next(_n)
    values: dict[str, Any] = {
        "kind": "budget",
        "slug": f"buergerbudget-{n}",
        "title": f"Bürgerbudget {n}",
        "budget_eur": 100_000,
        "ballot_style": "approval",
        "max_choices": 3,
        "opens_at": now - dt.timedelta(days=1),
        "closes_at": now + dt.timedelta(days=7),
        "results_at": now + dt.timedelta(days=8),
        "is_published": True,
        "min_age": 14,
    }
    values.update(fields)
    decision = Decision.objects.create(city=city, **values)
    for number, cost in enumerate((20_000, 30_000, 40_000, 50_000), start=1):
        Proposal.objects.create(
            city=city,
            decision=decision,
            number=number,
            title=f"Vorschlag {number}",
            cost_eur=cost,
            feasibility=Feasibility.FEASIBLE,
        )
    return decision


def _stand_in_cast(decision, elector, choice, channel):
    from herzstadt.decisions.models import Elector, PendingBallot
    from herzstadt.decisions.voting import AlreadyVoted

    with transaction.atomic():
        if elector is not None and not Elector.objects.filter(
            pk=elector.pk, has_voted=False
        ).update(has_voted=True):
            raise AlreadyVoted()
        receipt = secrets.token_urlsafe(24)
        PendingBallot.objects.create(
            id=uuid.uuid4(),
            city_id=decision.city_id,
            decision=decision,
            choice=dict(choice),
            channel=channel,
            receipt_hash=hashlib.sha256(receipt.encode()).hexdigest(),
        )
    return receipt


@pytest.fixture
def cast(monkeypatch):
    """``voting.cast``: the real one once the ballot part provides it, else a faithful stand-in
    (conditional ``has_voted`` update, a pool entry) so these tests run on their own."""
    from herzstadt.decisions import voting

    if "NotImplementedError" in inspect.getsource(voting.cast):
        monkeypatch.setattr(voting, "cast", _stand_in_cast)
    return voting.cast
