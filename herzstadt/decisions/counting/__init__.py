"""The decision mathematics of participatory budgets: ballot styles, counting rules (greedy, Method of
Equal Shares with completion) and the pabulib ``.pb`` file. Framework-free: no Django here.

See docs/voting.md, "Counting rules".
"""

from .model import (
    Ballot,
    BallotError,
    Explanation,
    Instance,
    Outcome,
    Project,
    Round,
    money,
)
from .pabulib import read_pb, style_of, write_pb
from .rules import RULES, CountingRule, EqualSharesRule, GreedyRule
from .styles import (
    STYLES,
    ApprovalStyle,
    BallotStyle,
    KnapsackStyle,
    PointsStyle,
    choice_from_ids,
)

__all__ = [
    "RULES",
    "STYLES",
    "ApprovalStyle",
    "Ballot",
    "BallotError",
    "BallotStyle",
    "CountingRule",
    "EqualSharesRule",
    "Explanation",
    "GreedyRule",
    "Instance",
    "KnapsackStyle",
    "Outcome",
    "PointsStyle",
    "Project",
    "Round",
    "choice_from_ids",
    "money",
    "read_pb",
    "style_of",
    "write_pb",
]
