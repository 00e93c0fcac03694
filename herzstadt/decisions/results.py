"""Results and accountability: the count frozen at ``results_at``.

At the decision's ``results_at`` (the worker task ``decisions-results``, and lazily on the first read
after it) :func:`publish` empties the mixing pool into the public log, verifies the hash chain,
tallies the log's ballots, runs BOTH counting rules (``counting.RULES``: the decision's rule and the
other one beside it) and freezes all of it into ``Decision.results`` with a conditional update, so
it happens once however many workers try at the same time.

``Decision.results`` (JSON, version 1)::

    {"version": 1, "computed_at": ISO time, "kind": "budget" | "poll", "style", "rule", "budget",
     "ballots": n (log entries), "electors": m, "voted": electors marked as having voted,
     "channels": {"web": n, "booth": n, "postal": n},
     "log": {"length", "head", "verified": true},
     "projects": [{"id", "number", "title", "cost", "votes", "points"}],          # budgets
     "rules": {"mes": {"winners", "spent", "explanations": {id: {won, code, params}},
                       "rounds": [...], "details": {...}}, "greedy": {...}},
     "options": [{"id", "number", "label", "votes"}], "poll": {"winners": [ids], "tie": bool}}

Everything in it can be recomputed by anyone from the public log (``protokoll.json``) or the
``.pb`` file (:func:`pb_text`): the ballots are already public (without any link to a person), so
the frozen JSON keeps exact numbers; the pages suppress groups under :data:`SUPPRESS_BELOW`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import random
import threading
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from django.db import close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone

from herzstadt.decisions import counting
from herzstadt.decisions.models import (
    Ballot,
    Decision,
    DecisionKind,
    Elector,
    Feasibility,
    Proposal,
)

logger = logging.getLogger(__name__)

#: Groups of fewer people than this are shown as "fewer than 10" (turnout breakdowns).
SUPPRESS_BELOW = 10
#: How often the worker task looks for decisions whose results are due (seconds).
POLL = 30.0
RESULTS_VERSION = 1
CHANNELS = ("web", "booth", "postal")


class ResultsError(Exception):
    """The results cannot be frozen (``code``: "not_due", "chain_broken")."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- the instance: what the ballots choose from -----------------------------------------------------
def project_id(number: int) -> str:
    """The id of a proposal or option in ballots, the log and the ``.pb`` file: its number."""
    return str(number)


def ballot_proposals(decision: Decision) -> list[Proposal]:
    """The proposals on the ballot: the feasible ones, by number."""
    return list(decision.proposals.filter(feasibility=Feasibility.FEASIBLE).order_by("number"))


def instance_of(
    decision: Decision, proposals: Sequence[Proposal] | None = None
) -> counting.Instance:
    """The counting instance of a budget: its budget and the feasible proposals."""
    if proposals is None:
        proposals = ballot_proposals(decision)
    return counting.Instance(
        budget=int(decision.budget_eur or 0),
        projects=tuple(
            counting.Project(id=project_id(p.number), cost=int(p.cost_eur), name=p.title)
            for p in proposals
        ),
    )


def log_choices(decision: Decision) -> list[dict[str, int]]:
    """The choices of the log's ballots in log order."""
    return [
        {str(k): int(v) for k, v in choice.items()}
        for choice in Ballot.objects.filter(decision=decision)
        .order_by("seq")
        .values_list("choice", flat=True)
    ]


# --- freezing ---------------------------------------------------------------------------------------
def is_due(decision: Decision, now: dt.datetime | None = None) -> bool:
    """Whether the results may be published: at or after ``results_at`` and after the close."""
    now = now or timezone.now()
    return now >= decision.results_at and now >= decision.closes_at


def _flush_and_verify(decision: Decision) -> tuple[bool, str, int]:
    """Append what is left in the pool to the log (the ballot part's flush), then verify the whole
    chain. ``(verified, head hash, length)``."""
    from herzstadt.decisions import log

    log.flush(decision)
    entries = [log.as_entry(b) for b in Ballot.objects.filter(decision=decision).order_by("seq")]
    try:
        head = log.verify_chain(entries)
    except log.ChainError:
        logger.exception("the ballot log of decision %s does not verify", decision.pk)
        return False, "", len(entries)
    return True, head, len(entries)


def _rule_json(outcome: counting.Outcome) -> dict[str, Any]:
    return {
        "winners": list(outcome.winners),
        "spent": outcome.spent,
        "explanations": {
            pid: {"won": e.won, "code": e.code, "params": dict(e.params)}
            for pid, e in outcome.explanations.items()
        },
        "rounds": [asdict(r) for r in outcome.rounds],
        "details": dict(outcome.details),
    }


def compute(decision: Decision, choices: Sequence[dict[str, int]]) -> dict[str, Any]:
    """The results of ``choices`` (the log's ballots) without the log and turnout parts."""
    data: dict[str, Any] = {"kind": decision.kind, "ballots": len(choices)}
    if decision.kind == DecisionKind.POLL:
        options = list(decision.options.order_by("number"))
        votes = {project_id(o.number): 0 for o in options}
        for choice in choices:
            for pid, given in choice.items():
                if pid in votes and given:
                    votes[pid] += 1
        data["options"] = [
            {
                "id": project_id(o.number),
                "number": o.number,
                "label": o.label,
                "votes": votes[project_id(o.number)],
            }
            for o in options
        ]
        top = max(votes.values(), default=0)
        winners = [pid for pid, n in votes.items() if n == top and top > 0]
        data["poll"] = {"winners": winners, "tie": len(winners) > 1}
        return data
    proposals = ballot_proposals(decision)
    instance = instance_of(decision, proposals)
    style = decision.ballot_style
    votes = dict.fromkeys(instance.ids, 0)
    points = dict.fromkeys(instance.ids, 0)
    for choice in choices:
        for pid, given in choice.items():
            if pid in votes and given:
                votes[pid] += 1
                points[pid] += int(given)
    data.update(
        style=style,
        rule=decision.counting_rule,
        budget=instance.budget,
        projects=[
            {
                "id": project_id(p.number),
                "number": p.number,
                "title": p.title,
                "cost": int(p.cost_eur),
                "votes": votes[project_id(p.number)],
                "points": points[project_id(p.number)],
            }
            for p in proposals
        ],
        rules={
            key: _rule_json(rule.count(instance, list(choices), style=style))
            for key, rule in counting.RULES.items()
        },
    )
    return data


def _lock(decision: Decision) -> Decision:
    """The decision row, locked for this transaction (PostgreSQL: ``SELECT … FOR UPDATE``; SQLite
    takes its database write lock by writing first)."""
    if connection.vendor == "sqlite":
        Decision.objects.filter(pk=decision.pk).update(log_length=F("log_length"))
        return Decision.objects.get(pk=decision.pk)
    return Decision.objects.select_for_update().get(pk=decision.pk)


def publish(decision: Decision, now: dt.datetime | None = None) -> dict[str, Any]:
    """Freeze the results of ``decision`` once (see the module docstring) and return them.

    Raises :class:`ResultsError` ("not_due") before ``results_at``/the close, and ("chain_broken")
    when the log does not verify (then nothing is frozen: the page says the results are delayed)."""
    if decision.results is not None:
        return decision.results
    if not is_due(decision, now):
        raise ResultsError("not_due")
    with transaction.atomic():
        locked = _lock(decision)
        if locked.results is not None:
            decision.results = locked.results
            return locked.results
        # under the lock: no other flush can append between the check and the count
        verified, head, length = _flush_and_verify(locked)
        if not verified:
            raise ResultsError("chain_broken")
        data = compute(decision, log_choices(decision))
        electors = Elector.objects.filter(decision=decision)
        channels = dict.fromkeys(CHANNELS, 0)
        for channel in Ballot.objects.filter(decision=decision).values_list("channel", flat=True):
            channels[channel] = channels.get(channel, 0) + 1
        data.update(
            version=RESULTS_VERSION,
            computed_at=timezone.now().isoformat(),
            electors=electors.count(),
            voted=electors.filter(has_voted=True).count(),
            channels=channels,
            log={"length": length, "head": head, "verified": True},
        )
        updated = Decision.objects.filter(pk=decision.pk, results__isnull=True).update(results=data)
        if not updated:  # someone else was faster: theirs stands
            data = Decision.objects.values_list("results", flat=True).get(pk=decision.pk) or data
    decision.results = data
    return data


def results_for(decision: Decision, now: dt.datetime | None = None) -> dict[str, Any] | None:
    """The frozen results, publishing them lazily on the first read after ``results_at``; ``None``
    before that (or while the log does not verify)."""
    if decision.results is not None:
        return decision.results
    if not is_due(decision, now):
        return None
    try:
        return publish(decision, now)
    except ResultsError:
        return None


def publish_due(now: dt.datetime | None = None) -> int:
    """Publish every decision whose results are due; how many were frozen now."""
    now = now or timezone.now()
    done = 0
    due = Decision.objects.filter(
        results__isnull=True, results_at__lte=now, closes_at__lte=now
    ).order_by("results_at")
    for decision in due:
        try:
            publish(decision, now)
            done += 1
        except ResultsError as exc:
            logger.error("results of decision %s not published: %s", decision.pk, exc.code)
    return done


def run(stop: threading.Event) -> None:
    """The worker task ``decisions-results``."""
    while not stop.is_set():
        close_old_connections()
        try:
            publish_due()
        except Exception:
            logger.exception("decisions-results round failed")
        finally:
            close_old_connections()
        stop.wait(POLL)


# --- reading the frozen results ---------------------------------------------------------------------
def suppressed(n: int) -> int | None:
    """``n``, or ``None`` for a group of 1 to 9 people (shown as "fewer than 10")."""
    return None if 0 < n < SUPPRESS_BELOW else n


def winners(results: dict[str, Any], rule: str) -> list[str]:
    return list(results.get("rules", {}).get(rule, {}).get("winners", []))


def other_rule(rule: str) -> str:
    return "greedy" if rule == "mes" else "mes"


# --- the .pb file -----------------------------------------------------------------------------------
def pb_text(decision: Decision) -> str:
    """The pabulib file of the log's ballots, anonymised: the order shuffled (seeded by the log's
    head hash, so every download is the same file) and voter ids 1..n. Only for frozen results."""
    results = decision.results
    if not results or decision.kind != DecisionKind.BUDGET:
        raise ResultsError("not_due")
    instance = instance_of(decision)
    choices = [c for c in log_choices(decision) if c]
    seed = hashlib.sha256(f"pb|{results['log']['head']}".encode()).digest()
    random.Random(seed).shuffle(choices)  # noqa: S311 - not secret: the log is public
    meta = {
        "description": decision.title,
        "country": "Germany",
        "unit": decision.city.name,
        "instance": decision.slug,
        "rule": "equalshares/add1" if decision.counting_rule == "mes" else "greedy",
        "date_begin": decision.opens_at.date().isoformat(),
        "date_end": decision.closes_at.date().isoformat(),
        "language": "de",
        "currency": "EUR",
        "log_head": results["log"]["head"],
    }
    if decision.ballot_style == "approval" and decision.max_choices:
        meta["max_length"] = str(decision.max_choices)
    if decision.ballot_style == "points" and decision.total_points:
        meta["max_sum_points"] = str(decision.total_points)
    return counting.write_pb(instance, choices, meta=meta, style=decision.ballot_style)


# --- winners become measures ------------------------------------------------------------------------
def create_measures(decision: Decision, field_of_action: Any, rule: str | None = None) -> list[Any]:
    """One public measure per winning proposal (of the decision's rule) that has none yet, linked
    through ``Proposal.measure``; in one transaction. The new measures."""
    from django.utils.text import slugify

    from herzstadt.core.models import Measure, MeasureStatus

    results = decision.results
    if not results or decision.kind != DecisionKind.BUDGET:
        raise ResultsError("not_due")
    won = set(winners(results, rule or decision.counting_rule))
    created = []
    with transaction.atomic():
        for proposal in decision.proposals.select_for_update().filter(measure__isnull=True):
            if project_id(proposal.number) not in won:
                continue
            base = (
                slugify(f"{decision.slug}-{proposal.number}-{proposal.title}")[:70] or "massnahme"
            )
            slug, n = base, 1
            while Measure.objects.filter(city=decision.city, slug=slug).exists():
                n += 1
                slug = f"{base}-{n}"
            measure = Measure.objects.create(
                city=decision.city,
                slug=slug,
                title=proposal.title[:200],
                summary=(proposal.description or proposal.title)[:600],
                field_of_action=field_of_action,
                district=proposal.district or decision.district,
                status=MeasureStatus.PLANNED,
                budget_eur=proposal.cost_eur,
                funding=f"{decision.title}",
                location=proposal.location,
            )
            proposal.measure = measure
            proposal.save(update_fields=["measure"])
            created.append(measure)
    return created
