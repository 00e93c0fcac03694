"""Ballot styles: what a voter may choose, as small strategies (:data:`STYLES`).

``validate`` turns what a form sent into the ballot as counted, or raises :class:`BallotError` with a
code the caller translates. The labels here are plain English for logs and the API; a page translates
by ``key``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .model import Ballot, BallotError, Instance


def choice_from_ids(ids: Iterable[str]) -> dict[str, int]:
    """A choice of projects as a form sends it (a list of ids, e.g. ``request.POST.getlist``) as
    ``{id: 1}``; a duplicated id is an error (``duplicate``), not silently merged."""
    choice: dict[str, int] = {}
    for project_id in ids:
        if project_id in choice:
            raise BallotError("duplicate", project_id=str(project_id))
        choice[project_id] = 1
    return choice


class BallotStyle:
    """A kind of ballot. ``cardinal`` says how equal shares measures a voter's benefit: False → cost
    utilities (a project is worth its cost to each of its voters), True → the points given."""

    key: str = ""
    label: str = ""
    cardinal: bool = False

    def validate(
        self,
        instance: Instance,
        choice: Mapping[str, int],
        *,
        max_choices: int | None = None,
        total_points: int | None = None,
    ) -> dict[str, int]:
        """The ballot as counted ({id: points}, projects with 0 left out, in the instance's order —
        never in the order the voter clicked), or :class:`BallotError`."""
        ballot = self._points(instance, choice)
        if not ballot:
            raise BallotError("empty")
        if max_choices is not None and len(ballot) > max_choices:
            raise BallotError("too_many_choices", chosen=len(ballot), max=max_choices)
        self._check(instance, ballot, total_points=total_points)
        return ballot

    def _points(self, instance: Instance, choice: Mapping[str, int]) -> dict[str, int]:
        known = set(instance.ids)
        for project_id, points in choice.items():
            if project_id not in known:
                raise BallotError("unknown_project", project_id=str(project_id))
            if isinstance(points, bool) or not isinstance(points, int) or points < 0:
                raise BallotError("invalid_points", project_id=project_id)
            if not self.cardinal and points > 1:
                raise BallotError("invalid_points", project_id=project_id)
        return {pid: choice[pid] for pid in instance.ids if choice.get(pid, 0) > 0}

    def _check(
        self, instance: Instance, ballot: dict[str, int], *, total_points: int | None
    ) -> None:
        pass

    def check_counted(self, instance: Instance, ballot: Ballot) -> dict[str, int]:
        """A ballot handed to a counting rule, checked loosely (ids known, points whole and ≥ 0, 1 for
        approval styles); ``ValueError`` otherwise. Empty ballots are allowed (they count as voters)."""
        try:
            return self._points(instance, ballot)
        except BallotError as error:
            raise ValueError(f"not a {self.key} ballot: {error}") from error


class ApprovalStyle(BallotStyle):
    """Approval: up to ``max_choices`` projects (all, if None), one vote each."""

    key = "approval"
    label = "Approval (up to N projects)"


class KnapsackStyle(BallotStyle):
    """Knapsack: any projects whose costs add up to at most the budget (and at least one)."""

    key = "knapsack"
    label = "Knapsack (within the budget)"

    def _check(
        self, instance: Instance, ballot: dict[str, int], *, total_points: int | None
    ) -> None:
        total = sum(instance.project(pid).cost for pid in ballot)
        if total > instance.budget:
            raise BallotError("over_budget", total=total, budget=instance.budget)


class PointsStyle(BallotStyle):
    """Points: whole, non-negative points on any projects, adding up to AT MOST ``total_points``
    (a voter need not spend them all; at least one point)."""

    key = "points"
    label = "Points (distribute K)"
    cardinal = True

    def _check(
        self, instance: Instance, ballot: dict[str, int], *, total_points: int | None
    ) -> None:
        if total_points is None or total_points <= 0:
            raise ValueError("a points ballot needs total_points > 0")
        total = sum(ballot.values())
        if total > total_points:
            raise BallotError("too_many_points", total=total, max=total_points)


STYLES: dict[str, BallotStyle] = {
    s.key: s for s in (ApprovalStyle(), KnapsackStyle(), PointsStyle())
}
