"""The back-office section "Entscheidungen": who may use it, decisions, proposals from ideas or by
hand with their feasibility check, a poll's answers, and what is frozen once voting begins."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from herzstadt.decisions.models import Decision, Feasibility, PollOption, Proposal
from herzstadt.participation import services
from tests.conftest import bo_url, login
from tests.decisions.ballotkit import HOUR, make_decision
from tests.factories import make_process

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 302),
        ("citizen", 403),
        ("moderator", 403),
        ("other_staff", 403),
        ("staff", 200),
    ],
)
def test_only_the_citys_staff_manage_decisions(client, city, actors, actor, expected):
    decision = make_decision(city)
    login(client, actors[actor])
    for name, kwargs in (
        ("decisions", {}),
        ("decisions-new", {}),
        ("decisions-edit", {"slug": decision.slug}),
        ("decisions-proposals", {"slug": decision.slug}),
        ("decisions-proposal-edit", {"slug": decision.slug, "number": 1}),
    ):
        assert client.get(bo_url(name, **kwargs)).status_code == expected, name


def _form(**changes):
    now = timezone.localtime()
    data = {
        "kind": "budget",
        "slug": "buergerbudget-2027",
        "title": "Bürgerbudget 2027",
        "budget_eur": "100000",
        "ballot_style": "knapsack",
        "counting_rule": "mes",
        "opens_at": (now + dt.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + dt.timedelta(days=20)).strftime("%Y-%m-%dT%H:%M"),
        "results_at": (now + dt.timedelta(days=21)).strftime("%Y-%m-%dT%H:%M"),
        "min_age": "14",
        "channel_web": "on",
        "channel_code": "on",
        "is_published": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_staff_create_a_decision_with_a_secret_salt(client, city, actors):
    login(client, actors["staff"])
    response = client.post(bo_url("decisions-new"), _form())
    assert response.status_code == 302
    decision = Decision.objects.get(slug="buergerbudget-2027")
    assert decision.city == city and len(decision.salt) == 64
    assert decision.salt not in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"budget_eur": ""}, "budget_eur"),
        ({"results_at": "2020-01-01T00:00"}, "results_at"),
        ({"channel_web": None, "channel_code": None}, None),
    ],
)
def test_a_decision_that_makes_no_sense_is_refused(client, city, actors, changes, field):
    login(client, actors["staff"])
    response = client.post(bo_url("decisions-new"), _form(**changes))
    assert response.status_code == 200 and not Decision.objects.exists()
    assert 'role="alert"' in response.content.decode() or "error" in response.content.decode()


def test_the_ballot_is_frozen_once_someone_voted(client, city, actors):
    from herzstadt.decisions import voting
    from tests.decisions.ballotkit import make_electors

    decision = make_decision(city)
    [elector] = make_electors(decision, 1)
    voting.cast(decision, elector, {"1": 1}, "web")
    login(client, actors["staff"])
    edit = bo_url("decisions-edit", slug=decision.slug)
    form = _form(
        slug=decision.slug, title="Neu", budget_eur="5", ballot_style="points", total_points="5"
    )
    assert client.post(edit, form).status_code == 302
    decision.refresh_from_db()
    assert (
        decision.title == "Neu"
        and decision.budget_eur == 30000
        and decision.ballot_style == "approval"
    )
    # proposals are fixed from the opening
    response = client.post(
        bo_url("decisions-proposal-edit", slug=decision.slug, number=1),
        {"number": "1", "title": "Anders", "cost_eur": "1", "feasibility": "feasible"},
    )
    assert response.status_code == 400
    assert Proposal.objects.get(decision=decision, number=1).title != "Anders"


def test_proposals_from_the_processs_ideas_then_the_feasibility_check(
    client, city, actors, make_user
):
    process = make_process(
        city, slug="buergerbudget", phases=("budget.proposals",), active="budget.proposals"
    )
    process.kind = "budget"
    process.save(update_fields=["kind"])
    author = make_user()
    bench = services.post_idea(author, process, title="Bänke am Kesselhaus", body="Zum Ausruhen.")
    lift = services.post_idea(author, process, title="Seilbahn", body="Zum Bahnhof.")
    decision = make_decision(
        city, proposals=(), process=process, opens=10 * HOUR, closes=20 * HOUR, results=30 * HOUR
    )
    login(client, actors["staff"])
    page = client.get(bo_url("decisions-proposals", slug=decision.slug)).content.decode()
    assert "Bänke am Kesselhaus" in page and "Seilbahn" in page
    response = client.post(
        bo_url("decisions-proposals", slug=decision.slug), {"ideas": [str(bench.pk), str(lift.pk)]}
    )
    assert response.status_code == 302
    made = list(Proposal.objects.filter(decision=decision).order_by("number"))
    assert [(p.number, p.idea_id, p.feasibility) for p in made] == [
        (1, bench.pk, Feasibility.PENDING),
        (2, lift.pk, Feasibility.PENDING),
    ] or {p.idea_id for p in made} == {bench.pk, lift.pk}
    edit = bo_url("decisions-proposal-edit", slug=decision.slug, number=made[1].number)
    refused = client.post(
        edit,
        {
            "number": made[1].number,
            "title": made[1].title,
            "cost_eur": "900000",
            "feasibility": "not_feasible",
        },
    )
    assert refused.status_code == 400
    ok = client.post(
        edit,
        {
            "number": made[1].number,
            "title": made[1].title,
            "cost_eur": "900000",
            "feasibility": "not_feasible",
            "feasibility_reason": "Weit über dem Budget.",
        },
    )
    assert ok.status_code == 302
    assert Proposal.objects.get(pk=made[1].pk).feasibility_reason == "Weit über dem Budget."
    # no idea twice
    page = client.get(bo_url("decisions-proposals", slug=decision.slug)).content.decode()
    assert 'name="ideas"' not in page


def test_a_proposal_by_hand(client, city, actors):
    decision = make_decision(city, proposals=(), opens=HOUR, closes=2 * HOUR, results=3 * HOUR)
    login(client, actors["staff"])
    assert (
        'value="1"'
        in client.get(bo_url("decisions-proposal-new", slug=decision.slug)).content.decode()
    )
    response = client.post(
        bo_url("decisions-proposal-new", slug=decision.slug),
        {"number": "1", "title": "Trinkbrunnen", "cost_eur": "8000", "feasibility": "feasible"},
    )
    assert response.status_code == 302
    assert Proposal.objects.get(decision=decision).city == city


def test_a_polls_answers(client, city, actors):
    decision = make_decision(
        city, kind="poll", options=(), opens=HOUR, closes=2 * HOUR, results=3 * HOUR
    )
    login(client, actors["staff"])
    page = bo_url("decisions-options", slug=decision.slug)
    assert client.post(page, {"answers": "Ja\n"}).status_code == 400
    assert client.post(page, {"answers": "Ja\nNein\n\n"}).status_code == 302
    assert list(PollOption.objects.filter(decision=decision).values_list("number", "label")) == [
        (1, "Ja"),
        (2, "Nein"),
    ]


def test_another_citys_decision_is_not_found(client, city, other_city, actors):
    decision = make_decision(other_city)
    login(client, actors["staff"])
    assert client.get(bo_url("decisions-edit", slug=decision.slug)).status_code == 404
