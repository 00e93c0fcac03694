"""A paper ballot as a clerk types it (polling station and postal count): the form for the
decision's ballot style and the choice it gives, ``{number: points}`` with proposal and option
numbers as printed on the paper (as strings), checked with ``counting.STYLES``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from herzstadt.decisions.counting import STYLES, BallotError, Instance, Project
from herzstadt.decisions.models import Decision, DecisionKind, Feasibility

#: a postal sheet that was filled in wrongly (both clerks agree): counted as invalid, never cast
INVALID: dict[str, int] = {}


def instance_of(decision: Decision) -> Instance | None:
    """The feasible proposals and the budget as the counting code sees them."""
    projects = tuple(
        Project(id=str(p.number), cost=p.cost_eur, name=p.title)
        for p in decision.proposals.filter(feasibility=Feasibility.FEASIBLE).order_by("number")
    )
    if not projects or not decision.budget_eur:
        return None
    return Instance(budget=decision.budget_eur, projects=projects)


def ballot_error(error: BallotError) -> str:
    messages = {
        "empty": _("The ballot chooses nothing."),
        "too_many_choices": _("The ballot chooses more proposals than allowed."),
        "over_budget": _("The chosen proposals cost more than the budget."),
        "too_many_points": _("The ballot gives more points than allowed."),
        "unknown_project": _("The ballot names a proposal that is not on it."),
        "invalid_points": _("The points must be whole numbers of at least 0."),
        "duplicate": _("A proposal is named twice."),
    }
    return messages.get(error.code, _("This ballot is not valid."))


class PaperBallotForm(forms.Form):
    """The fields of one paper ballot; ``allow_invalid`` adds "the sheet is invalid" (postal)."""

    def __init__(
        self, decision: Decision, *args: Any, allow_invalid: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.decision = decision
        self.style = decision.ballot_style
        if decision.kind == DecisionKind.POLL:
            self.fields["option"] = forms.TypedChoiceField(
                label=_("Answer marked on the ballot"),
                choices=[(str(o.number), f"{o.number}. {o.label}") for o in decision.options.all()],
                widget=forms.RadioSelect,
                required=not allow_invalid,
            )
        elif self.style == "points":
            for p in decision.proposals.filter(feasibility=Feasibility.FEASIBLE):
                self.fields[f"p{p.number}"] = forms.IntegerField(
                    label=f"{p.number}. {p.title}", min_value=0, required=False
                )
        else:
            self.fields["proposals"] = forms.MultipleChoiceField(
                label=_("Proposals marked on the ballot"),
                choices=[
                    (str(p.number), f"{p.number}. {p.title} ({p.cost_eur} €)")
                    for p in decision.proposals.filter(feasibility=Feasibility.FEASIBLE)
                ],
                widget=forms.CheckboxSelectMultiple,
                required=False,
            )
        if allow_invalid:
            self.fields["invalid"] = forms.BooleanField(
                label=gettext_lazy("The sheet is invalid (filled in wrongly or unreadable)"),
                required=False,
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        if data.get("invalid"):
            data["choice"] = dict(INVALID)
            return data
        choice = self.raw_choice(data)
        if self.decision.kind == DecisionKind.POLL:
            if len(choice) != 1:
                raise forms.ValidationError(_("Mark exactly one answer."))
            data["choice"] = choice
            return data
        instance = instance_of(self.decision)
        if instance is None:
            raise forms.ValidationError(_("This decision has no feasible proposals."))
        try:
            data["choice"] = STYLES[self.style].validate(
                instance,
                choice,
                max_choices=self.decision.max_choices,
                total_points=self.decision.total_points,
            )
        except BallotError as error:
            raise forms.ValidationError(ballot_error(error)) from error
        return data

    def raw_choice(self, data: dict[str, Any]) -> dict[str, int]:
        if "option" in self.fields:
            return {data["option"]: 1} if data.get("option") else {}
        if "proposals" in self.fields:
            return {number: 1 for number in data.get("proposals") or ()}
        return {
            name[1:]: value
            for name, value in data.items()
            if name.startswith("p") and name[1:].isdigit() and value
        }
