"""The results of a decision: the public page (winners of the decision's rule with the other rule
beside it, why each proposal won or lost, turnout, the council's decision, downloads), the ``.pb``
download, the measure page's panel and the back-office page (publication settings, council link,
winners → measures)."""

from __future__ import annotations

import contextlib
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_safe

from herzstadt.accounts.backoffice.access import GET_POST, form_data
from herzstadt.accounts.permissions import permission_required
from herzstadt.core.models import City, FieldOfAction, Measure
from herzstadt.decisions import permissions as _permissions  # noqa: F401 - defines decisions.manage
from herzstadt.decisions import results as service
from herzstadt.decisions.models import Decision, DecisionKind, Feasibility, Proposal

manage_required = permission_required("decisions.manage")

RULE_LABELS = {
    "mes": gettext_lazy("Method of Equal Shares"),
    "greedy": gettext_lazy("Greedy by votes"),
}


def _city(request: HttpRequest) -> City:
    city = request.city  # type: ignore[attr-defined]
    if not city:
        raise Http404(_("No city has been set up yet."))
    return getattr(city, "_wrapped", city)


def _euro(value: Any) -> str:
    """``12.345 €`` (whole euros) or ``12.345,67 €`` (a money string with cents)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    places = 0 if number == int(number) else 2
    return f"{formats.number_format(number, places, force_grouping=True)} €"


def explain(code: str, params: dict[str, Any], rule: str, style: str) -> str:
    """A plain sentence for one :class:`~herzstadt.decisions.counting.Explanation`."""
    p = dict(params)
    for key in ("cost", "remaining", "supporters_money", "price_per_vote"):
        if key in p:
            p[key] = _euro(p[key])
    p.setdefault("votes", 0)
    p.setdefault("supporters", 0)
    if code == "selected" and rule == "mes":
        if style == "points":
            return (
                _(
                    "Chosen in round %(rank)s of equal shares: its %(supporters)s supporters paid "
                    "its %(cost)s together from their equal shares, %(price_per_vote)s per point "
                    "they gave it."
                )
                % p
            )
        return (
            _(
                "Chosen in round %(rank)s of equal shares: its %(supporters)s supporters paid its "
                "%(cost)s together from their equal shares, at most %(price_per_vote)s each."
            )
            % p
        )
    if code == "selected":
        if style == "points":
            return (
                _(
                    "Chosen as number %(rank)s: with %(votes)s points it was next in line, and its "
                    "%(cost)s fit in the money left."
                )
                % p
            )
        return (
            _(
                "Chosen as number %(rank)s: with %(votes)s votes it was next in line, and its "
                "%(cost)s fit in the money left."
            )
            % p
        )
    if code == "completion":
        return (
            _(
                "Chosen in the completion: after equal shares, %(cost)s still fit in the money "
                "left, and it had the most votes (%(votes)s) of what fit."
            )
            % p
        )
    if code == "over_budget":
        return (
            _(
                "Not chosen: with %(votes)s votes it was next in line, but it costs %(cost)s and only "
                "%(remaining)s were left."
            )
            % p
        )
    if code == "mes_supporters_cannot_afford":
        return (
            _(
                "Not chosen: its %(supporters)s supporters had only %(supporters_money)s of their "
                "equal shares left, less than its cost of %(cost)s; and it did not fit in the "
                "%(remaining)s left for the completion."
            )
            % p
        )
    if code == "no_votes":
        return _("Not chosen: nobody voted for it.")
    return _("Not chosen.") if not params.get("won") else _("Chosen.")


def _log_links(decision: Decision) -> dict[str, str]:
    """The ballot part's log pages, where they exist."""
    links = {}
    for key, name in (("html", "decisions:log"), ("json", "decisions:log-json")):
        with contextlib.suppress(NoReverseMatch):
            links[key] = reverse(name, kwargs={"slug": decision.slug})
    return links


def _decision_url(decision: Decision) -> str | None:
    """The decision's own page (the ballot part's), where it exists."""
    try:
        return decision.get_absolute_url()
    except NoReverseMatch:
        return None


def _turnout(results: dict[str, Any]) -> dict[str, Any]:
    electors, voted = results.get("electors", 0), results.get("voted", 0)
    ballots = results.get("ballots", 0)
    channels = [
        {
            "key": key,
            "label": {
                "web": _("online"),
                "booth": _("at a polling station"),
                "postal": _("by post"),
            }[key],
            "count": service.suppressed(results.get("channels", {}).get(key, 0)),
        }
        for key in service.CHANNELS
    ]
    share = None
    if electors and service.suppressed(voted) is not None:
        share = formats.number_format(100 * voted / electors, 1)
    return {
        "electors": service.suppressed(electors),
        "voted": service.suppressed(voted),
        "ballots": service.suppressed(ballots),
        "share": share,
        "channels": channels,
    }


def _budget_context(decision: Decision, results: dict[str, Any]) -> dict[str, Any]:
    rule = results.get("rule") or decision.counting_rule
    other = service.other_rule(rule)
    style = results.get("style") or decision.ballot_style
    main_rules = results["rules"][rule]
    other_rules = results["rules"][other]
    rank = {pid: i for i, pid in enumerate(main_rules["winners"])}
    rows = []
    for project in results["projects"]:
        pid = project["id"]
        e_main = main_rules["explanations"][pid]
        e_other = other_rules["explanations"][pid]
        rows.append(
            {
                **project,
                "cost_text": _euro(project["cost"]),
                "won": e_main["won"],
                "why": explain(e_main["code"], e_main["params"], rule, style),
                "other_won": e_other["won"],
                "other_why": explain(e_other["code"], e_other["params"], other, style),
            }
        )
    rows.sort(key=lambda r: (r["id"] not in rank, rank.get(r["id"], 0), -r["votes"], r["number"]))
    budget = results["budget"]
    proposals = {
        str(p.number): p for p in decision.proposals.select_related("measure").order_by("number")
    }
    for row in rows:
        proposal = proposals.get(row["id"])
        row["measure"] = proposal.measure if proposal and proposal.measure_id else None
    return {
        "rule": rule,
        "rule_label": RULE_LABELS[rule],
        "other": other,
        "other_label": RULE_LABELS[other],
        "rows": rows,
        "budget_text": _euro(budget),
        "spent_text": _euro(main_rules["spent"]),
        "remaining_text": _euro(budget - main_rules["spent"]),
        "other_spent_text": _euro(other_rules["spent"]),
        "other_remaining_text": _euro(budget - other_rules["spent"]),
        "not_feasible": list(
            decision.proposals.filter(feasibility=Feasibility.NOT_FEASIBLE).order_by("number")
        ),
        "style": style,
        "voter_budget": _euro(main_rules["details"]["voter_budget"])
        if rule == "mes" and "voter_budget" in main_rules.get("details", {})
        else "",
    }


def _poll_context(results: dict[str, Any]) -> dict[str, Any]:
    total = sum(o["votes"] for o in results["options"])
    options = [
        {
            **o,
            "share": formats.number_format(100 * o["votes"] / total, 1) if total else None,
            "won": o["id"] in results["poll"]["winners"],
        }
        for o in results["options"]
    ]
    return {"options": options, "tie": results["poll"]["tie"], "total": total}


def _decision(request: HttpRequest, slug: str) -> Decision:
    city = _city(request)
    return get_object_or_404(Decision, city=city, slug=slug, is_published=True)


@require_safe
def results_page(request: HttpRequest, slug: str) -> HttpResponse:
    decision = _decision(request, slug)
    now = timezone.now()
    results = service.results_for(decision, now)
    context: dict[str, Any] = {
        "decision": decision,
        "results": results,
        "due": service.is_due(decision, now),
        "log_links": _log_links(decision),
        "decision_url": _decision_url(decision),
    }
    if results is not None:
        context["turnout"] = _turnout(results)
        if decision.kind == DecisionKind.POLL:
            context.update(_poll_context(results))
        else:
            context.update(_budget_context(decision, results))
            context["pb_url"] = reverse("decisions:results-pb", kwargs={"slug": decision.slug})
    response = render(request, "decisions/results.html", context)
    if results is None:
        response["Cache-Control"] = "no-cache"
    return response


@require_safe
def results_pb(request: HttpRequest, slug: str) -> HttpResponse:
    decision = _decision(request, slug)
    if decision.kind != DecisionKind.BUDGET or service.results_for(decision) is None:
        raise Http404(_("The results are not published yet."))
    response = HttpResponse(service.pb_text(decision), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{decision.slug}.pb"'
    return response


# --- the measure page's panel -----------------------------------------------------------------------
def measure_panel(request: HttpRequest, measure: Measure) -> str:
    """ "From the participatory budget": the proposals that became this measure."""
    proposals = list(
        Proposal.objects.filter(
            measure=measure, decision__is_published=True, decision__results__isnull=False
        ).select_related("decision")
    )
    if not proposals:
        return ""
    items = []
    for p in proposals:
        results = p.decision.results or {}
        row = next((r for r in results.get("projects", []) if r["id"] == str(p.number)), None)
        items.append(
            {"proposal": p, "decision": p.decision, "votes": row["votes"] if row else None}
        )
    return render_to_string("decisions/_measure_panel.html", {"items": items}, request)


# --- back office ------------------------------------------------------------------------------------
class PublicationForm(forms.ModelForm):
    class Meta:
        model = Decision
        fields = ["results_at", "council_date", "council_resolution", "council_url"]
        widgets = {
            "results_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "council_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.results is not None:
            self.fields["results_at"].disabled = True

    def clean_results_at(self) -> Any:
        value = self.cleaned_data["results_at"]
        if value and value < self.instance.closes_at:
            raise forms.ValidationError(_("The results cannot be published before voting closes."))
        return value


class MeasuresForm(forms.Form):
    field_of_action = forms.ModelChoiceField(
        queryset=FieldOfAction.objects.none(), label=gettext_lazy("Field of action")
    )

    def __init__(self, city: City, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["field_of_action"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = FieldOfAction.objects.filter(city=city)


@GET_POST
@manage_required
def backoffice_results(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    decision = get_object_or_404(Decision, city=city, slug=slug)
    action = request.POST.get("action") if request.method == "POST" else None
    form = PublicationForm(form_data(request) if action == "settings" else None, instance=decision)
    measures_form = MeasuresForm(city, request.POST if action == "measures" else None)
    if action == "settings" and form.is_valid():
        form.save()
        messages.success(request, _("The publication settings are saved."))
        return redirect("backoffice:decisions-results", slug=decision.slug)
    if action == "publish":
        try:
            service.publish(decision)
        except service.ResultsError as exc:
            messages.error(
                request,
                _("The results are not due yet.")
                if exc.code == "not_due"
                else _("The ballot log does not verify; the results are not published."),
            )
        else:
            messages.success(request, _("The results are published."))
        return redirect("backoffice:decisions-results", slug=decision.slug)
    if action == "measures" and measures_form.is_valid():
        try:
            created = service.create_measures(
                decision, measures_form.cleaned_data["field_of_action"]
            )
        except service.ResultsError:
            messages.error(request, _("The results are not published yet."))
        else:
            messages.success(
                request,
                ngettext(
                    "%(n)s measure was created from the winners.",
                    "%(n)s measures were created from the winners.",
                    len(created),
                )
                % {"n": len(created)},
            )
        return redirect("backoffice:decisions-results", slug=decision.slug)
    winners = []
    if decision.results and decision.kind == DecisionKind.BUDGET:
        won = set(service.winners(decision.results, decision.counting_rule))
        winners = [
            p
            for p in decision.proposals.select_related("measure").order_by("number")
            if str(p.number) in won
        ]
    return render(
        request,
        "decisions/backoffice/results.html",
        {
            "decision": decision,
            "form": form,
            "measures_form": measures_form,
            "winners": winners,
            "due": service.is_due(decision),
            "open_winners": [p for p in winners if p.measure_id is None],
        },
    )
