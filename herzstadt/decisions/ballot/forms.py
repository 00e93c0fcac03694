"""Back-office forms of the ballot part: a decision's settings, a proposal with its feasibility
check, and a poll's answers."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from herzstadt.core.models import City, District
from herzstadt.decisions.models import Decision, DecisionKind, Feasibility, Proposal
from herzstadt.decisions.phases import PROCESS_KIND
from herzstadt.participation import api as participation

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
#: what may not change once the first ballot is cast (it would change what the ballots mean)
FROZEN_WHEN_VOTED = (
    "kind",
    "ballot_style",
    "budget_eur",
    "max_choices",
    "total_points",
    "opens_at",
)


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format=DATETIME_FORMAT)


class DecisionForm(forms.ModelForm):
    class Meta:
        model = Decision
        fields = (
            "kind",
            "slug",
            "title",
            "description",
            "ls_title",
            "ls_description",
            "process",
            "district",
            "budget_eur",
            "ballot_style",
            "max_choices",
            "total_points",
            "counting_rule",
            "question",
            "binding",
            "opens_at",
            "closes_at",
            "results_at",
            "min_age",
            "residence_districts",
            "channel_web",
            "channel_code",
            "channel_booth",
            "channel_postal",
            "is_published",
        )
        widgets = {
            "opens_at": DateTimeLocalInput(),
            "closes_at": DateTimeLocalInput(),
            "results_at": DateTimeLocalInput(),
            "residence_districts": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args: Any, city: City, voted: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.city = city
        fields: dict[str, Any] = self.fields
        for name in ("opens_at", "closes_at", "results_at"):
            fields[name].input_formats = [DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d"]
        fields["process"].queryset = participation.Process.objects.filter(
            city=city, kind=PROCESS_KIND
        )
        fields["district"].queryset = District.objects.filter(city=city)
        fields["residence_districts"].queryset = District.objects.filter(city=city)
        if voted:
            for name in FROZEN_WHEN_VOTED:
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Ballots have been cast: this cannot change now.")

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        taken = Decision.objects.filter(city=self.city, slug=slug)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(_("Another decision of this city has this short name."))
        return slug

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        opens, closes, results = (data.get(k) for k in ("opens_at", "closes_at", "results_at"))
        if opens and closes and closes <= opens:
            self.add_error("closes_at", _("Voting must close after it opens."))
        if closes and results and results < closes:
            self.add_error("results_at", _("Results cannot be published before voting closes."))
        if data.get("kind") == DecisionKind.BUDGET and not data.get("budget_eur"):
            self.add_error("budget_eur", _("A participatory budget needs a budget."))
        if data.get("kind") == DecisionKind.POLL and not data.get("question"):
            self.add_error("question", _("A poll needs a question."))
        if data.get("ballot_style") == "points" and not data.get("total_points"):
            self.add_error("total_points", _("Points ballots need a number of points."))
        if not any(data.get(f"channel_{c}") for c in ("web", "code", "booth", "postal")):
            self.add_error(None, _("Offer at least one way of voting."))
        return data


class ProposalForm(forms.ModelForm):
    class Meta:
        model = Proposal
        fields = (
            "number",
            "title",
            "description",
            "ls_title",
            "ls_description",
            "cost_eur",
            "feasibility",
            "feasibility_reason",
            "district",
        )
        help_texts = {
            "feasibility_reason": _("Public: shown with the proposal. Required if not feasible."),
        }

    def __init__(self, *args: Any, decision: Decision, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.decision = decision
        fields: dict[str, Any] = self.fields
        fields["district"].queryset = District.objects.filter(city=decision.city)

    def clean_number(self) -> int:
        number = self.cleaned_data["number"]
        taken = Proposal.objects.filter(decision=self.decision, number=number)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(_("Another proposal has this number."))
        return number

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("feasibility") == Feasibility.NOT_FEASIBLE
            and not (data.get("feasibility_reason") or "").strip()
        ):
            self.add_error(
                "feasibility_reason", _("Say publicly why the proposal is not feasible.")
            )
        if data.get("feasibility") == Feasibility.FEASIBLE and not data.get("cost_eur"):
            self.add_error("cost_eur", _("A feasible proposal needs a cost estimate."))
        return data


class IdeasForm(forms.Form):
    """Which ideas of the decision's process become proposals."""

    ideas = forms.MultipleChoiceField(
        label=_("Ideas"), widget=forms.CheckboxSelectMultiple, required=True
    )

    def __init__(self, *args: Any, candidates: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        fields["ideas"].choices = [
            (str(i.pk), f"{i.title} ({i.support_count})") for i in candidates
        ]


class OptionsForm(forms.Form):
    answers = forms.CharField(
        label=_("Answers"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One answer per line, in the order of the ballot (e.g. Yes / No)."),
    )

    def clean_answers(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["answers"].splitlines()]
        lines = [line for line in lines if line]
        if len(lines) < 2:
            raise forms.ValidationError(_("A poll needs at least two answers."))
        if len(set(lines)) != len(lines):
            raise forms.ValidationError(_("Each answer may appear only once."))
        if any(len(line) > 200 for line in lines):
            raise forms.ValidationError(_("An answer may have at most 200 characters."))
        return lines
