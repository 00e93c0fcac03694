"""The back-office section "Entscheidungen": decisions (settings, times, ways of voting), proposals
with their feasibility check (from the process's ideas or by hand), and a poll's answers. Staff and
administrators of the current city (``decisions.manage``); everything is looked up within the city.

What a ballot means may not change once voting has begun: the ballot style, budget and limits are
frozen when the first ballot is cast, and proposals and answers cannot be changed after the opening.
"""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_safe

from herzstadt.accounts.backoffice.access import GET_POST, form_data
from herzstadt.accounts.permissions import permission_required
from herzstadt.core.models import City
from herzstadt.decisions import permissions as _permissions  # noqa: F401  (defines the names)
from herzstadt.decisions.ballot.forms import DecisionForm, IdeasForm, OptionsForm, ProposalForm
from herzstadt.decisions.models import (
    Ballot,
    Decision,
    DecisionKind,
    Feasibility,
    PendingBallot,
    PollOption,
    Proposal,
)
from herzstadt.participation import api as participation

manage_required = permission_required("decisions.manage")


def summary(city: City) -> str:
    n = Decision.objects.filter(city=city).count()
    return ngettext("%(n)s decision", "%(n)s decisions", n) % {"n": n}


def _voted(decision: Decision) -> bool:
    return (
        Ballot.objects.filter(decision=decision).exists()
        or PendingBallot.objects.filter(decision=decision).exists()
        or decision.electors.filter(has_voted=True).exists()
    )


def _ballot_fixed(decision: Decision) -> bool:
    """Proposals and answers are fixed from the opening of the vote."""
    return timezone.now() >= decision.opens_at


@require_safe
@manage_required
def decisions(request: HttpRequest, city: City) -> HttpResponse:
    rows = list(Decision.objects.filter(city=city).order_by("-opens_at"))
    return render(request, "decisions/ballot/backoffice/decisions.html", {"decisions": rows})


@GET_POST
@manage_required
def decision_edit(request: HttpRequest, city: City, slug: str | None = None) -> HttpResponse:
    instance = get_object_or_404(Decision, city=city, slug=slug) if slug else None
    voted = bool(instance and _voted(instance))
    form = DecisionForm(form_data(request), instance=instance, city=city, voted=voted)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save(commit=False)
            saved.city = city
            if not saved.salt:
                saved.salt = secrets.token_hex(32)
            saved.save()
            form.save_m2m()
        messages.success(request, _("The decision is saved."))
        return redirect("backoffice:decisions-edit", slug=saved.slug)
    return render(
        request,
        "decisions/ballot/backoffice/decision_form.html",
        {"form": form, "decision": instance, "voted": voted},
    )


@GET_POST
@manage_required
def proposals(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    decision = get_object_or_404(Decision, city=city, slug=slug, kind=DecisionKind.BUDGET)
    rows = list(decision.proposals.order_by("number"))
    taken = {p.idea_id for p in rows if p.idea_id}
    candidates = []
    if decision.process is not None:
        candidates = [i for i in participation.process_ideas(decision.process) if i.pk not in taken]
    fixed = _ballot_fixed(decision)
    form = IdeasForm(form_data(request), candidates=candidates)
    if request.method == "POST" and not fixed and form.is_valid():
        chosen = {int(pk) for pk in form.cleaned_data["ideas"]}
        with transaction.atomic():
            Decision.objects.select_for_update().filter(pk=decision.pk).values_list("pk").get()
            number = (decision.proposals.aggregate(m=Max("number"))["m"] or 0) + 1
            created = 0
            for idea in candidates:
                if idea.pk in chosen:
                    Proposal.objects.create(
                        city=city,
                        decision=decision,
                        idea=idea,
                        number=number,
                        title=idea.title[:200],
                        description=idea.body,
                        cost_eur=0,
                        feasibility=Feasibility.PENDING,
                    )
                    number += 1
                    created += 1
        messages.success(
            request,
            ngettext(
                "%(n)s proposal created: now check its cost and feasibility.",
                "%(n)s proposals created: now check their cost and feasibility.",
                created,
            )
            % {"n": created},
        )
        return redirect("backoffice:decisions-proposals", slug=decision.slug)
    return render(
        request,
        "decisions/ballot/backoffice/proposals.html",
        {
            "decision": decision,
            "proposals": rows,
            "form": form,
            "candidates": candidates,
            "fixed": fixed,
            "status": 400 if request.method == "POST" else 200,
        },
        status=400 if request.method == "POST" else 200,
    )


@GET_POST
@manage_required
def proposal_edit(
    request: HttpRequest, city: City, slug: str, number: int | None = None
) -> HttpResponse:
    decision = get_object_or_404(Decision, city=city, slug=slug, kind=DecisionKind.BUDGET)
    instance = get_object_or_404(Proposal, decision=decision, number=number) if number else None
    fixed = _ballot_fixed(decision)
    initial = {}
    if instance is None:
        initial["number"] = (decision.proposals.aggregate(m=Max("number"))["m"] or 0) + 1
    form = ProposalForm(form_data(request), instance=instance, decision=decision, initial=initial)
    if fixed:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and not fixed and form.is_valid():
        saved = form.save(commit=False)
        saved.city, saved.decision = city, decision
        saved.save()
        messages.success(request, _("The proposal is saved."))
        return redirect("backoffice:decisions-proposals", slug=decision.slug)
    return render(
        request,
        "decisions/ballot/backoffice/proposal_form.html",
        {"decision": decision, "proposal": instance, "form": form, "fixed": fixed},
        status=400 if request.method == "POST" else 200,
    )


@GET_POST
@manage_required
def options(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    decision = get_object_or_404(Decision, city=city, slug=slug, kind=DecisionKind.POLL)
    current = list(decision.options.order_by("number"))
    fixed = _ballot_fixed(decision)
    form = OptionsForm(form_data(request), initial={"answers": "\n".join(o.label for o in current)})
    if fixed:
        form.fields["answers"].disabled = True
    if request.method == "POST" and not fixed and form.is_valid():
        with transaction.atomic():
            decision.options.all().delete()
            PollOption.objects.bulk_create(
                PollOption(city=city, decision=decision, number=n, label=label)
                for n, label in enumerate(form.cleaned_data["answers"], start=1)
            )
        messages.success(request, _("The answers are saved."))
        return redirect("backoffice:decisions-options", slug=decision.slug)
    return render(
        request,
        "decisions/ballot/backoffice/options.html",
        {"decision": decision, "options": current, "form": form, "fixed": fixed},
        status=400 if request.method == "POST" else 200,
    )
