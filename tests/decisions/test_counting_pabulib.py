"""The pabulib .pb file: round trip, what it must not contain, and what the reader refuses."""

from __future__ import annotations

import pytest
from pabutools.election.pabulib import parse_pabulib_from_string

from herzstadt.decisions.counting import Instance, Project, read_pb, style_of, write_pb
from tests.conftest import DATABASE_INDEPENDENT

pytestmark = DATABASE_INDEPENDENT

INSTANCE = Instance(
    100_000,
    (
        Project("v01", 40_000, name='Spielplatz "Am Pfaff"; mit Schaukel'),
        Project("v02", 25_000, name="Bäume\nfür die Halle"),
        Project("v03", 60_000, name="none of the above"),
    ),
)
META = {
    "description": "Bürgerbudget Pfaff-Areal",
    "country": "Germany",
    "unit": "Kaiserslautern",
    "instance": "2026",
    "rule": "greedy",
    "date_begin": "01.11.2026",
    "date_end": "30.11.2026",
    "language": "de",
}


@pytest.mark.parametrize(
    ("style", "ballots", "extra"),
    [
        ("approval", [{"v01": 1, "v02": 1}, {"v03": 1}, {"v02": 1}], {"max_length": "2"}),
        ("knapsack", [{"v01": 1, "v02": 1}, {"v03": 1, "v02": 1}], {}),
        ("points", [{"v01": 7, "v03": 3}, {"v02": 10}, {"v01": 1}], {"max_sum_points": "10"}),
    ],
)
def test_round_trip_and_pabutools_reads_it(style, ballots, extra):
    text = write_pb(INSTANCE, ballots, meta={**META, **extra}, style=style)
    instance, read, meta = read_pb(text)
    assert instance.budget == INSTANCE.budget
    assert [(p.id, p.cost) for p in instance.projects] == [
        (p.id, p.cost) for p in INSTANCE.projects
    ]
    assert instance.projects[0].name == 'Spielplatz "Am Pfaff"; mit Schaukel'
    assert instance.projects[1].name == "Bäume für die Halle"  # one line per project
    assert read == ballots
    assert style_of(meta) == style
    assert meta["num_votes"] == str(len(ballots)) and meta["budget"] == "100000"
    assert meta["description"] == "Bürgerbudget Pfaff-Areal"

    pb_instance, profile = parse_pabulib_from_string(text)
    assert pb_instance.budget_limit == 100_000
    assert {p.name: p.cost for p in pb_instance} == {"v01": 40_000, "v02": 25_000, "v03": 60_000}
    as_read = [{p.name: (int(b[p]) if style == "points" else 1) for p in b} for b in profile]
    assert as_read == ballots


def test_the_file_carries_no_voter_identity_and_no_click_order():
    ballots = [{"v03": 1, "v01": 1}, {"v02": 1}]  # v03 clicked before v01
    text = write_pb(INSTANCE, ballots, meta=META, style="approval")
    votes = text.split("VOTES\n", 1)[1].splitlines()
    assert votes == ["voter_id;vote", "1;v01,v03", "2;v02"]
    points = write_pb(INSTANCE, [{"v03": 2, "v01": 5}], meta=META, style="points")
    assert points.split("VOTES\n", 1)[1].splitlines() == ["voter_id;vote;points", "1;v01,v03;5,2"]


def test_meta_is_sanitised_and_structural_keys_are_computed():
    text = write_pb(
        INSTANCE,
        [{"v01": 1}],
        meta={"description": "zwei\nZeilen", "num_votes": "999", "budget": "1", "x_extra": "ja"},
        style="knapsack",
    )
    _, _, meta = read_pb(text)
    assert meta["description"] == "zwei Zeilen"
    assert (meta["num_votes"], meta["budget"], meta["max_sum_cost"]) == ("1", "100000", "100000")
    assert (meta["vote_type"], meta["currency"], meta["x_extra"]) == ("approval", "EUR", "ja")
    assert text.startswith("META\nkey;value\ndescription;zwei Zeilen\n")


def test_empty_ballots_and_invalid_ballots_are_not_written():
    with pytest.raises(ValueError, match="empty"):
        write_pb(INSTANCE, [{"v01": 1}, {}], meta=META, style="approval")
    with pytest.raises(ValueError):
        write_pb(INSTANCE, [{"v09": 1}], meta=META, style="approval")
    with pytest.raises(ValueError, match="style"):
        write_pb(INSTANCE, [{"v01": 1}], meta=META, style="ranking")


GOOD = """META
key;value
num_projects;2
num_votes;2
budget;100
vote_type;{vote_type}
PROJECTS
project_id;cost;name
a;{cost};A
b;50;B
VOTES
voter_id;vote;points
1;{vote};{points}
2;b;1
"""


def pb(vote_type="approval", cost="60", vote="a", points="1"):
    return GOOD.format(vote_type=vote_type, cost=cost, vote=vote, points=points)


def test_reader_accepts_pabulib_files_of_other_tools():
    instance, ballots, meta = read_pb("\ufeff" + pb(vote_type="scoring", vote="a,b", points="3,0"))
    assert instance.budget == 100 and instance.ids == ("a", "b")
    assert ballots == [{"a": 3}, {"b": 1}]  # zero points: no support
    assert style_of(meta) == "points"
    _, ballots, _ = read_pb(pb(cost="60.0").replace("VOTES\n", "VOTES;;\n"))
    assert ballots == [{"a": 1}, {"b": 1}]


@pytest.mark.parametrize(
    "text",
    [
        pb(vote_type="ordinal"),
        pb(cost="60.5"),
        pb(cost="0"),
        pb(vote="a,zz"),
        pb(vote="a,a"),
        pb(vote_type="cumulative", vote="a,b", points="1"),
        pb(vote_type="cumulative", points="-1"),
        pb().replace("num_votes;2", "num_votes;3"),
        pb().replace("budget;100", "budget;lots"),
        "key;value\n",
    ],
)
def test_reader_refuses_what_it_cannot_count(text):
    with pytest.raises(ValueError):
        read_pb(text)
