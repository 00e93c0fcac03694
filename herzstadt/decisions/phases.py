"""The participatory budget ("Bürgerbudget") as a kind of participation process, with its phase
kinds and the feature ``decisions.vote`` (registered in ``pillar.py``; participation reads them from
the registry). Proposals are collected as ideas (participation's own features), checked by the city,
voted on, counted and implemented."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from herzstadt.core import registry

VOTE = "decisions.vote"
PROCESS_KIND = "budget"

FEATURES = (registry.Feature(key=VOTE, label=_("vote on the proposals")),)

PHASE_KINDS = (
    registry.PhaseKind(
        key="budget.proposals",
        label=_("proposals"),
        features=frozenset({"idea.create", "comment", "support"}),
        invitation=_(
            "Propose what the budget should pay for, comment on and support the proposals of others."
        ),
        order=21,
    ),
    registry.PhaseKind(
        key="budget.feasibility",
        label=_("feasibility check"),
        features=frozenset(),
        invitation=_(
            "The city estimates the cost of each proposal and checks whether it can be done, "
            "with a public reason."
        ),
        order=41,
    ),
    registry.PhaseKind(
        key="budget.voting",
        label=_("voting"),
        features=frozenset({VOTE}),
        invitation=_("Vote on the feasible proposals: online, at a polling station or by post."),
        order=45,
    ),
    registry.PhaseKind(
        key="budget.results",
        label=_("results of the vote"),
        features=frozenset(),
        invitation=_("See which proposals won, why, and check that your ballot was counted."),
        order=51,
    ),
    registry.PhaseKind(
        key="budget.implementation",
        label=_("implementation"),
        features=frozenset(),
        invitation=_("Follow how the winning proposals are put into practice."),
        order=60,
    ),
)

PROCESS_KINDS = (
    registry.ProcessKind(
        key=PROCESS_KIND,
        label=_("Participatory budget"),
        phase_kinds=(
            "information",
            "budget.proposals",
            "budget.feasibility",
            "budget.voting",
            "budget.results",
            "budget.implementation",
        ),
        description=_(
            "Residents propose projects, the city checks them, everybody eligible votes, the "
            "winners are implemented."
        ),
        order=30,
    ),
)
