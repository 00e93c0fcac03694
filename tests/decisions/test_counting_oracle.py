"""Greedy and equal shares (with completion) agree exactly with pabutools, the reference
implementation (a dev-only test oracle, tests/decisions/oracle.py), on generated instances, and
pabutools' own pabulib parser reads our .pb files to the same result."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pabutools.election.pabulib import parse_pabulib_from_string

from herzstadt.decisions.counting import RULES, EqualSharesRule, Instance, Project, write_pb
from tests.conftest import DATABASE_INDEPENDENT

from .oracle import assert_agrees_with_pabutools, oracle

pytestmark = DATABASE_INDEPENDENT


@st.composite
def elections(draw, style: str):
    """An instance (1–12 projects, costs 1–60 with frequent equal costs for ties, any budget from 1
    to more than everything costs) and 0–60 ballots of the style (possibly empty ones)."""
    m = draw(st.integers(1, 12))
    costs = draw(
        st.lists(
            st.one_of(st.integers(1, 60), st.sampled_from([10, 20, 30])), min_size=m, max_size=m
        )
    )
    projects = tuple(Project(f"p{i}", c, name=f"Vorschlag {i}") for i, c in enumerate(costs))
    budget = draw(st.integers(1, sum(costs) + 10))
    inst = Instance(budget, projects)
    ids = list(inst.ids)
    n = draw(st.integers(0, 60))
    if style == "points":
        ballot = st.dictionaries(st.sampled_from(ids), st.integers(1, 5), max_size=m)
    else:
        ballot = st.lists(st.sampled_from(ids), unique=True, max_size=m).map(
            lambda chosen: dict.fromkeys(chosen, 1)
        )
    ballots = draw(st.lists(ballot, min_size=n, max_size=n))
    if style == "knapsack":  # a knapsack ballot fits the budget: drop what overflows
        fitted = []
        for b in ballots:
            total, kept = 0, {}
            for pid in b:
                if total + inst.project(pid).cost <= budget:
                    total += inst.project(pid).cost
                    kept[pid] = 1
            fitted.append(kept)
        ballots = fitted
    return inst, ballots


SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@SETTINGS
@given(elections("approval"))
def test_approval_agrees_with_pabutools(election):
    assert_agrees_with_pabutools(*election, "approval")


@SETTINGS
@given(elections("knapsack"))
def test_knapsack_agrees_with_pabutools(election):
    assert_agrees_with_pabutools(*election, "knapsack")


@SETTINGS
@given(elections("points"))
def test_points_agrees_with_pabutools(election):
    assert_agrees_with_pabutools(*election, "points")


class NoJumps(EqualSharesRule):
    jump = False  # every completion step counted, as pabutools does


@SETTINGS
@given(
    st.sampled_from(["approval", "knapsack", "points"]).flatmap(
        lambda style: st.tuples(st.just(style), elections(style))
    )
)
def test_skipping_completion_steps_changes_nothing(case):
    """The whole outcome (explanations, rounds, the kept budget per voter) is the same with the
    proven skips of EqualSharesRule.headroom as when every step is counted."""
    style, (inst, ballots) = case
    assert RULES["mes"].count(inst, ballots, style=style) == NoJumps().count(
        inst, ballots, style=style
    )


def test_a_lone_expensive_wish_does_not_take_fifty_thousand_counts():
    """One voter of 300 wants a 50,000 € project; the rest is spent on others. Completion needs
    49,667 steps of 1 € until that voter can pay it alone: skipped, with the same result."""
    inst = Instance(100_000, (Project("a", 1_000), Project("b", 50_000), Project("c", 30_000)))
    ballots = [{"a": 1, "c": 1}] * 200 + [{"a": 1}] * 99 + [{"b": 1}]
    out = RULES["mes"].count(inst, ballots)
    assert out.winners == ("a", "c", "b")
    assert (out.details["increments"], out.details["voter_budget_exact"]) == (49_667, "150001/3")
    # the same shape, small enough for pabutools to count every step
    small = Instance(1_000, (Project("a", 10), Project("b", 500), Project("c", 300)))
    few = [{"a": 1, "c": 1}] * 20 + [{"a": 1}] * 9 + [{"b": 1}]
    assert RULES["mes"].count(small, few).details["increments"] == 467
    assert_agrees_with_pabutools(small, few, "approval")


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    st.sampled_from(["approval", "knapsack", "points"]).flatmap(
        lambda style: st.tuples(st.just(style), elections(style))
    )
)
def test_pabutools_reads_our_pb_file_to_the_same_result(case):
    style, (inst, ballots) = case
    ballots = [b for b in ballots if b]  # the file holds no empty ballots
    text = write_pb(inst, ballots, meta={"description": "Test; mit Semikolon"}, style=style)
    pb_instance, profile = parse_pabulib_from_string(text)
    assert pb_instance.budget_limit == inst.budget
    assert sorted((p.name, p.cost) for p in pb_instance) == sorted(
        (p.id, p.cost) for p in inst.projects
    )
    assert profile.num_ballots() == len(ballots)
    for rule in ("greedy", "mes"):
        ours = RULES[rule].count(inst, ballots, style=style)
        assert list(ours.winners) == oracle(pb_instance, profile, rule, style), rule


@pytest.mark.slow
@pytest.mark.parametrize("style", ["approval", "points"])
def test_a_city_sized_budget_agrees_with_pabutools(style):
    """The size of the demo (15 proposals, 100,000 €, 300 ballots), with skewed popularity."""
    rng = random.Random(14)
    projects = tuple(Project(f"v{i:02}", rng.randrange(3_000, 40_001, 500)) for i in range(15))
    popularity = [rng.random() for _ in projects]
    inst = Instance(100_000, projects)
    ballots = []
    for _ in range(300):
        chosen = set(rng.choices(range(15), weights=popularity, k=rng.randint(1, 5)))
        ballots.append(
            {projects[i].id: (rng.randint(1, 4) if style == "points" else 1) for i in chosen}
        )
    assert_agrees_with_pabutools(inst, ballots, style)
