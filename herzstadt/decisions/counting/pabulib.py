"""The pabulib ``.pb`` file of a vote (Faliszewski et al., "Participatory Budgeting: Data, Tools, and
Analysis", pabulib.org): what the results page publishes so that anyone can recompute the result.

Three sections separated by ``;``: ``META`` (key;value), ``PROJECTS`` (project_id;cost;votes[;score];name)
and ``VOTES`` (voter_id;vote[;points]). The file carries NO voter identity: voter ids are 1..n in the
order the ballots are handed in — the caller shuffles them first (``secrets.SystemRandom().shuffle``),
so that the order says nothing about who voted when — and a vote lists its projects in the instance's
order, never in the order a voter clicked them. Nothing else about a voter (age, district, channel)
is written.

Styles map to pabulib's vote types: approval → ``approval`` (``max_length`` = N when given in ``meta``),
knapsack → ``approval`` with ``max_sum_cost`` = the budget, points → ``cumulative`` (``max_sum_points``
= K when given in ``meta``). :func:`style_of` maps them back.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from fractions import Fraction

from .model import Ballot, Instance, Project
from .styles import STYLES

# Known pabulib keys first, in the order pabulib's files use; any others follow, sorted.
_META_ORDER = (
    "description",
    "country",
    "unit",
    "subunit",
    "instance",
    "district",
    "comment",
    "num_projects",
    "num_votes",
    "budget",
    "vote_type",
    "rule",
    "date_begin",
    "date_end",
    "min_length",
    "max_length",
    "min_sum_cost",
    "max_sum_cost",
    "min_points",
    "max_points",
    "min_sum_points",
    "max_sum_points",
    "language",
    "currency",
    "edition",
)


def _clean(value: object) -> str:
    return " ".join(str(value).split())


def write_pb(
    instance: Instance,
    ballots: Sequence[Ballot],
    *,
    meta: Mapping[str, str],
    style: str,
) -> str:
    """The ``.pb`` text of these ballots. ``meta`` carries pabulib's descriptive keys (description,
    country, unit, instance, rule, date_begin, date_end, currency, max_length, max_sum_points …);
    num_projects, num_votes, budget and vote_type are computed (and override ``meta``), and so is
    max_sum_cost for knapsack. Empty ballots are refused (``ValueError``): the styles never make one."""
    try:
        ballot_style = STYLES[style]
    except KeyError:
        raise ValueError(f"unknown ballot style {style!r}") from None
    checked = [ballot_style.check_counted(instance, b) for b in ballots]
    if any(not b for b in checked):
        raise ValueError("an empty ballot cannot be written to a pabulib file")

    values = {_clean(k): _clean(v) for k, v in meta.items()}
    values["num_projects"] = str(len(instance.projects))
    values["num_votes"] = str(len(checked))
    values["budget"] = str(instance.budget)
    values["vote_type"] = "cumulative" if ballot_style.cardinal else "approval"
    if style == "knapsack":
        values["max_sum_cost"] = str(instance.budget)
    values.setdefault("currency", "EUR")
    keys = [k for k in _META_ORDER if k in values] + sorted(set(values) - set(_META_ORDER))

    votes = dict.fromkeys(instance.ids, 0)
    points = dict.fromkeys(instance.ids, 0)
    for ballot in checked:
        for pid, given in ballot.items():
            votes[pid] += 1
            points[pid] += given

    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\n")
    w.writerow(["META"])
    w.writerow(["key", "value"])
    for key in keys:
        w.writerow([key, values[key]])
    w.writerow(["PROJECTS"])
    w.writerow(
        ["project_id", "cost", "votes", *(["score"] if ballot_style.cardinal else []), "name"]
    )
    for p in instance.projects:
        score = [str(points[p.id])] if ballot_style.cardinal else []
        w.writerow([p.id, str(p.cost), str(votes[p.id]), *score, _clean(p.name)])
    w.writerow(["VOTES"])
    w.writerow(["voter_id", "vote", *(["points"] if ballot_style.cardinal else [])])
    for number, ballot in enumerate(checked, start=1):
        chosen = [pid for pid in instance.ids if pid in ballot]
        row = [str(number), ",".join(chosen)]
        if ballot_style.cardinal:
            row.append(",".join(str(ballot[pid]) for pid in chosen))
        w.writerow(row)
    return out.getvalue()


def _whole(text: str, what: str) -> int:
    try:
        value = Fraction(text.strip().replace(",", "."))
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{what}: not a number: {text!r}") from None
    if value.denominator != 1:
        raise ValueError(f"{what}: not a whole number: {text!r}")
    return int(value)


def read_pb(text: str) -> tuple[Instance, list[Ballot], dict[str, str]]:
    """The instance, the ballots (in file order) and the META of a ``.pb`` text with vote type
    approval, cumulative or scoring and whole costs and points; ``ValueError`` for anything else."""
    section = ""
    header: list[str] = []
    meta: dict[str, str] = {}
    projects: list[Project] = []
    rows: list[dict[str, str]] = []
    reader = csv.reader(text.lstrip("\ufeff").splitlines(), delimiter=";")
    for row in reader:
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        head = row[0].strip().lower()
        if head in ("meta", "projects", "votes") and not any(c.strip() for c in row[1:]):
            section = head
            header = [h.strip() for h in next(reader, [])]
            continue
        if not section:
            raise ValueError("a pabulib file starts with its META section")
        if len(row) > len(header):
            raise ValueError(f"{section}: a row has more fields than the header: {row!r}")
        fields = {header[i]: row[i].strip() for i in range(len(row))}
        if section == "meta":
            meta[row[0].strip()] = row[1].strip() if len(row) > 1 else ""
        elif section == "projects":
            name = fields.get("name", "")
            projects.append(
                Project(
                    id=fields["project_id"],
                    cost=_whole(fields["cost"], f"cost of {fields['project_id']}"),
                    name="" if name.lower() == "none" else name,
                )
            )
        else:
            rows.append(fields)

    vote_type = meta.get("vote_type", "")
    if vote_type not in ("approval", "cumulative", "scoring"):
        raise ValueError(f"vote_type {vote_type!r} is not one this reader counts")
    instance = Instance(budget=_whole(meta.get("budget", ""), "budget"), projects=tuple(projects))
    known = set(instance.ids)
    ballots: list[Ballot] = []
    for fields in rows:
        vote = fields.get("vote", "")
        ids = [] if vote.lower() in ("", "none") else [s.strip() for s in vote.split(",")]
        if len(set(ids)) != len(ids) or not set(ids) <= known:
            raise ValueError(
                f"voter {fields.get('voter_id')}: unknown or repeated project in {vote!r}"
            )
        if vote_type == "approval":
            ballots.append(dict.fromkeys(ids, 1))
            continue
        given = fields.get("points", "")
        pts = [] if given.lower() in ("", "none") else given.split(",")
        if len(pts) != len(ids):
            raise ValueError(f"voter {fields.get('voter_id')}: as many points as projects, please")
        ballot: dict[str, int] = {}
        for pid, p in zip(ids, pts, strict=True):
            value = _whole(p, f"points of voter {fields.get('voter_id')}")
            if value < 0:
                raise ValueError(f"voter {fields.get('voter_id')}: negative points")
            if value:
                ballot[pid] = value
        ballots.append(ballot)
    for key, actual in (("num_projects", len(projects)), ("num_votes", len(ballots))):
        if key in meta and _whole(meta[key], key) != actual:
            raise ValueError(f"{key} is {meta[key]}, the file has {actual}")
    return instance, ballots, meta


def style_of(meta: Mapping[str, str]) -> str:
    """The ballot style a ``.pb`` file's META describes: points, knapsack or approval."""
    if meta.get("vote_type") in ("cumulative", "scoring"):
        return "points"
    if meta.get("max_sum_cost") and meta.get("max_sum_cost") == meta.get("budget"):
        return "knapsack"
    return "approval"
