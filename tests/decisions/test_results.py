"""Results and accountability: freezing at ``results_at`` (once), the results page with both rules and
reasons, turnout with groups under 10 suppressed, the ``.pb`` download, winners → measures and the
measure page's panel, the back office's permissions, and polls."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from tests.conftest import bo_url, login

pytestmark = pytest.mark.django_db

_n = itertools.count(1)

#: (title, cost, feasible)
PROPOSALS = [
    ("Trinkbrunnen", 6000, True),
    ("Fahrradbügel", 18000, True),
    ("Hochbeete", 4000, True),
    ("Wasserspielplatz", 30000, True),
    ("Seilbahn", 40000, False),
]


def _url(name: str, slug: str, lang: str = "de") -> str:
    with translation.override(lang):
        return reverse(f"decisions:{name}", kwargs={"slug": slug})


def make_decision(city, kind="budget", **fields):
    from herzstadt.decisions import eligibility  # noqa: F401 - its pre_save hook gives the salt
    from herzstadt.decisions.models import Decision, PollOption, Proposal

    now = timezone.now()
    n = next(_n)
    values = {
        "city": city,
        "kind": kind,
        "slug": f"budget-{n}",
        "title": f"Bürgerbudget {n}",
        "budget_eur": 50_000 if kind == "budget" else None,
        "ballot_style": "approval",
        "max_choices": 3,
        "counting_rule": "mes",
        "opens_at": now - dt.timedelta(days=7),
        "closes_at": now + dt.timedelta(hours=1),
        "results_at": now + dt.timedelta(hours=2),
        "is_published": True,
        "question": "Ja oder nein?" if kind == "poll" else "",
    }
    values.update(fields)
    decision = Decision.objects.create(**values)
    if kind == "budget":
        for number, (title, cost, feasible) in enumerate(PROPOSALS, start=1):
            Proposal.objects.create(
                city=city,
                decision=decision,
                number=number,
                title=title,
                cost_eur=cost,
                feasibility="feasible" if feasible else "not_feasible",
                feasibility_reason="" if feasible else "Zu teuer für das Bürgerbudget.",
            )
    else:
        for number, label in enumerate(["Ja", "Nein"], start=1):
            PollOption.objects.create(city=city, decision=decision, number=number, label=label)
    return decision


def vote(decision, choices, channel="code"):
    """Cast each choice through ``voting.cast`` for a new elector; returns the receipts."""
    from herzstadt.decisions import voting
    from herzstadt.decisions.models import Elector

    receipts = []
    for choice in choices:
        elector = Elector.objects.create(city=decision.city, decision=decision)
        receipts.append(voting.cast(decision, elector, choice, channel))
    return receipts


def close(decision, results_due=True):
    """Voting closes now; the results are due now (or in an hour)."""
    from herzstadt.decisions.models import Decision

    now = timezone.now()
    Decision.objects.filter(pk=decision.pk).update(
        closes_at=now - dt.timedelta(seconds=1),
        results_at=now - dt.timedelta(seconds=1) if results_due else now + dt.timedelta(hours=1),
    )
    decision.refresh_from_db()
    return decision


#: 12 ballots: 1+2 six times, 3 four times, 4 twice
BALLOTS = [{"1": 1, "2": 1}] * 6 + [{"3": 1}] * 4 + [{"4": 1, "1": 1}] * 2


@pytest.fixture
def budget(city):
    decision = make_decision(city)
    vote(decision, BALLOTS)
    return decision


def test_nothing_before_results_at(client, budget):
    from herzstadt.decisions import results

    assert results.results_for(budget) is None  # still open
    close(budget, results_due=False)
    assert results.results_for(budget) is None  # closed, but not due
    with pytest.raises(results.ResultsError) as info:
        results.publish(budget)
    assert info.value.code == "not_due"
    assert results.publish_due() == 0
    page = client.get(_url("results", budget.slug))
    assert page.status_code == 200
    assert page.context["results"] is None
    assert client.get(_url("results-pb", budget.slug)).status_code == 404
    budget.refresh_from_db()
    assert budget.results is None


def test_frozen_once_with_both_rules(budget):
    from herzstadt.decisions import log, results
    from herzstadt.decisions.models import Ballot, Decision

    close(budget)
    data = results.publish(budget)
    assert data["ballots"] == 12 and data["voted"] == 12 and data["electors"] == 12
    assert set(data["rules"]) == {"mes", "greedy"}
    # the tally on the page is the log's tally
    entries = [log.as_entry(b) for b in Ballot.objects.filter(decision=budget).order_by("seq")]
    tally = log.tally(entries)
    assert {p["id"]: p["votes"] for p in data["projects"] if p["votes"]} == tally
    assert data["log"] == {"length": 12, "head": log.verify_chain(entries), "verified": True}
    # greedy: 1 (8 votes), 2 (6), 3 (4); 4 (2 votes, 30,000 €) no longer fits the 22,000 € left
    assert data["rules"]["greedy"]["winners"] == ["1", "2", "3"]
    assert data["rules"]["greedy"]["explanations"]["4"]["code"] == "over_budget"
    # the infeasible proposal is not on the ballot
    assert [p["id"] for p in data["projects"]] == ["1", "2", "3", "4"]
    # a second publication (another worker, a stale copy) changes nothing
    stale = Decision.objects.get(pk=budget.pk)
    stale.results = None
    assert results.publish(stale)["computed_at"] == data["computed_at"]
    assert results.publish_due() == 0


def test_worker_publishes_due_results(budget):
    from herzstadt.decisions import results
    from herzstadt.decisions.models import Decision

    close(budget)
    assert results.publish_due() == 1
    assert Decision.objects.get(pk=budget.pk).results["ballots"] == 12


def test_broken_chain_is_not_published(budget):
    from herzstadt.decisions import results
    from herzstadt.decisions.models import Ballot

    close(budget)
    from herzstadt.decisions import log

    log.flush(budget)
    entry = Ballot.objects.filter(decision=budget).order_by("seq").first()
    entry.choice = {"4": 1}
    entry.save(update_fields=["choice"])
    assert results.results_for(budget) is None
    with pytest.raises(results.ResultsError) as info:
        results.publish(budget)
    assert info.value.code == "chain_broken"
    budget.refresh_from_db()
    assert budget.results is None


def test_results_page_explains_both_rules(client, budget):
    close(budget)
    page = client.get(_url("results", budget.slug))
    assert page.status_code == 200
    rows = {r["id"]: r for r in page.context["rows"]}
    assert page.context["rule"] == "mes" and page.context["other"] == "greedy"
    assert rows["1"]["won"] and rows["1"]["other_won"]
    assert all(r["why"] and r["other_why"] for r in rows.values())
    html = page.content.decode()
    assert "Seilbahn" in html and "Zu teuer für das Bürgerbudget." in html  # not feasible + reason
    assert "Methode der gleichen Anteile" in html or "Method of Equal Shares" in html
    assert _url("results-pb", budget.slug) in html
    english = client.get(_url("results", budget.slug, "en"))
    assert "Chosen" in english.content.decode()


def test_turnout_suppresses_groups_under_ten(client, city):
    from herzstadt.decisions.models import Elector

    decision = make_decision(city)
    vote(decision, [{"1": 1}] * 9, channel="code")
    vote(decision, [{"2": 1}] * 3, channel="booth")
    Elector.objects.bulk_create(
        [Elector(city=city, decision=decision) for _ in range(20)]
    )  # eligible, did not vote
    close(decision)
    turnout = client.get(_url("results", decision.slug)).context["turnout"]
    assert turnout["electors"] == 32 and turnout["voted"] == 12 and turnout["ballots"] == 12
    channels = {c["key"]: c["count"] for c in turnout["channels"]}
    assert channels == {"web": None, "booth": None, "postal": 0}  # 9 and 3: "fewer than 10"
    assert turnout["share"] is not None

    small = make_decision(city)
    vote(small, [{"1": 1}] * 4)
    close(small)
    page = client.get(_url("results", small.slug))
    assert page.context["turnout"]["voted"] is None and page.context["turnout"]["share"] is None
    assert "fewer than 10" in client.get(_url("results", small.slug, "en")).content.decode()


def test_pb_download_recomputes_the_result(client, budget):
    from herzstadt.decisions import counting

    close(budget)
    response = client.get(_url("results-pb", budget.slug))
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.pb"')
    text = response.content.decode()
    instance, ballots, meta = counting.read_pb(text)
    assert meta["log_head"] == budget.log_head or meta["log_head"]
    assert sorted(sorted(b) for b in ballots) == sorted(sorted(b) for b in BALLOTS)
    assert [line.split(";")[0] for line in text.split("VOTES\n")[1].splitlines()[1:]] == [
        str(i) for i in range(1, 13)
    ]
    budget.refresh_from_db()
    for rule in ("mes", "greedy"):
        outcome = counting.RULES[rule].count(instance, ballots, style="approval")
        assert list(outcome.winners) == budget.results["rules"][rule]["winners"]
    assert client.get(_url("results-pb", budget.slug)).content.decode() == text  # stable


def test_unpublished_decision_is_404(client, city):
    decision = make_decision(city, is_published=False)
    close(decision)
    assert client.get(_url("results", decision.slug)).status_code == 404
    assert client.get(_url("results-pb", decision.slug)).status_code == 404


def test_backoffice_permissions(client, budget, actors):
    url = bo_url("decisions-results", slug=budget.slug)
    assert client.get(url).status_code == 302  # anonymous: sign in
    for who, status in (("citizen", 403), ("moderator", 403), ("other_staff", 403), ("staff", 200)):
        client.logout()
        login(client, actors[who])
        assert client.get(url).status_code == status, who


def test_backoffice_settings_refuse_results_before_close(client, budget, actors):
    login(client, actors["staff"])
    url = bo_url("decisions-results", slug=budget.slug)
    early = (budget.closes_at - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        url,
        {
            "action": "settings",
            "results_at": early,
            "council_resolution": "12/2026",
            "council_date": "2026-12-10",
            "council_url": "https://rat.example/12-2026",
        },
    )
    assert response.status_code == 200 and response.context["form"].errors["results_at"]
    later = (budget.closes_at + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        url,
        {
            "action": "settings",
            "results_at": later,
            "council_resolution": "12/2026",
            "council_date": "2026-12-10",
            "council_url": "https://rat.example/12-2026",
        },
    )
    assert response.status_code == 302
    budget.refresh_from_db()
    assert budget.council_resolution == "12/2026"


def test_winners_become_measures(client, budget, actors):
    from herzstadt.core.models import FieldOfAction, Measure
    from herzstadt.decisions.models import Proposal

    close(budget)
    field = FieldOfAction.objects.create(city=budget.city, slug="umwelt", name="Umwelt")
    login(client, actors["staff"])
    url = bo_url("decisions-results", slug=budget.slug)
    client.post(url, {"action": "publish"})
    budget.refresh_from_db()
    winners = budget.results["rules"]["mes"]["winners"]
    response = client.post(url, {"action": "measures", "field_of_action": field.pk})
    assert response.status_code == 302
    linked = Proposal.objects.filter(decision=budget, measure__isnull=False)
    assert sorted(str(p.number) for p in linked) == sorted(winners)
    assert Measure.objects.filter(city=budget.city).count() == len(winners)
    client.post(url, {"action": "measures", "field_of_action": field.pk})  # again: nothing new
    assert Measure.objects.filter(city=budget.city).count() == len(winners)
    measure = linked.first().measure
    with translation.override("de"):
        page = client.get(measure.get_absolute_url())
    assert "Aus dem Bürgerbudget" in page.content.decode() or "participatory budget" in (
        page.content.decode()
    )
    assert _url("results", budget.slug) in page.content.decode()


def test_poll_results(client, city):
    decision = make_decision(city, kind="poll", binding=True)
    vote(decision, [{"1": 1}] * 7 + [{"2": 1}] * 5)
    close(decision)
    page = client.get(_url("results", decision.slug))
    assert page.status_code == 200
    options = {o["label"]: o for o in page.context["options"]}
    assert options["Ja"]["votes"] == 7 and options["Ja"]["won"] and not options["Nein"]["won"]
    assert not page.context["tie"]
    assert client.get(_url("results-pb", decision.slug)).status_code == 404
