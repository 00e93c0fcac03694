"""The public pages of a decision: proposals, voting online without JavaScript (account and code),
the receipt, the public log (HTML and JSON) and the receipt check — and a voter's receipt verifies
against the public log."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from herzstadt.decisions import eligibility, log
from herzstadt.decisions.models import Ballot, Elector, PendingBallot
from tests.conftest import login
from tests.decisions.ballotkit import make_decision, make_electors

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    with translation.override("de"):
        return reverse(f"decisions:{name}", args=args)


@pytest.fixture
def electors(monkeypatch):
    """Stand-ins for the "eligible" part: an account or a code maps to an Elector row we made."""
    by_code: dict[str, Elector] = {}
    by_user: dict[int, Elector] = {}

    def authorize_code(decision, code):
        elector = by_code.get(code.strip().upper())
        if elector is None or elector.decision_id != decision.pk:
            raise eligibility.NotEligible("unknown_code")
        elector.refresh_from_db()
        if elector.has_voted:
            raise eligibility.NotEligible("already_voted")
        return elector

    def authorize_account(decision, user):
        elector = by_user.get(user.pk)
        if elector is None:
            raise eligibility.NotEligible("not_verified")
        elector.refresh_from_db()
        if elector.has_voted:
            raise eligibility.NotEligible("already_voted")
        return elector

    monkeypatch.setattr(eligibility, "authorize_code", authorize_code)
    monkeypatch.setattr(eligibility, "authorize_account", authorize_account)
    monkeypatch.setenv("HERZSTADT_DECISIONS_MIX_BATCH", "1000")
    return by_code, by_user


def _receipt(html: str) -> str:
    start = html.index('class="receipt"><code>') + len('class="receipt"><code>')
    return html[start : html.index("</code>", start)]


def test_the_decision_page_shows_proposals_costs_and_reasons(client, city):
    decision = make_decision(city)
    page = client.get(url("decision", decision.slug)).content.decode()
    assert "Trinkbrunnen am Pfaff-Platz" in page and "8.000" in page
    assert "Seilbahn zum Hauptbahnhof" in page and "Zu teuer für ein Bürgerbudget." in page
    detail = client.get(url("proposal", decision.slug, 5))
    assert detail.status_code == 200 and "Zu teuer" in detail.content.decode()
    assert client.get(url("proposal", decision.slug, 99)).status_code == 404
    assert decision.slug in client.get(url("index")).content.decode()


def test_an_unpublished_decision_is_not_found(client, city):
    decision = make_decision(city, is_published=False)
    for name in ("decision", "vote", "log", "log-json", "receipt"):
        assert client.get(url(name, decision.slug)).status_code == 404


def test_voting_with_a_code_from_ballot_to_receipt(client, city, electors):
    by_code, _ = electors
    decision = make_decision(city, style="knapsack")
    [elector] = make_electors(decision, 1)
    by_code["ABCD-EFGH-JKMN"] = elector
    vote = url("vote", decision.slug)
    start = client.get(vote)
    assert start.status_code == 200 and "no-store" in start["Cache-Control"]
    base = {"method": "code", "code": "ABCD-EFGH-JKMN"}
    ballot = client.post(vote, {**base, "step": "start"})
    assert ballot.status_code == 200 and 'name="p" value="1"' in ballot.content.decode()
    # the sum after a round trip, over the budget shown as a hint
    summed = client.post(vote, {**base, "step": "sum", "p": ["1", "2", "4"]})
    assert summed.status_code == 200
    assert "40.000 € von 30.000 €" in summed.content.decode()
    assert 'role="alert"' in summed.content.decode()
    too_much = client.post(vote, {**base, "step": "review", "p": ["1", "2", "4"]})
    assert too_much.status_code == 400
    review = client.post(vote, {**base, "step": "review", "p": ["1", "4"]})
    assert review.status_code == 200
    assert 'name="p" value="4"' in review.content.decode() and not PendingBallot.objects.exists()
    done = client.post(vote, {**base, "step": "confirm", "p": ["1", "4"]})
    assert done.status_code == 200 and "no-store" in done["Cache-Control"]
    receipt = _receipt(done.content.decode())
    assert PendingBallot.objects.get().receipt_hash == log.receipt_hash(receipt)
    assert Elector.objects.get(pk=elector.pk).has_voted
    # the same code again: refused, nothing cast
    again = client.post(vote, {**base, "step": "confirm", "p": ["2"]})
    assert again.status_code == 403 and PendingBallot.objects.count() == 1


def test_a_wrong_code_is_refused_kindly(client, city, electors):
    decision = make_decision(city)
    response = client.post(
        url("vote", decision.slug), {"method": "code", "code": "NOPE", "step": "start"}
    )
    assert response.status_code == 403
    assert 'role="alert"' in response.content.decode()


def test_voting_with_an_account_and_points(client, city, electors, make_user):
    _, by_user = electors
    decision = make_decision(city, style="points", total_points=10)
    [elector] = make_electors(decision, 1)
    user = make_user()
    by_user[user.pk] = elector
    login(client, user)
    vote = url("vote", decision.slug)
    assert 'value="account"' in client.get(vote).content.decode()
    bad = client.post(vote, {"method": "account", "step": "review", "pts-1": "8", "pts-2": "5"})
    assert bad.status_code == 400
    done = client.post(vote, {"method": "account", "step": "confirm", "pts-1": "7", "pts-3": "3"})
    assert done.status_code == 200
    assert PendingBallot.objects.get().choice == {"1": 7, "3": 3}


def test_an_account_without_entitlement_cannot_vote(client, city, electors, make_user):
    decision = make_decision(city)
    login(client, make_user())
    response = client.post(url("vote", decision.slug), {"method": "account", "step": "start"})
    assert response.status_code == 403 and not PendingBallot.objects.exists()


def test_a_poll_by_code(client, city, electors):
    by_code, _ = electors
    decision = make_decision(city, kind="poll")
    [elector] = make_electors(decision, 1)
    by_code["POLL-CODE"] = elector
    vote = url("vote", decision.slug)
    page = client.post(
        vote, {"method": "code", "code": "POLL-CODE", "step": "start"}
    ).content.decode()
    assert 'type="radio"' in page and "Pfaffstraße" in page
    done = client.post(vote, {"method": "code", "code": "POLL-CODE", "step": "confirm", "o": "2"})
    assert done.status_code == 200 and PendingBallot.objects.get().choice == {"2": 1}


def test_a_closed_decision_takes_no_ballot_on_the_web(client, city, electors):
    by_code, _ = electors
    decision = make_decision(city, opens=-2 * dt.timedelta(hours=1), closes=-dt.timedelta(hours=1))
    [elector] = make_electors(decision, 1)
    by_code["LATE"] = elector
    response = client.post(
        url("vote", decision.slug), {"method": "code", "code": "LATE", "step": "confirm", "p": "1"}
    )
    assert response.status_code == 200 and not PendingBallot.objects.exists()


def test_a_voters_receipt_verifies_against_the_public_log(client, city, electors):
    """Vote on the web, keep the receipt; after the close, download the log: the chain verifies to
    the published head, the receipt's hash is in it with the choice made, the tally matches, and the
    receipt check page finds it at that position."""
    by_code, _ = electors
    decision = make_decision(city)
    people = make_electors(decision, 5)
    receipts = []
    for n, elector in enumerate(people):
        by_code[f"CODE-{n}"] = elector
        done = client.post(
            url("vote", decision.slug),
            {"method": "code", "code": f"CODE-{n}", "step": "confirm", "p": ["2", str(1 + n % 3)]},
        )
        receipts.append(_receipt(done.content.decode()))
    mine = receipts[3]  # chose 2 and 1
    # in the pool before the close
    check = client.post(url("receipt", decision.slug), {"receipt": mine}).content.decode()
    assert "im Pool" in check
    decision.closes_at = timezone.now() - dt.timedelta(seconds=1)
    decision.save(update_fields=["closes_at"])

    response = client.get(url("log-json", decision.slug))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    published = json.loads(b"".join(response.streaming_content))
    assert published["length"] == 5 and len(published["entries"]) == 5
    assert log.verify_chain(published["entries"]) == published["head"]
    assert log.tally(published["entries"]) == {"1": 2, "2": 5, "3": 1}
    [entry] = [e for e in published["entries"] if e["receipt_hash"] == log.receipt_hash(mine)]
    assert entry["choice"] == {"1": 1, "2": 1}

    check = client.post(url("receipt", decision.slug), {"receipt": mine.lower()}).content.decode()
    assert f"an Position {entry['seq']}" in check
    nothing = client.post(url("receipt", decision.slug), {"receipt": "0000-0000"}).content.decode()
    assert "Nicht gefunden" in nothing
    html = client.get(url("log", decision.slug)).content.decode()
    assert published["head"] in html and f'id="e{entry["seq"]}"' in html


def test_the_log_json_is_a_snapshot_up_to_its_head(client, city, monkeypatch):
    monkeypatch.setenv("HERZSTADT_DECISIONS_MIX_BATCH", "2")
    from herzstadt.decisions import voting

    decision = make_decision(city)
    for e in make_electors(decision, 5):
        voting.cast(decision, e, {"1": 1}, "web")
    published = json.loads(b"".join(client.get(url("log-json", decision.slug)).streaming_content))
    assert published["length"] == 4 == len(published["entries"])  # one still in the pool
    assert log.verify_chain(published["entries"]) == published["head"]
    assert Ballot.objects.count() == 4


def test_the_verification_example_in_the_docs_checks_a_real_log(
    client, city, tmp_path, monkeypatch
):
    """docs/voting.md's standard-library example verifies a downloaded log (and finds a change)."""
    from pathlib import Path

    from herzstadt.decisions import voting

    text = (Path(__file__).resolve().parents[2] / "docs" / "voting.md").read_text()
    start = text.index("```python", text.index("Anyone can check it with the standard library"))
    example = text[start + len("```python") : text.index("```", start + 10)]
    monkeypatch.setenv("HERZSTADT_DECISIONS_MIX_BATCH", "3")
    decision = make_decision(city)
    for e in make_electors(decision, 7):
        voting.cast(decision, e, {"1": 1, "3": 1}, "web")
    body = b"".join(client.get(url("log-json", decision.slug)).streaming_content)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "protokoll.json").write_bytes(body)
    exec(compile(example, "voting.md", "exec"), {})
    published = json.loads(body)
    published["entries"][2]["choice"] = {"2": 1}
    (tmp_path / "protokoll.json").write_text(json.dumps(published))
    with pytest.raises(AssertionError):
        exec(compile(example, "voting.md", "exec"), {})
