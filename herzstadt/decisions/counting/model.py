"""The values of the decision mathematics: an instance (budget and projects), ballots as counted, and
the outcome of a counting rule with one explanation per project.

Framework-free (no Django): the pillar's models and views convert to and from these. Every value here
is immutable; money is in whole euros (``int``) except where a rule divides it (equal shares), where
the exact rational is kept internally and published as a string with two decimals (:func:`money`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

# A ballot as counted: {project_id: points}. Approval and knapsack ballots give 1 to each chosen
# project; points ballots give the points (> 0). Projects with 0 points are simply absent.
Ballot = Mapping[str, int]

# Project ids go into the pabulib file's ``vote`` column (comma-separated) of a ``;``-separated file,
# and pabulib readers treat the value "none" as missing: so letters, digits and ``_ . : -`` only.
PROJECT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}")

# A value in ``params``: what a results page needs to fill in its translated sentence. JSON-friendly.
Param = int | str


def money(value: Fraction | int) -> str:
    """An exact amount of euros as a string with two decimals, rounded half up ("1234.57")."""
    value = Fraction(value)
    cents = Decimal(value.numerator) * 100 / Decimal(value.denominator)
    return str((cents.quantize(Decimal(1), rounding=ROUND_HALF_UP) / 100).quantize(Decimal("0.01")))


@dataclass(frozen=True)
class Project:
    """A proposal on the ballot. ``cost`` in whole euros, > 0; ``id`` matches :data:`PROJECT_ID`."""

    id: str
    cost: int
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not PROJECT_ID.fullmatch(self.id):
            raise ValueError(f"project id {self.id!r}: letters, digits and _ . : - only (≤ 100)")
        if self.id.lower() == "none":
            raise ValueError("project id 'none' is reserved by the pabulib format")
        if isinstance(self.cost, bool) or not isinstance(self.cost, int) or self.cost <= 0:
            raise ValueError(f"project {self.id}: the cost must be a whole number of euros > 0")


@dataclass(frozen=True)
class Instance:
    """What is decided: the budget (whole euros, > 0) and the projects (ids unique), in the order the
    ballot shows them (that order never matters for the count)."""

    budget: int
    projects: tuple[Project, ...]
    _by_id: dict[str, Project] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.budget, bool) or not isinstance(self.budget, int) or self.budget <= 0:
            raise ValueError("the budget must be a whole number of euros > 0")
        object.__setattr__(self, "projects", tuple(self.projects))
        object.__setattr__(self, "_by_id", {p.id: p for p in self.projects})
        if len(self._by_id) != len(self.projects):
            raise ValueError("project ids must be unique")

    def project(self, project_id: str) -> Project:
        """The project with this id (``KeyError`` if there is none)."""
        return self._by_id[project_id]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.projects)


class BallotError(ValueError):
    """A ballot that its style does not allow. ``code`` and ``params`` let the caller build the
    translated message (codes: ``empty``, ``unknown_project``, ``invalid_points``, ``duplicate``,
    ``too_many_choices``, ``over_budget``, ``too_many_points``)."""

    def __init__(self, code: str, **params: Param) -> None:
        super().__init__(f"{code}: {params}" if params else code)
        self.code = code
        self.params: dict[str, Param] = dict(params)


@dataclass(frozen=True)
class Explanation:
    """Why one project won or lost, as a code and the numbers for the sentence.

    Codes: ``selected`` (greedy, or equal shares proper), ``completion`` (won in the completion step
    of equal shares), ``over_budget`` (greedy: did not fit the money left), ``mes_supporters_cannot_afford``
    (equal shares: its supporters' money was not enough, and it did not fit in the completion), and
    ``no_votes`` (nobody voted for it). See docs/voting.md, "Counting rules", for every ``params`` key.
    """

    project_id: str
    won: bool
    code: str
    params: dict[str, Param] = field(default_factory=dict)


@dataclass(frozen=True)
class Round:
    """One pick of a rule, in order: ``phase`` is ``greedy``, ``mes`` or ``completion``; ``remaining``
    is the real budget left after the pick; ``params`` carries the price for ``mes`` rounds."""

    number: int
    phase: str
    project_id: str
    cost: int
    votes: int
    supporters: int
    remaining: int
    params: dict[str, Param] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """The result of a counting rule: the winners in selection order, what they cost, one explanation
    per project (every project of the instance) and the picks. ``details`` describes the run (for equal
    shares: ``voters``, ``voter_budget`` used, ``increments``)."""

    rule: str
    winners: tuple[str, ...]
    spent: int
    explanations: dict[str, Explanation]
    rounds: tuple[Round, ...]
    details: dict[str, Param] = field(default_factory=dict)
