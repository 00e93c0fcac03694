"""The public pages of a decision: the list, a decision with its proposals, a proposal, voting
online (no JavaScript needed), the receipt, the public log (HTML and JSON) and the receipt check.

Voting keeps no state on the server between its steps: the choice travels in the form, and so does
the voting code (never in the address); each step asks ``eligibility`` again, and only the last one
casts. Pages that show a code or a receipt are sent with ``Cache-Control: no-store``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from herzstadt.core.models import City
from herzstadt.decisions import eligibility, log, voting
from herzstadt.decisions.ballot import texts
from herzstadt.decisions.models import (
    Ballot,
    BallotStyle,
    Decision,
    DecisionKind,
    Feasibility,
    PendingBallot,
    Proposal,
)

LOG_PAGE = 100
GET_POST = require_http_methods(["GET", "HEAD", "POST"])


def _city(request: HttpRequest) -> City:
    city = request.city  # type: ignore[attr-defined]
    if not city:
        raise Http404(_("No city has been set up yet."))
    return getattr(city, "_wrapped", city)


def _decision(request: HttpRequest, slug: str) -> Decision:
    return get_object_or_404(
        Decision.objects.select_related("city", "district"),
        city=_city(request),
        slug=slug,
        is_published=True,
    )


def status(decision: Decision) -> str:
    """``upcoming``, ``open``, ``closed`` (counting) or ``results`` (published)."""
    now = timezone.now()
    if now < decision.opens_at:
        return "upcoming"
    if now < decision.closes_at:
        return "open"
    if now < decision.results_at:
        return "closed"
    return "results"


def _items(decision: Decision) -> list[Any]:
    """What is on the ballot, in ballot order: feasible proposals, or the poll's options."""
    if decision.kind == DecisionKind.POLL:
        return list(decision.options.all())
    return list(decision.proposals.filter(feasibility=Feasibility.FEASIBLE).order_by("number"))


def _labels(decision: Decision) -> dict[str, str]:
    if decision.kind == DecisionKind.POLL:
        return {str(o.number): o.label for o in decision.options.all()}
    return {str(p.number): p.title for p in decision.proposals.all()}


# --- reading ------------------------------------------------------------------------------------------
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    decisions = list(
        Decision.objects.filter(city=_city(request), is_published=True).order_by("-opens_at")
    )
    for d in decisions:
        d.status = status(d)  # type: ignore[attr-defined]
    return render(request, "decisions/ballot/index.html", {"decisions": decisions})


@require_safe
def decision(request: HttpRequest, slug: str) -> HttpResponse:
    d = _decision(request, slug)
    proposals = list(d.proposals.select_related("district").order_by("number"))
    return render(
        request,
        "decisions/ballot/decision.html",
        {
            "decision": d,
            "status": status(d),
            "on_ballot": [p for p in proposals if p.feasibility == Feasibility.FEASIBLE],
            "not_feasible": [p for p in proposals if p.feasibility == Feasibility.NOT_FEASIBLE],
            "pending": [p for p in proposals if p.feasibility == Feasibility.PENDING],
            "options": list(d.options.all()) if d.kind == DecisionKind.POLL else [],
        },
    )


@require_safe
def proposal(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    d = _decision(request, slug)
    p = get_object_or_404(Proposal.objects.select_related("district"), decision=d, number=number)
    return render(
        request,
        "decisions/ballot/proposal.html",
        {"decision": d, "proposal": p, "status": status(d)},
    )


# --- voting -----------------------------------------------------------------------------------------
def _choice_from(request: HttpRequest, decision: Decision, items: list[Any]) -> dict[str, int]:
    numbers = {str(i.number) for i in items}
    if decision.kind == DecisionKind.POLL:
        picked = request.POST.get("o", "")
        return {picked: 1} if picked in numbers else {}
    if decision.ballot_style == BallotStyle.POINTS:
        choice: dict[str, int] = {}
        for n in numbers:
            raw = request.POST.get(f"pts-{n}", "").strip()
            if raw:
                try:
                    choice[n] = int(raw)
                except ValueError:
                    choice[n] = -1  # shown as "whole numbers, zero or more"
        return choice
    return {n: 1 for n in request.POST.getlist("p") if n in numbers}


def _authorize(request: HttpRequest, decision: Decision) -> tuple[Any, str, str]:
    """(elector, channel for voting.cast, the code as typed) — or NotEligible."""
    method = request.POST.get("method", "")
    if method == "account" and decision.channel_web:
        if not request.user.is_authenticated:
            raise eligibility.NotEligible("not_verified")
        return eligibility.authorize_account(decision, request.user), "web", ""
    if method == "code" and decision.channel_code:
        code = request.POST.get("code", "").strip()[:100]
        if not code:
            raise eligibility.NotEligible("unknown_code")
        return eligibility.authorize_code(decision, code), "code", code
    raise eligibility.NotEligible("channel_closed")


def _no_store(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)
    response["Referrer-Policy"] = "no-referrer"
    return response


@GET_POST
def vote(request: HttpRequest, slug: str) -> HttpResponse:
    d = _decision(request, slug)
    state = status(d)
    context: dict[str, Any] = {"decision": d, "status": state}
    if state != "open":
        return render(request, "decisions/ballot/vote_start.html", context)
    if request.method != "POST":
        return _no_store(render(request, "decisions/ballot/vote_start.html", context))

    try:
        elector, channel, code = _authorize(request, d)
    except eligibility.NotEligible as exc:
        context["error"] = texts.message(texts.ELIGIBILITY, exc.code, exc.params)
        context["code"] = request.POST.get("code", "")[:100]
        return _no_store(render(request, "decisions/ballot/vote_start.html", context, status=403))

    items = _items(d)
    choice = _choice_from(request, d, items)
    step = request.POST.get("step", "start")
    context.update(
        {
            "method": request.POST.get("method"),
            "code": code,
            "items": items,
            "choice": choice,
            "spent": sum(getattr(i, "cost_eur", 0) for i in items if str(i.number) in choice),
            "points_given": sum(v for v in choice.values() if v > 0),
        }
    )
    if step in ("start", "change"):
        if step == "start":
            context["choice"] = {}
            context["spent"] = context["points_given"] = 0
        return _no_store(render(request, "decisions/ballot/vote_ballot.html", context))
    try:
        normal = voting.validate(d, choice)
    except voting.VotingError as exc:
        context["error"] = texts.message(texts.VOTING, exc.code, exc.params)
        status_code = 200 if step == "sum" else 400
        return _no_store(
            render(request, "decisions/ballot/vote_ballot.html", context, status=status_code)
        )
    if step == "sum":
        return _no_store(render(request, "decisions/ballot/vote_ballot.html", context))
    context["chosen"] = [(i, normal[str(i.number)]) for i in items if str(i.number) in normal]
    if step != "confirm":
        return _no_store(render(request, "decisions/ballot/vote_review.html", context))
    try:
        receipt = voting.cast(d, elector, normal, channel)
    except voting.VotingError as exc:
        context["error"] = texts.message(texts.VOTING, exc.code, exc.params)
        return _no_store(render(request, "decisions/ballot/vote_start.html", context, status=409))
    context["receipt"] = receipt
    return _no_store(render(request, "decisions/ballot/vote_receipt.html", context))


# --- the public log -----------------------------------------------------------------------------------
@require_safe
def ballot_log(request: HttpRequest, slug: str) -> HttpResponse:
    d = _decision(request, slug)
    log.flush_if_closed(d)
    length = d.log_length
    entries = Ballot.objects.filter(decision=d, seq__lte=length).order_by("seq")
    page = Paginator(entries, LOG_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "decisions/ballot/log.html",
        {
            "decision": d,
            "status": status(d),
            "page": page,
            "length": length,
            "head": d.log_head,
            "pending": PendingBallot.objects.filter(decision=d).count(),
            "labels": _labels(d),
        },
    )


def _log_json(d: Decision, length: int, head: str) -> Iterator[str]:
    meta = {
        "decision": d.slug,
        "title": d.title,
        "kind": d.kind,
        "ballot_style": d.ballot_style if d.kind == DecisionKind.BUDGET else None,
        "budget_eur": d.budget_eur,
        "items": _labels(d),
        "encoding": (
            "entry_hash = sha256(prev_hash|seq|canonical JSON of choice (keys sorted, no spaces)"
            "|channel|receipt_hash|day); receipt_hash = sha256(receipt without dashes, upper case)"
        ),
        "length": length,
        "head": head,
    }
    opening = json.dumps(meta, ensure_ascii=False)[:-1]
    yield opening + ', "entries": ['
    first = True
    rows = (
        Ballot.objects.filter(decision=d, seq__lte=length)
        .order_by("seq")
        .values_list(*log.FIELDS)
        .iterator(chunk_size=2000)
    )
    for row in rows:
        entry = dict(zip(log.FIELDS, row, strict=True))
        entry["day"] = entry["day"].isoformat()
        yield ("" if first else ",") + "\n" + json.dumps(entry, separators=(",", ":"))
        first = False
    yield "\n]}\n"


@require_safe
def ballot_log_json(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    d = _decision(request, slug)
    log.flush_if_closed(d)
    # the head and length first: entries are only ever appended, so seq ≤ length is a snapshot
    length, head = d.log_length, d.log_head
    response = StreamingHttpResponse(_log_json(d, length, head), content_type="application/json")
    response["Content-Disposition"] = f'inline; filename="{d.slug}-protokoll.json"'
    response["ETag"] = f'"{head or "empty"}"'
    return response


@GET_POST
def receipt_check(request: HttpRequest, slug: str) -> HttpResponse:
    d = _decision(request, slug)
    log.flush_if_closed(d)
    context: dict[str, Any] = {"decision": d, "status": status(d)}
    if request.method == "POST":
        typed = request.POST.get("receipt", "")[:100]
        context["receipt"] = typed
        digest = log.receipt_hash(typed)
        # the pool first, then the log: a batch moves ballots from the pool to the log in one
        # transaction, so a ballot missed in the pool is found in the log (never "not found")
        in_pool = PendingBallot.objects.filter(decision=d, receipt_hash=digest).exists()
        entry = None if in_pool else Ballot.objects.filter(decision=d, receipt_hash=digest).first()
        if entry is not None:
            labels = _labels(d)
            context["found"] = "log"
            context["entry"] = entry
            context["chosen"] = [
                (k, labels.get(k, k), v)
                for k, v in sorted(entry.choice.items(), key=lambda kv: int(kv[0]))
            ]
            context["log_page"] = (entry.seq - 1) // LOG_PAGE + 1
        elif in_pool:
            context["found"] = "pool"
        else:
            context["found"] = "none"
    return _no_store(render(request, "decisions/ballot/receipt_check.html", context))
