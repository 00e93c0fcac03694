"""Ballot styles and counting rules on small cases computed by hand (docs/voting.md, "Counting rules")."""

from __future__ import annotations

from fractions import Fraction

import pytest

from herzstadt.decisions.counting import (
    RULES,
    STYLES,
    BallotError,
    Instance,
    Project,
    choice_from_ids,
    money,
)
from tests.conftest import DATABASE_INDEPENDENT

pytestmark = DATABASE_INDEPENDENT

greedy, mes = RULES["greedy"], RULES["mes"]


def instance(budget: int, **costs: int) -> Instance:
    return Instance(
        budget, tuple(Project(pid, cost, name=pid.upper()) for pid, cost in costs.items())
    )


def approvals(*groups: tuple[int, str]) -> list[dict[str, int]]:
    """``approvals((6, "ab"), (4, "c"))`` → 6 ballots for a and b, 4 for c."""
    return [dict.fromkeys(ids, 1) for count, ids in groups for _ in range(count)]


# --- the model -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: Project("a,b", 10),
        lambda: Project("a;b", 10),
        lambda: Project("", 10),
        lambda: Project("none", 10),
        lambda: Project("a", 0),
        lambda: Project("a", 10.5),  # type: ignore[arg-type]
        lambda: Project("a", True),  # type: ignore[arg-type]
        lambda: Instance(0, ()),
        lambda: Instance(10, (Project("a", 1), Project("a", 2))),
    ],
)
def test_invalid_instances_are_refused(make):
    with pytest.raises(ValueError):
        make()


def test_money_rounds_half_up_to_cents():
    assert money(Fraction(1, 200)) == "0.01"
    assert money(Fraction(2, 3)) == "0.67"
    assert money(Fraction(1, 3)) == "0.33"
    assert money(1471) == "1471.00"


# --- ballot styles ----------------------------------------------------------------------------------


def test_styles_registry_and_plain_labels():
    assert set(STYLES) == {"approval", "knapsack", "points"}
    assert all(s.key == k and s.label for k, s in STYLES.items())
    assert STYLES["points"].cardinal and not STYLES["approval"].cardinal


def test_approval_ballot_is_normalised_to_the_instance_order():
    inst = instance(100, a=10, b=20, c=30)
    ballot = STYLES["approval"].validate(inst, {"c": 1, "a": 1, "b": 0}, max_choices=2)
    assert ballot == {"a": 1, "c": 1}
    assert list(ballot) == ["a", "c"]  # never the order the voter clicked


@pytest.mark.parametrize(
    ("choice", "kwargs", "code", "params"),
    [
        ({}, {}, "empty", {}),
        ({"a": 0}, {}, "empty", {}),
        ({"x": 1}, {}, "unknown_project", {"project_id": "x"}),
        ({"a": 2}, {}, "invalid_points", {"project_id": "a"}),
        ({"a": -1}, {}, "invalid_points", {"project_id": "a"}),
        ({"a": True}, {}, "invalid_points", {"project_id": "a"}),
        ({"a": 1, "b": 1, "c": 1}, {"max_choices": 2}, "too_many_choices", {"chosen": 3, "max": 2}),
    ],
)
def test_approval_ballot_errors(choice, kwargs, code, params):
    with pytest.raises(BallotError) as error:
        STYLES["approval"].validate(instance(100, a=10, b=20, c=30), choice, **kwargs)
    assert (error.value.code, error.value.params) == (code, params)


def test_duplicates_in_a_submitted_list_are_refused():
    assert choice_from_ids(["a", "b"]) == {"a": 1, "b": 1}
    with pytest.raises(BallotError) as error:
        choice_from_ids(["a", "b", "a"])
    assert (error.value.code, error.value.params) == ("duplicate", {"project_id": "a"})


def test_knapsack_ballot_fits_the_budget_exactly_but_not_more():
    inst = instance(100, a=60, b=40, c=1)
    knapsack = STYLES["knapsack"]
    assert knapsack.validate(inst, {"a": 1, "b": 1}) == {"a": 1, "b": 1}
    with pytest.raises(BallotError) as error:
        knapsack.validate(inst, {"a": 1, "b": 1, "c": 1})
    assert (error.value.code, error.value.params) == ("over_budget", {"total": 101, "budget": 100})
    with pytest.raises(BallotError, match="empty"):
        knapsack.validate(inst, {})


def test_points_ballot_spends_at_most_the_points():
    inst = instance(100, a=60, b=40)
    points = STYLES["points"]
    assert points.validate(inst, {"b": 3, "a": 7}, total_points=10) == {"a": 7, "b": 3}
    assert points.validate(inst, {"a": 4, "b": 0}, total_points=10) == {"a": 4}
    with pytest.raises(BallotError) as error:
        points.validate(inst, {"a": 7, "b": 4}, total_points=10)
    assert (error.value.code, error.value.params) == ("too_many_points", {"total": 11, "max": 10})
    with pytest.raises(BallotError, match="empty"):
        points.validate(inst, {"a": 0}, total_points=10)
    with pytest.raises(BallotError, match="too_many_choices"):
        points.validate(inst, {"a": 1, "b": 1}, total_points=10, max_choices=1)
    with pytest.raises(ValueError, match="total_points"):
        points.validate(inst, {"a": 1})


# --- greedy ------------------------------------------------------------------------------------------


def test_greedy_skips_what_does_not_fit_and_exhausts_the_budget():
    inst = instance(100, a=60, b=50, c=40, d=10)
    ballots = approvals((1, "abc"), (2, "a"), (1, "b"), (1, "c"))  # a 3, b 2, c 2, d 0
    out = greedy.count(inst, ballots)
    # a (3 votes); b and c tie on 2 votes: the lower cost first → c; b no longer fits.
    assert out.winners == ("a", "c")
    assert out.spent == 100
    e = out.explanations
    assert (e["a"].won, e["a"].code, e["a"].params["rank"], e["a"].params["votes"]) == (
        True,
        "selected",
        1,
        3,
    )
    assert e["c"].params == {"rank": 2, "votes": 2, "supporters": 2, "cost": 40}
    assert (e["b"].won, e["b"].code) == (False, "over_budget")
    assert e["b"].params == {"remaining": 0, "cost": 50, "votes": 2, "supporters": 2}
    assert (e["d"].code, e["d"].params) == ("no_votes", {"cost": 10})
    assert [(r.number, r.phase, r.project_id, r.remaining) for r in out.rounds] == [
        (1, "greedy", "a", 40),
        (2, "greedy", "c", 0),
    ]


def test_greedy_by_points_ties_go_to_more_supporters_then_the_id():
    inst = instance(100, x=50, y=50, z=50)
    # x: 6 points from 2 ballots; y: 6 points from 1 ballot; z: 6 points from 2 ballots.
    ballots = [{"x": 3, "z": 3}, {"x": 3, "z": 3}, {"y": 6}]
    out = greedy.count(inst, ballots, style="points")
    assert out.winners == ("x", "z")
    assert out.explanations["y"].code == "over_budget"
    assert out.explanations["x"].params["votes"] == 6  # points, for points ballots


def test_greedy_with_no_ballots_funds_nothing():
    out = greedy.count(instance(100, a=10, b=20), [])
    assert (out.winners, out.spent, out.rounds) == ((), 0, ())
    assert {e.code for e in out.explanations.values()} == {"no_votes"}


def test_greedy_one_voter_gets_the_cheapest_first():
    out = greedy.count(instance(100, a=30, b=50, c=40), approvals((1, "abc")))
    assert out.winners == ("a", "c")


# --- equal shares ------------------------------------------------------------------------------------


def test_equal_shares_gives_the_minority_its_share():
    # 10 voters, 10 € each. Six want a (60) and b (40), four want c (40).
    inst = instance(100, a=60, b=40, c=40)
    ballots = approvals((6, "ab"), (4, "c"))
    assert greedy.count(inst, ballots).winners == ("b", "a")  # 6 votes each: b is cheaper
    out = mes.count(inst, ballots)
    # ρ(a) = ρ(b) = 1/6 (each of the six pays 10 € or 6.67 €): b, the cheaper, first. Then the six have
    # 3.33 € each, 20 € together: a (60) is out of reach; c costs the four 10 € each (ρ = 1/4).
    assert out.winners == ("b", "c")
    assert out.spent == 80
    assert out.details == {
        "voters": 10,
        "mes_spent": 80,
        "increments": 0,
        "voter_budget": "10.00",
        "voter_budget_exact": "10",
    }
    e = out.explanations
    assert e["b"].params == {
        "rank": 1,
        "votes": 6,
        "supporters": 6,
        "cost": 40,
        "price_per_vote": "6.67",
    }
    assert e["c"].params["price_per_vote"] == "10.00"
    assert (e["a"].won, e["a"].code) == (False, "mes_supporters_cannot_afford")
    assert e["a"].params == {
        "cost": 60,
        "votes": 6,
        "supporters": 6,
        "supporters_money": "20.00",
        "remaining": 20,
    }
    assert [(r.phase, r.project_id, r.remaining) for r in out.rounds] == [
        ("mes", "b", 60),
        ("mes", "c", 20),
    ]


def test_equal_shares_adds_one_euro_per_voter_until_the_budget_is_used():
    # 3 voters, 30 € each: b (50) costs voters 2 and 3 25 € each; voter 1 alone cannot pay a (40)
    # until each voter has 40 €: 10 increments, then both fit exactly.
    inst = instance(90, a=40, b=50)
    out = mes.count(inst, approvals((1, "a"), (2, "b")))
    assert out.winners == ("b", "a")
    assert out.spent == 90
    assert (out.details["increments"], out.details["voter_budget"]) == (10, "40.00")
    assert [r.phase for r in out.rounds] == ["mes", "mes"]


def test_equal_shares_keeps_the_last_affordable_run_then_completes_greedily():
    # 4 voters, 25 € each. c (30) is everyone's: 7.50 € each. a (50) wants voters 1, 2; b (50)
    # voters 3, 4: they need 25 € each after c, i.e. 32.50 € per voter. At 33 € both a and b are
    # bought (130 € > 100 €): the run at 32 € ({c}) is kept, and the completion takes a (tie with
    # b on votes, cost and supporters: the id), then b no longer fits.
    inst = instance(100, a=50, b=50, c=30)
    out = mes.count(inst, approvals((2, "ac"), (2, "bc")))
    assert out.winners == ("c", "a")
    assert (out.details["increments"], out.details["voter_budget"]) == (7, "32.00")
    assert out.details["mes_spent"] == 30
    e = out.explanations
    assert (e["c"].code, e["a"].code, e["b"].code) == (
        "selected",
        "completion",
        "mes_supporters_cannot_afford",
    )
    assert e["a"].params == {"rank": 2, "votes": 2, "supporters": 2, "cost": 50}
    assert e["b"].params["supporters_money"] == "49.00"  # 2 × (32 − 7.50)
    assert e["b"].params["remaining"] == 20
    assert [r.phase for r in out.rounds] == ["mes", "completion"]


def test_equal_shares_with_points_uses_the_points_as_benefit():
    # 2 voters, 5 € each. y (4): voter 1 gives it 1 point, voter 2 4 points: ρ = 4/5 € per point.
    # x (6) has only voter 1 (3 points): affordable once voter 1 has 6 € after paying 0.80 for y.
    inst = instance(10, x=6, y=4)
    out = mes.count(inst, [{"x": 3, "y": 1}, {"y": 4}], style="points")
    assert out.winners == ("y", "x")
    assert (out.details["increments"], out.details["voter_budget"]) == (2, "7.00")
    assert out.explanations["y"].params["price_per_vote"] == "0.80"  # per point
    assert out.explanations["x"].params["price_per_vote"] == "2.00"


def test_equal_shares_counts_empty_ballots_as_voters():
    # 2 voters (one ballot empty), 50 € each: a (60) needs 60 € from its one supporter.
    out = mes.count(instance(100, a=60), [{"a": 1}, {}])
    assert out.winners == ("a",)
    assert (out.details["voters"], out.details["voter_budget"]) == (2, "60.00")


def test_equal_shares_one_voter_and_no_voters():
    inst = instance(100, a=30, b=50, c=40)
    assert mes.count(inst, approvals((1, "abc"))).winners == ("a", "c")
    out = mes.count(inst, [])
    assert (out.winners, out.spent, out.details["voters"]) == ((), 0, 0)
    assert {e.code for e in out.explanations.values()} == {"no_votes"}


def test_equal_shares_exhausts_the_budget_exactly():
    out = mes.count(instance(100, a=50, b=50), approvals((1, "a"), (1, "b")))
    assert (out.winners, out.spent) == (("a", "b"), 100)


@pytest.mark.parametrize("rule", ["greedy", "mes"])
def test_rules_refuse_ballots_that_are_not_of_the_style(rule):
    inst = instance(100, a=10)
    with pytest.raises(ValueError, match="approval"):
        RULES[rule].count(inst, [{"a": 2}])
    with pytest.raises(ValueError):
        RULES[rule].count(inst, [{"zz": 1}])
    with pytest.raises(ValueError, match="style"):
        RULES[rule].count(inst, [{"a": 1}], style="ranking")


@pytest.mark.parametrize("rule", ["greedy", "mes"])
def test_every_project_gets_one_explanation_in_instance_order(rule):
    inst = instance(100, c=10, a=20, b=30)
    out = RULES[rule].count(inst, approvals((3, "a"), (1, "b")))
    assert list(out.explanations) == ["c", "a", "b"]
    assert {pid for pid, e in out.explanations.items() if e.won} == set(out.winners)
    assert out.rule == rule
