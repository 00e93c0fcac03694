"""The eligibility pages: a person verifies their account with their letter code; the back office
imports the census, prints letters with voting codes, and its clerks work the polling station and the
postal count. Every decision is looked up within the current city, so a foreign slug is a 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from herzstadt.accounts.backoffice.access import GET_POST, form_data
from herzstadt.accounts.permissions import permission_required
from herzstadt.accounts.views import signed_in
from herzstadt.core.models import City
from herzstadt.decisions import eligibility, voting
from herzstadt.decisions.eligibility import NotEligible
from herzstadt.decisions.eligible import booth, census, codes, letters, postal
from herzstadt.decisions.eligible.forms import (
    CensusForm,
    CodeForm,
    CodesForm,
    EnvelopeForm,
    PersonForm,
)
from herzstadt.decisions.eligible.paper import PaperBallotForm
from herzstadt.decisions.models import Decision, Elector

manage_required = permission_required("decisions.manage")
count_required = permission_required("decisions.count")

#: the voting page a letter's QR code opens (the first of these that exists)
VOTING_PAGES = ("decisions:vote-code", "decisions:vote", "decisions:decision")


def not_eligible(error: NotEligible) -> str:
    texts = {
        "not_verified": _("This account is not verified for this decision."),
        "unknown_code": _("This voting code is not known."),
        "not_on_census": _("This person is not on the census of this decision."),
        "already_voted": _("This person has already voted."),
        "channel_closed": _("This way of voting is not offered for this decision."),
        "code_taken": _("This voting code is already linked to another account."),
        "already_verified": _("Your account is already linked to another voting code."),
    }
    return texts.get(error.code, _("Not eligible."))


def voting_error(error: voting.VotingError) -> str:
    texts = {
        "already_voted": _("This person has already voted."),
        "closed": _("Voting is closed."),
        "not_open": _("Voting has not opened yet."),
        "channel_closed": _("This way of voting is not offered for this decision."),
    }
    return texts.get(
        error.code, _("The ballot could not be cast (%(code)s).") % {"code": error.code}
    )


def postal_error(error: postal.PostalError) -> str:
    texts = {
        "already_counted": _("Sheet %(envelope)s has already been counted."),
        "same_clerk": _(
            "You have already entered sheet %(envelope)s; another clerk must enter it."
        ),
        "too_many_sheets": _(
            "Not counted: that would be more sheets than the %(cards)s registered voting cards."
        ),
        "bad_envelope": _("Please enter the sheet number."),
    }
    return texts.get(error.code, error.code) % {k: str(v) for k, v in error.params.items()}


def voting_path(decision: Decision) -> str:
    for name in VOTING_PAGES:
        try:
            return reverse(name, kwargs={"slug": decision.slug})
        except NoReverseMatch:
            continue
    return (
        reverse("decisions:eligible-verify", kwargs={"slug": decision.slug}).rsplit("/", 2)[0] + "/"
    )


def _pdf(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


# --- citizens ---------------------------------------------------------------------------------------
@GET_POST
@signed_in
@never_cache
def verify(request: HttpRequest, slug: str) -> HttpResponse:
    city = request.city  # type: ignore[attr-defined]
    if not city:
        raise Http404(_("No city has been set up yet."))
    decision = get_object_or_404(
        Decision, city=getattr(city, "_wrapped", city), slug=slug, is_published=True
    )
    linked = Elector.objects.filter(decision=decision, account_id=request.user.pk).first()
    form = CodeForm(form_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            eligibility.verify_account(decision, request.user, form.cleaned_data["code"])
        except NotEligible as error:
            form.add_error("code", not_eligible(error))
        else:
            messages.success(
                request, _("Your account is verified: you can now vote online with it.")
            )
            return redirect(voting_path(decision))
    return render(
        request,
        "decisions/eligible/verify.html",
        {
            "decision": decision,
            "form": form,
            "linked": linked,
            "voting_path": voting_path(decision),
        },
    )


# --- back office ------------------------------------------------------------------------------------
def _decision(city: City, slug: str) -> Decision:
    return get_object_or_404(Decision, city=city, slug=slug)


def summary(city: City) -> str:
    n = Decision.objects.filter(city=city).count()
    return _("Decisions: %(n)s") % {"n": n}


@require_safe
@count_required
def decisions(request: HttpRequest, city: City) -> HttpResponse:
    return render(
        request,
        "decisions/eligible/backoffice/decisions.html",
        {"decisions": Decision.objects.filter(city=city)},
    )


@require_safe
@count_required
def electors(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    decision = _decision(city, slug)
    rows = Elector.objects.filter(decision=decision)
    context: dict[str, Any] = {
        "decision": decision,
        "total": rows.count(),
        "census": rows.filter(identifier_hash__isnull=False).count(),
        "with_code": rows.filter(code_hash__isnull=False).count(),
        "with_account": rows.filter(account__isnull=False).count(),
        "voted": rows.filter(has_voted=True).count(),
        "postal": postal.state(decision),
    }
    return render(request, "decisions/eligible/backoffice/electors.html", context)


@GET_POST
@manage_required
@never_cache
def census_import(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    decision = _decision(city, slug)
    form = CensusForm(form_data(request), request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            report = census.import_census(
                decision, form.cleaned_data["census"].read(), letters=form.cleaned_data["letters"]
            )
        except census.CensusError as error:
            form.add_error("census", census_error(error))
        else:
            lines = letters.report_lines(report)
            if form.cleaned_data["letters"]:
                messages.success(request, " · ".join(lines))
                url = request.build_absolute_uri(voting_path(decision))
                pdf = letters.letters_pdf(decision, report.letters, url, cover=lines)
                return _pdf(pdf, f"{decision.slug}-briefe.pdf")
    return render(
        request,
        "decisions/eligible/backoffice/census.html",
        {
            "decision": decision,
            "form": form,
            "report": letters.report_lines(report) if report else None,
        },
    )


def census_error(error: census.CensusError) -> str:
    texts = {
        "missing_columns": _("The file lacks the columns: %(columns)s."),
        "too_large": _("The file is too large (at most %(max_mb)s MB)."),
        "encoding": _("The file is neither UTF-8 nor Windows-1252 text."),
    }
    return texts.get(error.code, error.code) % {k: str(v) for k, v in error.params.items()}


@GET_POST
@manage_required
@never_cache
def code_letters(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    decision = _decision(city, slug)
    form = CodesForm(form_data(request))
    if request.method == "POST" and form.is_valid():
        plain = codes.issue_codes(decision, form.cleaned_data["count"])
        url = request.build_absolute_uri(voting_path(decision))
        pdf = letters.letters_pdf(decision, (census.Letter(code=c) for c in plain), url)
        return _pdf(pdf, f"{decision.slug}-codes.pdf")
    return render(
        request, "decisions/eligible/backoffice/codes.html", {"decision": decision, "form": form}
    )


@GET_POST
@count_required
@never_cache
def booth_entry(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    """Step 1 (``person`` only): identify. Step 2 (``person`` and the ballot): cast."""
    decision = _decision(city, slug)
    person = PersonForm(form_data(request))
    ballot = None
    receipt = ""
    if request.method == "POST" and person.is_valid():
        value = person.cleaned_data["person"]
        try:
            booth.identify(decision, value)
        except NotEligible as error:
            person.add_error("person", not_eligible(error))
        else:
            ballot = PaperBallotForm(
                decision, request.POST if request.POST.get("step") == "ballot" else None
            )
            if request.POST.get("step") == "ballot" and ballot.is_valid():
                try:
                    receipt = booth.cast_paper(decision, value, ballot.cleaned_data["choice"])
                except NotEligible as error:
                    person.add_error("person", not_eligible(error))
                    ballot = None
                except voting.VotingError as error:
                    ballot.add_error(None, voting_error(error))
                else:
                    ballot = None
                    person = PersonForm()
    return render(
        request,
        "decisions/eligible/backoffice/booth.html",
        {"decision": decision, "person": person, "ballot": ballot, "receipt": receipt},
    )


@GET_POST
@count_required
@never_cache
def postal_cards(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    decision = _decision(city, slug)
    form = PersonForm(form_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            postal.register_card(decision, form.cleaned_data["person"])
        except NotEligible as error:
            form.add_error("person", not_eligible(error))
        else:
            messages.success(request, _("The voting card is registered."))
            return redirect("backoffice:decisions-postal-cards", slug=decision.slug)
    return render(
        request,
        "decisions/eligible/backoffice/postal_cards.html",
        {"decision": decision, "form": form, "state": postal.state(decision)},
    )


@GET_POST
@count_required
@never_cache
def postal_sheets(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    decision = _decision(city, slug)
    data = form_data(request)
    envelope = EnvelopeForm(data)
    ballot = PaperBallotForm(decision, data, allow_invalid=True)
    if request.method == "POST" and envelope.is_valid() and ballot.is_valid():
        number = envelope.cleaned_data["envelope"]
        try:
            outcome = postal.enter_sheet(
                decision, request.user, number, ballot.cleaned_data["choice"]
            )
        except postal.PostalError as error:
            envelope.add_error("envelope", postal_error(error))
        except voting.VotingError as error:
            ballot.add_error(None, voting_error(error))
        else:
            texts = {
                postal.WAITING: _("Sheet %(n)s is entered; a second clerk must enter it too."),
                postal.COUNTED: _("Sheet %(n)s: both entries agree; the ballot is counted."),
                postal.COUNTED_INVALID: _("Sheet %(n)s: both entries agree; it is invalid."),
                postal.MISMATCH: _(
                    "Sheet %(n)s: the entries differ; another clerk must enter it again."
                ),
            }
            level = messages.WARNING if outcome == postal.MISMATCH else messages.SUCCESS
            messages.add_message(request, level, texts[outcome] % {"n": number})
            return redirect("backoffice:decisions-postal-sheets", slug=decision.slug)
    return render(
        request,
        "decisions/eligible/backoffice/postal_sheets.html",
        {
            "decision": decision,
            "envelope": envelope,
            "ballot": ballot,
            "state": postal.state(decision),
        },
    )
