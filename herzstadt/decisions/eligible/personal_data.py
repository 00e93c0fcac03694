"""The decisions pillar's part of the GDPR self-service: which decisions a person's account is
verified for, and whether they have voted (never how). Erasing the account unlinks it from the
elector row; the row and its ``has_voted`` stay, so the person cannot vote a second time."""

from __future__ import annotations

from typing import Any

from herzstadt.decisions.models import Elector


def export(user: Any) -> dict[str, Any]:
    rows = Elector.objects.filter(account=user).select_related("decision", "city")
    return {
        "decisions_verified": [
            {
                "city": e.city.slug,
                "decision": e.decision.slug,
                "title": e.decision.title,
                "has_voted": e.has_voted,
            }
            for e in rows.order_by("decision__opens_at", "pk")
        ]
    }


def erase(user: Any) -> None:
    Elector.objects.filter(account=user).update(account=None)
