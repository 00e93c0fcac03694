"""The demo's "Bürgerbudget Pfaff-Areal": ~300 ballots through every channel, results published; its
``.pb`` file read by pabutools gives the same winners with pabutools' greedy and equal shares
(+ completion) as ours; the poll; loading twice changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

pytestmark = [pytest.mark.django_db, pytest.mark.full_demo]


def _url(name: str, slug: str) -> str:
    with translation.override("de"):
        return reverse(f"decisions:{name}", kwargs={"slug": slug})


def test_demo_budget_results_pb_and_pabutools(client, demo, tmp_path):
    from pabutools.election import parse_pabulib

    from herzstadt.decisions import log
    from herzstadt.decisions.demo import BUDGET_SLUG, CHANNEL_COUNTS, load_demo
    from herzstadt.decisions.models import Ballot, Decision, Elector, PostalEntry
    from tests.decisions.oracle import oracle

    decision = Decision.objects.get(city=demo, slug=BUDGET_SLUG)
    results = decision.results
    assert results is not None and results["log"]["verified"]
    assert results["ballots"] == sum(CHANNEL_COUNTS.values()) == 300
    assert results["channels"] == {"web": 210, "booth": 50, "postal": 40}
    assert results["voted"] == 300 and results["electors"] == 1200
    assert decision.proposals.filter(feasibility="not_feasible").count() == 2
    assert PostalEntry.objects.filter(decision=decision, reconciled=True).count() == 80
    entries = [log.as_entry(b) for b in Ballot.objects.filter(decision=decision).order_by("seq")]
    assert log.verify_chain(entries) == results["log"]["head"] == decision.log_head
    # accounts are linked only to elector rows, never to ballots
    assert Elector.objects.filter(decision=decision, account__isnull=False).count() == 60

    page = client.get(_url("results", BUDGET_SLUG))
    assert page.status_code == 200
    assert page.context["rule"] == "mes"
    mes, greedy = results["rules"]["mes"], results["rules"]["greedy"]
    assert mes["spent"] <= 100_000 and greedy["spent"] <= 100_000
    assert mes["winners"] != greedy["winners"]  # the demo shows what equal shares changes

    response = client.get(_url("results-pb", BUDGET_SLUG))
    assert response.status_code == 200
    path = tmp_path / "demo.pb"
    path.write_bytes(response.content)
    pb_instance, profile = parse_pabulib(str(path))
    assert len(profile) == 300 and pb_instance.budget_limit == 100_000
    for rule in ("mes", "greedy"):
        assert oracle(pb_instance, profile, rule, "approval") == results["rules"][rule]["winners"]

    assert "already loaded" in str(load_demo(type("C", (), {"city": demo})()))
    assert Ballot.objects.filter(decision=decision).count() == 300


def test_demo_poll(client, demo):
    from herzstadt.decisions.demo import POLL_SLUG
    from herzstadt.decisions.models import Decision

    decision = Decision.objects.get(city=demo, slug=POLL_SLUG)
    assert decision.results["ballots"] == 120
    page = client.get(_url("results", POLL_SLUG))
    assert page.status_code == 200
    assert sum(o["votes"] for o in page.context["options"]) == 120
