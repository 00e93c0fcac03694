"""Eligibility (helper "eligible"): salted hashes, voting codes, the census import and its rules,
account verification, one vote per person across channels, the polling station, the postal double
entry, the letters PDF, and the back-office pages."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from herzstadt.accounts.models import Role
from herzstadt.decisions import eligibility
from herzstadt.decisions.eligibility import NotEligible
from herzstadt.decisions.eligible import booth, census, codes, letters, postal
from herzstadt.decisions.models import Decision, Elector, PendingBallot, PostalEntry
from tests.conftest import bo_url, login
from tests.decisions import eligible_factories
from tests.decisions.eligible_factories import make_decision

pytestmark = pytest.mark.django_db
cast = eligible_factories.cast  # the fixture


@pytest.fixture
def decision(city):
    return make_decision(city)


def _closing(decision: Decision) -> dt.date:
    return timezone.localdate(decision.closes_at)


def _csv(decision: Decision) -> str:
    close = _closing(decision)
    fourteen = close.replace(year=close.year - 14)
    day_after = fourteen + dt.timedelta(days=1)
    return (
        "Kennung;Geburtsdatum;Stadtteil;Name;Strasse;PLZ;Ort\n"
        f"A-100;1980-05-01;Pfaff-Areal;Erika Muster;Pfaffstr. 1;67655;Kaiserslautern\n"
        f"A-101;{fourteen:%d.%m.%Y};pfaff-areal;Jo Jung;;;\n"  # 14 on the closing day: eligible
        f"A-102;{day_after.isoformat()};Pfaff-Areal;;;;\n"  # 14 one day too late
        "A-103;1970-01-01;Innenstadt;;;;\n"  # lives elsewhere
        "a 100;1980-05-01;Pfaff-Areal;;;;\n"  # the same identifier again
        "A-104;kein Datum;Pfaff-Areal;;;;\n"  # invalid
        ";1970-01-01;Pfaff-Areal;;;;\n"  # invalid
        "A-105;1950-12-24;Pfaff-Areal;Max Alt;Am Hang 2;67655;Kaiserslautern\n"
    )


def _restrict(decision: Decision) -> None:
    from herzstadt.core.models import District

    decision.residence_districts.set(
        District.objects.filter(city=decision.city, slug="pfaff-areal")
    )


def _all_values(model) -> str:
    return " ".join(str(v) for row in model.objects.values_list() for v in row)


# --- hashes -----------------------------------------------------------------------------------------
def test_every_decision_gets_its_own_secret_salt(city):
    a, b = make_decision(city), make_decision(city)
    assert re.fullmatch(r"[0-9a-f]{64}", a.salt)
    assert a.salt != b.salt
    salt = a.salt
    a.title = "neu"
    a.save()
    a.refresh_from_db()
    assert a.salt == salt
    assert eligibility.secret_hash(a, "X") != eligibility.secret_hash(b, "X")


def test_secret_hash_normalises_what_people_type(decision):
    h = eligibility.secret_hash(decision, "abcd-efgh")
    assert h == eligibility.secret_hash(decision, " ABCD EFGH ")
    assert re.fullmatch(r"[0-9a-f]{64}", h)
    assert h != eligibility.secret_hash(decision, "ABCD-EFGX")


# --- codes ------------------------------------------------------------------------------------------
def test_codes_are_random_and_stored_only_as_hashes(decision):
    plain = codes.issue_codes(decision, 5)
    assert len(set(plain)) == 5
    for code in plain:
        assert re.fullmatch(r"([A-HJKMNP-Z2-9]{4}-){4}[A-HJKMNP-Z2-9]{4}", code)
    assert codes.bits() > 98
    stored = _all_values(Elector)
    for code in plain:
        assert code not in stored and code.replace("-", "") not in stored
    assert Elector.objects.filter(decision=decision, code_hash__isnull=False).count() == 5


def test_a_code_votes_once(decision, cast):
    code = codes.issue_codes(decision, 1)[0]
    elector = eligibility.authorize_code(decision, code.lower())
    cast(decision, elector, {"1": 1}, "web")
    with pytest.raises(NotEligible) as refused:
        eligibility.authorize_code(decision, code)
    assert refused.value.code == "already_voted"
    with pytest.raises(NotEligible) as unknown:
        eligibility.authorize_code(decision, codes.new_code())
    assert unknown.value.code == "unknown_code"


def test_closed_channels_refuse(decision):
    code = codes.issue_codes(decision, 1)[0]
    decision.channel_code = False
    decision.channel_web = False
    decision.save()
    for call in (
        lambda: eligibility.authorize_code(decision, code),
        lambda: eligibility.authorize_account(decision, object()),
    ):
        with pytest.raises(NotEligible) as refused:
            call()
        assert refused.value.code == "channel_closed"
    # the clerk at the booth still finds the letter
    assert eligibility.authorize_code(decision, code, channel="booth")


# --- census -----------------------------------------------------------------------------------------
def test_census_rules_and_report(decision):
    _restrict(decision)
    report = census.import_census(decision, _csv(decision).encode("utf-8"))
    assert (report.rows, report.eligible, report.added) == (8, 3, 3)
    assert (report.too_young, report.elsewhere, report.duplicates, report.invalid) == (1, 1, 1, 2)
    assert report.letters == []
    assert eligibility.authorize_identifier(decision, "a100")
    assert eligibility.authorize_identifier(decision, "A-101")
    for absent in ("A-102", "A-103"):
        with pytest.raises(NotEligible) as refused:
            eligibility.authorize_identifier(decision, absent)
        assert refused.value.code == "not_on_census"
    stored = _all_values(Elector)
    for raw in ("A-100", "A100", "1980", "Erika", "Pfaffstr"):
        assert raw not in stored


def test_without_residence_rule_the_whole_city_votes(decision):
    report = census.import_census(decision, _csv(decision))
    assert (report.eligible, report.elsewhere) == (4, 0)


def test_census_file_errors(decision):
    with pytest.raises(census.CensusError) as error:
        census.import_census(decision, "Name;Ort\nX;Y\n")
    assert error.value.code == "missing_columns"
    report = census.import_census(decision, "identifier,birth_date\nQ1,1990-01-01\n")
    assert report.added == 1


def test_reimport_keeps_who_voted_and_their_codes(decision, cast):
    first = census.import_census(decision, _csv(decision), letters=True)
    assert len(first.letters) == 4
    old = Elector.objects.get(identifier_hash=eligibility.secret_hash(decision, "A-100"))
    gone_voted = eligibility.authorize_identifier(decision, "A-105")
    cast(decision, gone_voted, {"1": 1}, "booth")
    second_csv = "Kennung;Geburtsdatum\nA-100;1980-05-01\nB-200;1990-02-02\n"
    second = census.import_census(decision, second_csv, letters=True)
    assert (second.added, second.kept, second.removed, second.kept_voted) == (1, 1, 2, 1)
    assert len(second.letters) == 1  # only the new person gets a letter
    again = Elector.objects.get(pk=old.pk)
    assert again.code_hash == old.code_hash
    assert Elector.objects.filter(pk=gone_voted.pk, has_voted=True).exists()
    assert Elector.objects.filter(decision=decision).count() == 3


# --- one person, one vote across channels -----------------------------------------------------------
def test_letter_account_and_booth_are_one_vote(decision, make_user, cast):
    report = census.import_census(decision, _csv(decision), letters=True)
    letter = next(x for x in report.letters if x.name == "Erika Muster")
    user = make_user()
    with pytest.raises(NotEligible) as before:
        eligibility.authorize_account(decision, user)
    assert before.value.code == "not_verified"
    linked = eligibility.verify_account(decision, user, letter.code)
    by_id = eligibility.authorize_identifier(decision, "A-100")
    assert linked.pk == by_id.pk == eligibility.authorize_account(decision, user).pk
    # the person votes with the letter code …
    cast(decision, eligibility.authorize_code(decision, letter.code), {"2": 1}, "web")
    # … and is refused everywhere else
    for attempt in (
        lambda: eligibility.authorize_account(decision, user),
        lambda: booth.identify(decision, "A-100"),
        lambda: booth.identify(decision, letter.code),
        lambda: postal.register_card(decision, "A-100"),
    ):
        with pytest.raises(NotEligible) as refused:
            attempt()
        assert refused.value.code == "already_voted"
    assert PendingBallot.objects.filter(decision=decision).count() == 1


def test_verification_refusals(decision, make_user):
    a, b = codes.issue_codes(decision, 2)
    first, second = make_user(), make_user()
    eligibility.verify_account(decision, first, a)
    eligibility.verify_account(decision, first, a)  # again: fine
    for user, code, reason in (
        (second, a, "code_taken"),
        (first, b, "already_verified"),
        (second, "nonsense", "unknown_code"),
    ):
        with pytest.raises(NotEligible) as refused:
            eligibility.verify_account(decision, user, code)
        assert refused.value.code == reason


def test_booth_casts_a_paper_ballot(decision, cast):
    census.import_census(decision, _csv(decision))
    receipt = booth.cast_paper(decision, "A-105", {"1": 1, "3": 1})
    assert len(receipt) >= 22
    ballot = PendingBallot.objects.get(decision=decision)
    assert (ballot.channel, ballot.choice) == ("booth", {"1": 1, "3": 1})
    with pytest.raises(NotEligible):
        booth.cast_paper(decision, "A-105", {"1": 1})


# --- postal -----------------------------------------------------------------------------------------
def test_postal_double_entry(decision, make_user, cast):
    census.import_census(decision, _csv(decision))
    a, b, c = (make_user(Role.MODERATOR, decision.city) for _ in range(3))
    postal.register_card(decision, "A-100")
    postal.register_card(decision, "A-101")
    with pytest.raises(NotEligible):
        postal.register_card(decision, "A-100")
    # sheet 1: both agree → counted
    assert postal.enter_sheet(decision, a, "1", {"1": 1}) == postal.WAITING
    with pytest.raises(postal.PostalError) as same:
        postal.enter_sheet(decision, a, "1", {"1": 1})
    assert same.value.code == "same_clerk"
    assert postal.enter_sheet(decision, b, " 1 ", {"1": 1}) == postal.COUNTED
    with pytest.raises(postal.PostalError) as done:
        postal.enter_sheet(decision, c, "1", {"1": 1})
    assert done.value.code == "already_counted"
    # sheet 2: they differ → a third clerk decides
    assert postal.enter_sheet(decision, a, "2", {"2": 1}) == postal.WAITING
    assert postal.enter_sheet(decision, b, "2", {"3": 1}) == postal.MISMATCH
    assert postal.state(decision).conflicts == ("2",)
    assert postal.enter_sheet(decision, c, "2", {"3": 1}) == postal.COUNTED
    # sheet 3: a third sheet for two cards is never counted
    postal.enter_sheet(decision, a, "3", {"1": 1})
    with pytest.raises(postal.PostalError) as limit:
        postal.enter_sheet(decision, b, "3", {"1": 1})
    assert limit.value.code == "too_many_sheets"
    state = postal.state(decision)
    assert (state.cards, state.counted, state.invalid, state.waiting) == (2, 2, 0, ("3",))
    pool = PendingBallot.objects.filter(decision=decision).order_by("channel")
    assert sorted(p.choice["1" if "1" in p.choice else "3"] for p in pool) == [1, 1]
    assert {p.channel for p in pool} == {"postal"}
    assert PostalEntry.objects.filter(decision=decision, reconciled=True).count() == 5


def test_postal_invalid_sheet_counts_against_cards_but_casts_nothing(decision, make_user, cast):
    census.import_census(decision, _csv(decision))
    a, b = make_user(), make_user()
    postal.register_card(decision, "A-100")
    postal.enter_sheet(decision, a, "7", {})
    assert postal.enter_sheet(decision, b, "7", {}) == postal.COUNTED_INVALID
    assert not PendingBallot.objects.exists()
    assert postal.state(decision).invalid == 1


# --- letters ----------------------------------------------------------------------------------------
def test_letters_pdf(decision):
    report = census.import_census(decision, _csv(decision), letters=True)
    url = "https://kaiserslautern.example/de/entscheiden/x/"
    pdf = letters.letters_pdf(decision, report.letters, url, cover=letters.report_lines(report))
    assert pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type /Page\b", pdf)) == len(report.letters) + 1 == 5
    assert letters.code_url(url + "?a=1", "K7QM") == url + "?a=1#code=K7QM"


# --- pages ------------------------------------------------------------------------------------------
def test_backoffice_pages_need_the_right_role(client, decision, actors):
    slug = decision.slug
    login(client, actors["citizen"])
    assert client.get(bo_url("decisions-booth", slug=slug)).status_code == 403
    login(client, actors["moderator"])
    for name in (
        "decisions-electors",
        "decisions-booth",
        "decisions-postal-cards",
        "decisions-postal-sheets",
    ):
        assert client.get(bo_url(name, slug=slug)).status_code == 200, name
    assert client.get(bo_url("decisions-eligibility")).status_code == 200
    assert client.get(bo_url("decisions-census", slug=slug)).status_code == 403
    login(client, actors["other_staff"])
    assert client.get(bo_url("decisions-electors", slug=slug)).status_code in (403, 404)
    login(client, actors["staff"])
    assert client.get(bo_url("decisions-census", slug=slug)).status_code == 200
    assert client.get(bo_url("decisions-codes", slug=slug)).status_code == 200


def test_census_and_codes_pages(client, decision, actors):
    from django.core.files.uploadedfile import SimpleUploadedFile

    login(client, actors["staff"])
    upload = SimpleUploadedFile("census.csv", _csv(decision).encode(), content_type="text/csv")
    page = client.post(bo_url("decisions-census", slug=decision.slug), {"census": upload})
    assert page.status_code == 200
    assert Elector.objects.filter(decision=decision).count() == 4
    upload = SimpleUploadedFile("census.csv", _csv(decision).encode(), content_type="text/csv")
    pdf = client.post(
        bo_url("decisions-census", slug=decision.slug), {"census": upload, "letters": "on"}
    )
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert "no-store" in pdf["Cache-Control"]
    pdf = client.post(bo_url("decisions-codes", slug=decision.slug), {"count": "3"})
    assert pdf.content.startswith(b"%PDF")
    assert Elector.objects.filter(decision=decision, code_hash__isnull=False).count() == 7


def test_booth_page_two_steps(client, decision, actors, cast):
    census.import_census(decision, _csv(decision))
    login(client, actors["moderator"])
    url = bo_url("decisions-booth", slug=decision.slug)
    step1 = client.post(url, {"person": "A-100"})
    assert step1.status_code == 200 and b'name="step"' in step1.content
    step2 = client.post(url, {"person": "A-100", "step": "ballot", "proposals": ["1", "2"]})
    assert step2.status_code == 200 and step2.context["receipt"]
    again = client.post(url, {"person": "A-100"})
    assert b'name="step"' not in again.content
    too_many = client.post(
        url, {"person": "A-101", "step": "ballot", "proposals": ["1", "2", "3", "4"]}
    )
    assert too_many.context["ballot"].errors and not too_many.context["receipt"]


def test_postal_pages(client, decision, actors, make_user, cast):
    census.import_census(decision, _csv(decision))
    login(client, actors["moderator"])
    cards = bo_url("decisions-postal-cards", slug=decision.slug)
    assert client.post(cards, {"person": "A-100"}).status_code == 302
    assert client.post(cards, {"person": "A-100"}).status_code == 200  # refused, shown
    sheets = bo_url("decisions-postal-sheets", slug=decision.slug)
    assert client.post(sheets, {"envelope": "1", "proposals": ["2"]}).status_code == 302
    login(client, actors["staff"])
    assert client.post(sheets, {"envelope": "1", "proposals": ["2"]}).status_code == 302
    assert PendingBallot.objects.filter(decision=decision, channel="postal").count() == 1


def test_verify_page(client, decision, make_user):
    from django.urls import reverse
    from django.utils import translation

    code = codes.issue_codes(decision, 1)[0]
    with translation.override("de"):
        url = reverse("decisions:eligible-verify", kwargs={"slug": decision.slug})
    assert "/entscheiden/" in url
    assert client.get(url).status_code == 302  # sign in first
    user = make_user()
    login(client, user)
    assert client.get(url).status_code == 200
    wrong = client.post(url, {"code": "AAAA"})
    assert wrong.status_code == 200 and wrong.context["form"].errors
    assert client.post(url, {"code": code}).status_code == 302
    assert eligibility.authorize_account(decision, user)


# --- personal data ----------------------------------------------------------------------------------
def test_deleting_the_account_keeps_the_vote(decision, make_user, cast):
    from herzstadt.decisions.eligible import personal_data

    code = codes.issue_codes(decision, 1)[0]
    user = make_user()
    elector = eligibility.verify_account(decision, user, code)
    cast(decision, eligibility.authorize_account(decision, user), {"1": 1}, "web")
    exported = personal_data.export(user)["decisions_verified"]
    assert exported == [
        {
            "city": "kaiserslautern",
            "decision": decision.slug,
            "title": decision.title,
            "has_voted": True,
        }
    ]
    personal_data.erase(user)
    user.delete()
    again = Elector.objects.get(pk=elector.pk)
    assert again.has_voted and again.account_id is None
    with pytest.raises(NotEligible):
        eligibility.authorize_code(decision, code)
