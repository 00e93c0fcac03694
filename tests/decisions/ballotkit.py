"""Plain factories for the ballot tests: a decision that is open now, its proposals or options, and
electors (rows the "eligible" part would create from a census or voting codes)."""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
from typing import Any

from django.utils import timezone

from herzstadt.decisions.models import (
    Decision,
    DecisionKind,
    Elector,
    Feasibility,
    PollOption,
    Proposal,
)

HOUR = dt.timedelta(hours=1)
_n = itertools.count(1)

#: (title, cost, feasible) — small Pfaff-Areal proposals
PROPOSALS = (
    ("Trinkbrunnen am Pfaff-Platz", 8000, True),
    ("Sitzbänke entlang der Halle", 12000, True),
    ("Fahrradreparaturstation", 5000, True),
    ("Urban Gardening am Kesselhaus", 20000, True),
    ("Seilbahn zum Hauptbahnhof", 900000, False),
)


def make_decision(
    city,
    *,
    kind: str = DecisionKind.BUDGET,
    style: str = "approval",
    budget: int = 30000,
    max_choices: int | None = 3,
    total_points: int | None = 10,
    opens: dt.timedelta = -HOUR,
    closes: dt.timedelta = HOUR,
    results: dt.timedelta = 2 * HOUR,
    proposals: tuple[tuple[str, int, bool], ...] = PROPOSALS,
    options: tuple[str, ...] = ("Ja", "Nein"),
    **fields: Any,
) -> Decision:
    now = timezone.now()
    n = next(_n)
    decision = Decision.objects.create(
        city=city,
        kind=kind,
        slug=fields.pop("slug", f"buergerbudget-{n}"),
        title=fields.pop("title", f"Bürgerbudget {n}"),
        budget_eur=budget if kind == DecisionKind.BUDGET else None,
        ballot_style=style,
        max_choices=max_choices,
        total_points=total_points,
        question="Soll die Straße „Pfaffstraße“ heißen?" if kind == DecisionKind.POLL else "",
        opens_at=now + opens,
        closes_at=now + closes,
        results_at=now + results,
        salt=fields.pop("salt", secrets.token_hex(32)),
        is_published=fields.pop("is_published", True),
        **fields,
    )
    if kind == DecisionKind.BUDGET:
        for number, (title, cost, feasible) in enumerate(proposals, start=1):
            Proposal.objects.create(
                city=city,
                decision=decision,
                number=number,
                title=title,
                cost_eur=cost,
                feasibility=Feasibility.FEASIBLE if feasible else Feasibility.NOT_FEASIBLE,
                feasibility_reason="" if feasible else "Zu teuer für ein Bürgerbudget.",
            )
    else:
        for number, label in enumerate(options, start=1):
            PollOption.objects.create(city=city, decision=decision, number=number, label=label)
    return decision


def make_electors(decision: Decision, count: int, **fields: Any) -> list[Elector]:
    rows = [
        Elector(
            city_id=decision.city_id,
            decision=decision,
            identifier_hash=secrets.token_hex(32),
            **fields,
        )
        for _ in range(count)
    ]
    Elector.objects.bulk_create(rows)
    return list(Elector.objects.filter(decision=decision).order_by("pk"))
