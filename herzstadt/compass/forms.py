"""Back-office forms of the compass: values, goals (with their measure and idea tags), indicators
(the formula as JSON, validated by :func:`herzstadt.compass.formulas.validate`) and a measure's
assessment (score and reason per goal). Every choice is limited to the current city."""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from herzstadt.compass import formulas
from herzstadt.compass.models import Goal, GoalIdea, Indicator, Value
from herzstadt.core.models import City, District, Measure
from herzstadt.participation import api as participation

MAX_FORMULA_CHARS = 20_000
MAX_IDEAS = 200
_IDS = re.compile(r"^[\d,;\s]*$")


class ValueForm(forms.ModelForm):
    class Meta:
        model = Value
        fields = ["name", "slug", "description", "ls_name", "ls_description", "position"]

    def __init__(self, city: City, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.city = city

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if (
            Value.objects.filter(city=self.instance.city, slug=slug)
            .exclude(pk=self.instance.pk)
            .exists()
        ):
            raise ValidationError(_("Another value has this short name."))
        return slug


class GoalForm(forms.ModelForm):
    ideas = forms.CharField(
        label=_("Ideas that serve this goal"),
        required=False,
        help_text=_(
            "Numbers of ideas from participation (the number in the idea's address), separated by commas."
        ),
    )

    class Meta:
        model = Goal
        fields = [
            "value",
            "title",
            "slug",
            "description",
            "ls_title",
            "ls_description",
            "target",
            "deadline",
            "district",
            "measures",
            "position",
        ]
        widgets = {
            "measures": forms.CheckboxSelectMultiple,
            "deadline": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, city: City, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.city = city
        self.fields["value"].queryset = Value.objects.filter(city=city)  # type: ignore[attr-defined]
        self.fields["district"].queryset = District.objects.filter(city=city)  # type: ignore[attr-defined]
        self.fields["measures"].queryset = Measure.objects.filter(city=city).order_by("title")  # type: ignore[attr-defined]
        self.fields["measures"].label = _("Measures that serve this goal")
        if self.instance.pk and not self.is_bound:
            ids = GoalIdea.objects.filter(goal=self.instance).values_list("idea_id", flat=True)
            self.initial["ideas"] = ", ".join(str(i) for i in sorted(ids))

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if (
            Goal.objects.filter(city=self.instance.city, slug=slug)
            .exclude(pk=self.instance.pk)
            .exists()
        ):
            raise ValidationError(_("Another goal has this short name."))
        return slug

    def clean_ideas(self) -> list[int]:
        raw = self.cleaned_data.get("ideas") or ""
        if not _IDS.match(raw):
            raise ValidationError(_("Enter numbers separated by commas."))
        ids = sorted({int(x) for x in re.split(r"[,;\s]+", raw) if x})
        if len(ids) > MAX_IDEAS:
            raise ValidationError(_("At most %(n)s ideas.") % {"n": MAX_IDEAS})
        unknown = set(ids) - participation.idea_ids(self.instance.city, ids)
        if unknown:
            raise ValidationError(
                _("These are not ideas of this city: %(ids)s")
                % {"ids": ", ".join(str(i) for i in sorted(unknown))}
            )
        return ids


class FormulaField(forms.CharField):
    """JSON in a textarea; the normalised specification out."""

    widget = forms.Textarea(attrs={"rows": 12, "spellcheck": "false", "class": "code"})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return json.dumps(value, ensure_ascii=False, indent=2)
        return value

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if not text:
            raise ValidationError(_("Enter the formula."))
        if len(text) > MAX_FORMULA_CHARS:
            raise ValidationError(_("The formula is too long."))
        try:
            spec = json.loads(text)
        except ValueError as exc:
            raise ValidationError(
                _("This is not valid JSON (line %(line)s): %(msg)s")
                % {"line": getattr(exc, "lineno", "?"), "msg": getattr(exc, "msg", str(exc))}
            ) from exc
        try:
            return formulas.validate(spec)
        except NotImplementedError as exc:  # the formula module is not there yet
            raise ValidationError(_("Formulas cannot be checked yet.")) from exc


class IndicatorForm(forms.ModelForm):
    formula = FormulaField(
        label=_("Formula"),
        help_text=_(
            "A JSON specification over the urban data; see the documentation of the compass."
        ),
    )

    class Meta:
        model = Indicator
        fields = [
            "name",
            "slug",
            "description",
            "explanation",
            "ls_name",
            "ls_explanation",
            "reference",
            "reference_url",
            "unit",
            "direction",
            "target",
            "warning",
            "period",
            "formula",
            "schedule_minutes",
            "goals",
            "measures",
            "district",
            "is_public",
            "position",
        ]
        widgets = {
            "goals": forms.CheckboxSelectMultiple,
            "measures": forms.CheckboxSelectMultiple,
        }

    def __init__(self, city: City, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.city = city
        self.fields["goals"].queryset = Goal.objects.filter(city=city)  # type: ignore[attr-defined]
        self.fields["measures"].queryset = Measure.objects.filter(city=city).order_by("title")  # type: ignore[attr-defined]
        self.fields["district"].queryset = District.objects.filter(city=city)  # type: ignore[attr-defined]

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if (
            Indicator.objects.filter(city=self.instance.city, slug=slug)
            .exclude(pk=self.instance.pk)
            .exists()
        ):
            raise ValidationError(_("Another indicator has this short name."))
        return slug

    def clean_period(self) -> str:
        period = self.cleaned_data["period"].strip().upper()
        if not re.fullmatch(r"P(\d+[YMWD])*(T(\d+[HMS])+)?", period) or period in ("P", "PT"):
            raise ValidationError(_("Enter an ISO 8601 duration such as PT1H, P1D or P30D."))
        return period


ASSESS_CHOICES = [
    ("", _("not assessed")),
    ("2", _("+2: strongly helps")),
    ("1", _("+1: helps")),
    ("0", _("0: neutral")),
    ("-1", _("−1: hinders")),
    ("-2", _("−2: strongly hinders")),
]


class AssessmentForm(forms.Form):
    """Per goal of the city: the expected effect and the reason, and whether the measure serves the
    goal (a tag)."""

    def __init__(
        self,
        goals: list[Goal],
        *args: Any,
        initial_rows: dict[int, tuple[int, str]],
        tagged: set[int],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.goals = goals
        for g in goals:
            score, reason = initial_rows.get(g.id, (None, ""))
            self.fields[f"score_{g.id}"] = forms.ChoiceField(
                label=_("Expected effect"),
                choices=ASSESS_CHOICES,
                required=False,
                initial="" if score is None else str(score),
            )
            self.fields[f"reason_{g.id}"] = forms.CharField(
                label=_("Reason"),
                required=False,
                max_length=2000,
                initial=reason,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.fields[f"tag_{g.id}"] = forms.BooleanField(
                label=_("The measure serves this goal"),
                required=False,
                initial=g.id in tagged,
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for g in self.goals:
            if (
                data.get(f"score_{g.id}") not in ("", None)
                and not (data.get(f"reason_{g.id}") or "").strip()
            ):
                self.add_error(f"reason_{g.id}", _("Give a reason for the assessment."))
        return data

    def rows(self) -> list[dict[str, Any]]:
        """For the template: each goal with its three fields."""
        return [
            {
                "goal": g,
                "score": self[f"score_{g.id}"],
                "reason": self[f"reason_{g.id}"],
                "tag": self[f"tag_{g.id}"],
            }
            for g in self.goals
        ]

    def result(self) -> tuple[dict[int, tuple[int, str] | None], set[int]]:
        scores: dict[int, tuple[int, str] | None] = {}
        tags = set()
        for g in self.goals:
            raw = self.cleaned_data.get(f"score_{g.id}")
            scores[g.id] = (
                (int(raw), self.cleaned_data[f"reason_{g.id}"].strip())
                if raw not in ("", None)
                else None
            )
            if self.cleaned_data.get(f"tag_{g.id}"):
                tags.add(g.id)
        return scores, tags
