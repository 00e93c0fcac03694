"""pabutools (GPL-3.0-or-later, a dev-only test oracle, never imported by herzstadt/) computing the
same rules as herzstadt.decisions.counting, configured as docs/voting.md ("Counting rules") says."""

from __future__ import annotations

from collections.abc import Sequence

from pabutools.election import (
    AdditiveSatisfaction,
    ApprovalBallot,
    ApprovalProfile,
    Cost_Sat,
    CumulativeBallot,
    CumulativeProfile,
)
from pabutools.election import Instance as PbInstance
from pabutools.election import Project as PbProject
from pabutools.election.satisfaction import Additive_Cardinal_Sat
from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares
from pabutools.tiebreaking import TieBreakingRule

from herzstadt.decisions.counting import RULES, Ballot, Instance


def _points_times_cost(instance, profile, ballot, project, precomputed_values):
    return ballot.get(project, 0) * project.cost


class PointsTimesCost_Sat(AdditiveSatisfaction):
    """Greedy by points: satisfaction per euro = the points (pabutools' greedy divides by the cost)."""

    def __init__(self, instance, profile, ballot):
        AdditiveSatisfaction.__init__(self, instance, profile, ballot, _points_times_cost)


def to_pabutools(instance: Instance, ballots: Sequence[Ballot], style: str):
    """(pabutools instance, profile) of our instance and ballots."""
    projects = {p.id: PbProject(p.id, p.cost) for p in instance.projects}
    pb_instance = PbInstance(projects.values(), budget_limit=instance.budget)
    if style == "points":
        profile = CumulativeProfile(
            [CumulativeBallot({projects[k]: v for k, v in b.items() if v}) for b in ballots],
            instance=pb_instance,
        )
    else:
        profile = ApprovalProfile(
            [ApprovalBallot(projects[k] for k, v in b.items() if v) for b in ballots],
            instance=pb_instance,
        )
    return pb_instance, profile


def tie_breaking(pb_instance, profile) -> TieBreakingRule:
    """Ours: lower cost, then more supporters, then the id."""
    supporters = {p.name: 0 for p in pb_instance}
    for ballot in profile:
        for p in ballot:
            if (ballot[p] if isinstance(ballot, dict) else 1) > 0:
                supporters[p.name] += 1
    return TieBreakingRule(lambda inst, prof, p: (p.cost, -supporters[p.name], p.name))


def _supported(pb_instance, profile) -> set[str]:
    return {p.name for ballot in profile for p in ballot}


def oracle(pb_instance, profile, rule: str, style: str) -> list[str]:
    """The winners in selection order, as pabutools computes them (projects nobody voted for
    removed: pabutools' greedy would fund them with leftover money, always last)."""
    tb = tie_breaking(pb_instance, profile)
    greedy_sat = PointsTimesCost_Sat if style == "points" else Cost_Sat
    if rule == "greedy":
        result = greedy_utilitarian_welfare(
            pb_instance, profile, sat_class=greedy_sat, tie_breaking=tb
        )
    else:
        mes = method_of_equal_shares(
            pb_instance,
            profile,
            sat_class=Additive_Cardinal_Sat if style == "points" else Cost_Sat,
            tie_breaking=tb,
            voter_budget_increment=1,
        )
        result = greedy_utilitarian_welfare(
            pb_instance,
            profile,
            sat_class=greedy_sat,
            tie_breaking=tb,
            initial_budget_allocation=mes,
        )
    supported = _supported(pb_instance, profile)
    return [p.name for p in result if p.name in supported]


def assert_agrees_with_pabutools(instance: Instance, ballots: Sequence[Ballot], style: str) -> None:
    """Both rules give exactly pabutools' winners, in pabutools' order (for the pillar's own tests,
    e.g. on the demo budget)."""
    pb_instance, profile = to_pabutools(instance, ballots, style)
    for rule in ("greedy", "mes"):
        ours = RULES[rule].count(instance, ballots, style=style)
        assert list(ours.winners) == oracle(pb_instance, profile, rule, style), rule
        assert ours.spent == sum(instance.project(p).cost for p in ours.winners) <= instance.budget
