"""Counting rules as strategies (:data:`RULES`): utilitarian greedy, and the Method of Equal Shares
with completion. Exact arithmetic (``fractions.Fraction``), deterministic ties, no randomness.

Both rules match pabutools 1.2.2 exactly (tests/decisions/test_counting_oracle.py); docs/voting.md,
"Counting rules", says which pabutools calls reproduce each result.

Ties, everywhere: the lower cost first, then more supporters (ballots giving the project anything),
then the project id in Python string order. Projects nobody voted for never win.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from .model import Ballot, Explanation, Instance, Outcome, Param, Round, money
from .styles import STYLES, BallotStyle


@dataclass(frozen=True)
class _Tally:
    """The ballots, checked, with what every rule needs."""

    instance: Instance
    style: BallotStyle
    ballots: tuple[dict[str, int], ...]
    support: dict[str, int]  # votes (approval, knapsack) or points (points) per project
    supporters: dict[str, int]  # ballots that give the project anything

    def tie_key(self, project_id: str) -> tuple[int, int, str]:
        return (self.instance.project(project_id).cost, -self.supporters[project_id], project_id)

    def greedy_order(self) -> list[str]:
        return sorted(self.instance.ids, key=lambda pid: (-self.support[pid], *self.tie_key(pid)))


def _tally(instance: Instance, ballots: Sequence[Ballot], style: str) -> _Tally:
    try:
        ballot_style = STYLES[style]
    except KeyError:
        raise ValueError(f"unknown ballot style {style!r}") from None
    checked = tuple(ballot_style.check_counted(instance, b) for b in ballots)
    support = dict.fromkeys(instance.ids, 0)
    supporters = dict.fromkeys(instance.ids, 0)
    for ballot in checked:
        for pid, points in ballot.items():
            support[pid] += points
            supporters[pid] += 1
    return _Tally(instance, ballot_style, checked, support, supporters)


def _no_votes(tally: _Tally, pid: str) -> Explanation:
    return Explanation(pid, False, "no_votes", {"cost": tally.instance.project(pid).cost})


class CountingRule:
    """A rule that turns ballots into winners. ``style`` is the key of the ballot style (it decides
    what a ballot's numbers mean: votes or points)."""

    key: str = ""
    label: str = ""

    def count(
        self, instance: Instance, ballots: Sequence[Ballot], *, style: str = "approval"
    ) -> Outcome:
        raise NotImplementedError


class GreedyRule(CountingRule):
    """Utilitarian greedy (CONSUL, most city budgets): the projects by votes (approval, knapsack) or
    points (points ballots), most first; each is funded if it still fits the money left, otherwise it
    is passed over (``over_budget``) and the next one is tried."""

    key = "greedy"
    label = "Greedy by votes"

    def count(
        self, instance: Instance, ballots: Sequence[Ballot], *, style: str = "approval"
    ) -> Outcome:
        tally = _tally(instance, ballots, style)
        remaining = instance.budget
        winners: list[str] = []
        rounds: list[Round] = []
        explanations: dict[str, Explanation] = {}
        for pid in tally.greedy_order():
            cost = instance.project(pid).cost
            votes, supporters = tally.support[pid], tally.supporters[pid]
            if votes == 0:
                explanations[pid] = _no_votes(tally, pid)
            elif cost <= remaining:
                remaining -= cost
                winners.append(pid)
                rounds.append(
                    Round(len(winners), "greedy", pid, cost, votes, supporters, remaining)
                )
                explanations[pid] = Explanation(
                    pid,
                    True,
                    "selected",
                    {"rank": len(winners), "votes": votes, "supporters": supporters, "cost": cost},
                )
            else:
                explanations[pid] = Explanation(
                    pid,
                    False,
                    "over_budget",
                    {
                        "remaining": remaining,
                        "cost": cost,
                        "votes": votes,
                        "supporters": supporters,
                    },
                )
        return Outcome(
            rule=self.key,
            winners=tuple(winners),
            spent=instance.budget - remaining,
            explanations={pid: explanations[pid] for pid in instance.ids},
            rounds=tuple(rounds),
            details={"voters": len(tally.ballots)},
        )


@dataclass
class _Run:
    """One run of equal shares at a fixed budget per voter."""

    voter_budget: Fraction
    picks: list[tuple[str, Fraction]]  # (project, price per unit of utility), in order
    money_left: list[Fraction]  # per group of identical ballots, per voter


class EqualSharesRule(CountingRule):
    """The Method of Equal Shares (Peters, Pierczyński, Skowron; equalshares.net) with completion.

    The budget is split equally among the voters (empty ballots included). A project costs each of
    its supporters a share in proportion to the benefit they get from it — cost utilities for approval
    and knapsack ballots (the project's cost to each of its voters, so all its supporters pay the same),
    the points given for points ballots. Round by round the project with the lowest price per unit of
    benefit (ρ) that its supporters can still pay is bought; a supporter who has less than their share
    pays all they have and the others cover the rest. It stops when no project can be paid.

    Completion (pabutools' ``voter_budget_increment=1``, equalshares.net's "add1"): while the outcome
    leaves money that would fund a project someone voted for, the run is repeated with 1 € more per
    voter; the last outcome that stays within the real budget is kept (or the first one that leaves no
    such money). What then still fits is filled greedily by votes/points, as :class:`GreedyRule` does.
    """

    key = "mes"
    label = "Method of Equal Shares"
    # Skip completion steps that provably repeat the previous count (see ``headroom``); the result
    # is the same either way (tests/decisions/test_counting_oracle.py compares both).
    jump = True

    @staticmethod
    def _price(
        cost: int, utility: int, supp: list[tuple[int, int, int]], left: list[Fraction]
    ) -> Fraction | None:
        """The lowest ρ such that the supporters pay ``cost`` when each pays min(money left, ρ ×
        benefit); None if all their money together is less than the cost."""
        # Poor and rich: a price ρ that some supporters cannot pay makes them "poor" (they pay all
        # they have), the rest share what is left; repeat until nobody new is poor. ρ only rises, so
        # this reaches the unique ρ at which the supporters pay exactly the cost, or runs out of
        # supporters when their money together is less than the cost.
        rich = supp
        paid = Fraction(0)
        denominator = utility
        while rich:
            rho = (cost - paid) / denominator
            share: dict[int, Fraction] = {}  # ρ × u, per distinct u (one value for cost utilities)
            still_rich = []
            for s in rich:
                g, u, m = s
                price = share.get(u)
                if price is None:
                    price = share[u] = rho * u
                if left[g] < price:
                    paid += left[g] * m if m != 1 else left[g]
                    denominator -= u * m
                else:
                    still_rich.append(s)
            if len(still_rich) == len(rich):
                return rho
            rich = still_rich
        return None

    def count(
        self, instance: Instance, ballots: Sequence[Ballot], *, style: str = "approval"
    ) -> Outcome:
        tally = _tally(instance, ballots, style)
        n = len(tally.ballots)
        candidates = [pid for pid in instance.ids if tally.support[pid] > 0]
        cost = {p.id: p.cost for p in instance.projects}

        # Identical ballots keep identical budgets all along: count them once, with a multiplicity.
        groups: dict[tuple[tuple[str, int], ...], int] = {}
        for ballot in tally.ballots:
            key = tuple(sorted(ballot.items()))
            groups[key] = groups.get(key, 0) + 1
        group_list = list(groups.items())
        cardinal = tally.style.cardinal
        # supporters[pid] = [(group index, utility of one voter, multiplicity)]
        supporters: dict[str, list[tuple[int, int, int]]] = {pid: [] for pid in candidates}
        for g, (key, mult) in enumerate(group_list):
            for pid, points in key:
                supporters[pid].append((g, points if cardinal else cost[pid], mult))
        total_utility = {pid: sum(u * m for _, u, m in supporters[pid]) for pid in candidates}

        # projects_of[g] = the projects group g supports (whose prices change when g pays)
        projects_of: list[list[str]] = [[pid for pid, _ in key] for key, _ in group_list]

        def run(voter_budget: Fraction) -> _Run:
            left = [voter_budget] * len(group_list)
            # lower[pid]: a lower bound of the project's price per unit of benefit (prices only
            # rise as money is spent); exact while none of its supporters has paid since.
            lower = {pid: Fraction(cost[pid], total_utility[pid]) for pid in candidates}
            exact = dict.fromkeys(candidates, False)
            remaining = set(candidates)
            picks: list[tuple[str, Fraction]] = []
            while True:
                best: Fraction | None = None
                tied: list[str] = []
                for pid in sorted(remaining, key=lambda p: (lower[p], p)):
                    if best is not None and lower[pid] > best:
                        break  # nothing further on can beat the best
                    if not exact[pid]:
                        rho = self._price(cost[pid], total_utility[pid], supporters[pid], left)
                        if rho is None:
                            remaining.discard(pid)  # its supporters can never pay it again
                            continue
                        lower[pid], exact[pid] = rho, True
                    rho = lower[pid]
                    if best is None or rho < best:
                        best, tied = rho, [pid]
                    elif rho == best:
                        tied.append(pid)
                if best is None:
                    return _Run(voter_budget, picks, left)
                pick = min(tied, key=tally.tie_key)
                picks.append((pick, best))
                remaining.discard(pick)
                share: dict[int, Fraction] = {}  # ρ × u, per distinct u
                for g, u, _ in supporters[pick]:
                    if left[g]:
                        price = share.get(u)
                        if price is None:
                            price = share[u] = best * u
                        left[g] = left[g] - price if price < left[g] else Fraction(0)
                        for pid in projects_of[g]:
                            exact[pid] = False

        def spent(r: _Run) -> int:
            return sum(cost[pid] for pid, _ in r.picks)

        def exhaustive(r: _Run) -> bool:
            chosen = {pid for pid, _ in r.picks}
            rest = instance.budget - spent(r)
            return all(pid in chosen or cost[pid] > rest for pid in candidates)

        initial = {pid: Fraction(cost[pid], total_utility[pid]) for pid in candidates}
        voters_of = {pid: sum(m for _, _, m in supporters[pid]) for pid in candidates}

        def headroom(r: _Run) -> Fraction | None:
            """How much more money per voter certainly leaves this run's picks and prices as they
            are (None: no such guarantee). It holds when every pick was paid in full shares (nobody
            poor; with more money nobody is) and no project that could have been picked instead was
            affordable: then each voter simply has δ more at every round, and the picks change only
            once such a project becomes affordable, at δ = (its cost − its supporters' money) ÷ its
            supporters — or one left over at the end does."""
            left = [r.voter_budget] * len(group_list)
            picked: set[str] = set()
            bound: Fraction | None = None

            def becomes_affordable(pid: str) -> Fraction | None:
                money_now = sum((left[g] * m for g, _, m in supporters[pid]), start=Fraction(0))
                if money_now >= cost[pid]:
                    return None
                return (cost[pid] - money_now) / voters_of[pid]

            for pick, rho in r.picks:
                if rho != initial[pick]:
                    return None  # someone paid less than a full share: prices move with money
                for pid in candidates:
                    if pid in picked or pid == pick:
                        continue
                    lb = initial[pid]
                    if lb > rho or (lb == rho and tally.tie_key(pid) > tally.tie_key(pick)):
                        continue  # can never be picked before ``pick``
                    delta = becomes_affordable(pid)
                    if delta is None:
                        return None  # affordable but dearer for now: more money may change that
                    bound = delta if bound is None else min(bound, delta)
                for g, u, _ in supporters[pick]:
                    left[g] -= rho * u
                picked.add(pick)
            for pid in candidates:
                if pid not in picked:
                    delta = becomes_affordable(pid)
                    if delta is None:  # pragma: no cover - a run ends when none is affordable
                        return None
                    bound = delta if bound is None else min(bound, delta)
            return bound

        kept: _Run | None = None
        increments = 0
        if n:
            start = Fraction(instance.budget, n)
            step = 0
            while True:
                current = run(start + step)
                if spent(current) > instance.budget:
                    if kept is not None and increments != step - 1:
                        # the steps jumped over had kept's picks; keep the last of them
                        kept, increments = run(start + step - 1), step - 1
                    break  # the previous run is kept (the first run never overspends)
                kept, increments = current, step
                if exhaustive(current):
                    break
                delta = headroom(current) if self.jump else None
                # the next step at which the picks may differ (steps before it repeat this run)
                step += max(1, math.ceil(delta)) if delta is not None else 1

        winners: list[str] = []
        rounds: list[Round] = []
        explanations: dict[str, Explanation] = {}
        remaining = instance.budget
        for pid, rho in kept.picks if kept else []:
            remaining -= cost[pid]
            winners.append(pid)
            price = money(rho * (1 if cardinal else cost[pid]))
            params: dict[str, Param] = {"price_per_vote": price}
            votes, nsupp = tally.support[pid], tally.supporters[pid]
            rounds.append(
                Round(len(winners), "mes", pid, cost[pid], votes, nsupp, remaining, params)
            )
            explanations[pid] = Explanation(
                pid,
                True,
                "selected",
                {
                    "rank": len(winners),
                    "votes": votes,
                    "supporters": nsupp,
                    "cost": cost[pid],
                    **params,
                },
            )
        mes_spent = instance.budget - remaining

        # Completion: greedy by votes/points for what still fits.
        for pid in tally.greedy_order():
            if pid in explanations:
                continue
            votes, nsupp = tally.support[pid], tally.supporters[pid]
            if votes == 0:
                explanations[pid] = _no_votes(tally, pid)
            elif cost[pid] <= remaining:
                remaining -= cost[pid]
                winners.append(pid)
                rounds.append(
                    Round(len(winners), "completion", pid, cost[pid], votes, nsupp, remaining)
                )
                explanations[pid] = Explanation(
                    pid,
                    True,
                    "completion",
                    {"rank": len(winners), "votes": votes, "supporters": nsupp, "cost": cost[pid]},
                )
            else:
                money_left = (
                    sum(
                        (kept.money_left[g] * m for g, _, m in supporters[pid]),
                        start=Fraction(0),
                    )
                    if kept
                    else Fraction(0)
                )
                explanations[pid] = Explanation(
                    pid,
                    False,
                    "mes_supporters_cannot_afford",
                    {
                        "cost": cost[pid],
                        "votes": votes,
                        "supporters": nsupp,
                        "supporters_money": money(money_left),
                        "remaining": remaining,
                    },
                )
        details: dict[str, Param] = {"voters": n, "mes_spent": mes_spent, "increments": increments}
        if kept:
            details["voter_budget"] = money(kept.voter_budget)
            details["voter_budget_exact"] = str(kept.voter_budget)
        return Outcome(
            rule=self.key,
            winners=tuple(winners),
            spent=instance.budget - remaining,
            explanations={pid: explanations[pid] for pid in instance.ids},
            rounds=tuple(rounds),
            details=details,
        )


RULES: dict[str, CountingRule] = {r.key: r for r in (GreedyRule(), EqualSharesRule())}
