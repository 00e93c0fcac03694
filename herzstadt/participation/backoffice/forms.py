"""Forms of the back office. Every choice of a related object is limited to the current city, so a
foreign id sent by hand is rejected as an invalid choice."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from herzstadt.core import richtext
from herzstadt.core.models import City, District, Measure
from herzstadt.participation import phases
from herzstadt.participation.backoffice import commands
from herzstadt.participation.models import (
    Category,
    IdeaStatus,
    Phase,
    Process,
    Question,
    QuestionKind,
    Survey,
)

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format=DATETIME_FORMAT)


def _datetime_field(label) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        widget=DateTimeLocalInput(),
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"],
        help_text=_("Date and time, local time (e.g. 2025-05-01 18:00)."),
    )


class ProcessForm(forms.ModelForm):
    class Meta:
        model = Process
        fields = [
            "title",
            "slug",
            "kind",
            "summary",
            "description",
            "ls_summary",
            "ls_description",
            "district",
            "measure",
        ]
        help_texts = {
            "slug": _("Part of the address: lower-case letters, digits and hyphens."),
            "description": richtext.HELP,
        }

    def __init__(self, city: City, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.city = city
        self.instance.city = city
        self.fields["district"].queryset = District.objects.filter(city=city)
        self.fields["measure"].queryset = Measure.objects.filter(city=city)
        self.fields["district"].empty_label = _("whole city")
        self.fields["measure"].empty_label = _("none")
        self.fields["district"].label_from_instance = lambda obj: obj.tr.name
        self.fields["measure"].label_from_instance = lambda obj: obj.tr.title
        self.fields["summary"].widget = forms.Textarea(attrs={"rows": 3, "maxlength": 600})
        self.fields["ls_summary"].widget = forms.Textarea(attrs={"rows": 4, "maxlength": 800})
        # The kinds come from the phase registry (any pillar may add one); empty keeps the current.
        self.fields["kind"] = forms.ChoiceField(
            label=_("kind of process"),
            choices=phases.process_kind_choices(),
            required=False,
            help_text=Process._meta.get_field("kind").help_text,
        )
        self.initial.setdefault("kind", self.instance.kind or phases.DEFAULT_PROCESS_KIND)

    def clean_kind(self):
        return self.cleaned_data.get("kind") or self.instance.kind or phases.DEFAULT_PROCESS_KIND

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        taken = Process.objects.filter(city=self.city, slug=slug).exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(_("Another process of this city already has this short name."))
        return slug


class PhaseForm(forms.ModelForm):
    start = _datetime_field(_("start"))
    end = _datetime_field(_("end"))

    class Meta:
        model = Phase
        fields = ["kind", "title", "description", "ls_description", "start", "end"]
        help_texts = {"description": richtext.HELP, "ls_description": richtext.HELP}

    def __init__(self, process: Process, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.process = process
        self.instance.city_id = process.city_id
        self.fields["kind"] = forms.ChoiceField(
            label=_("kind"), choices=phases.phase_kind_choices(process.kind)
        )
        self.fields["description"].widget.attrs["rows"] = 4
        self.fields["ls_description"].widget.attrs["rows"] = 4

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end <= start:
                self.add_error("end", _("The end must lie after the start."))
            else:
                probe = Phase(
                    pk=self.instance.pk, process=self.instance.process, start=start, end=end
                )
                other = commands.overlapping_phase(probe)
                if other is not None:
                    tz = timezone.get_current_timezone()
                    self.add_error(
                        "start",
                        _("This overlaps the phase “%(title)s” (%(start)s – %(end)s).")
                        % {
                            "title": other.title,
                            "start": other.start.astimezone(tz).strftime("%d.%m.%Y %H:%M"),
                            "end": other.end.astimezone(tz).strftime("%d.%m.%Y %H:%M"),
                        },
                    )
        return data

    def _post_clean(self):
        # The model's check constraint (end after start) is reported by clean() next to the field.
        if "end" in self._errors:
            return
        super()._post_clean()


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name"]

    def __init__(self, process: Process, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.process = process
        self.instance.city_id = process.city_id

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        clash = Category.objects.filter(process=self.instance.process, name__iexact=name)
        if clash.exclude(pk=self.instance.pk).exists():
            raise ValidationError(_("This process already has a category of this name."))
        return name


class SurveyForm(forms.ModelForm):
    class Meta:
        model = Survey
        fields = ["title", "description", "allow_anonymous", "results_public"]

    def __init__(self, process: Process, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.process = process
        self.instance.city_id = process.city_id
        self.fields["description"].widget.attrs["rows"] = 4


class QuestionForm(forms.ModelForm):
    choices_text = forms.CharField(
        label=_("choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("For single and multiple choice: one choice per line."),
    )

    class Meta:
        model = Question
        fields = ["kind", "text", "help_text", "choices_text", "scale_max", "required", "position"]
        help_texts = {
            "scale_max": _("For rating scales: the scale runs from 1 to this number (2 to 10).")
        }

    def __init__(self, survey: Survey, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.survey = survey
        self.instance.city_id = survey.city_id
        self.fields["kind"].choices = QuestionKind.choices
        if self.instance.pk and not self.is_bound:
            self.initial["choices_text"] = "\n".join(self.instance.choices or [])
        elif not self.instance.pk and not self.is_bound:
            last = survey.questions.order_by("-position").values_list("position", flat=True).first()
            self.initial["position"] = (last or 0) + 1

    def clean(self):
        """The question rules live in ``commands.check_question`` (one place); here their messages
        are put next to the fields they concern."""
        data = super().clean()
        lines = [line.strip() for line in (data.get("choices_text") or "").splitlines()]
        kind = data.get("kind")
        self.instance.choices = [line for line in lines if line]
        probe = Question(
            kind=kind,
            choices=self.instance.choices,
            scale_max=data.get("scale_max") if data.get("scale_max") is not None else 0,
        )
        if kind and kind not in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            # The command drops the choices of other kinds; a person who typed some is told.
            if self.instance.choices:
                self.add_error(
                    "choices_text", _("Only single and multiple choice questions have choices.")
                )
            self.instance.choices = probe.choices = []
        if kind:
            try:
                commands.check_question(probe)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    name = "choices_text" if field == "choices" else field
                    self.add_error(name if name in self.fields else None, errors)
        return data


class DismissForm(forms.Form):
    resolution = forms.CharField(
        label=_("Note (optional)"),
        max_length=300,
        required=False,
        help_text=_("Why the content stays, for the other moderators."),
    )


class AnswerForm(forms.Form):
    """The city's answer to an idea: status, public reasoning and optionally the implementing measure."""

    status = forms.ChoiceField(label=_("Status"), choices=IdeaStatus.choices)
    reason = forms.CharField(
        label=_("Public reasoning"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=format_lazy(
            "{} {}",
            _("Shown with the idea. Required for every status except “received”."),
            richtext.HELP,
        ),
    )
    measure = forms.ModelChoiceField(
        label=_("Implementing measure"),
        queryset=Measure.objects.none(),
        required=False,
        empty_label=_("none"),
    )

    def __init__(self, city: City, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["measure"].queryset = Measure.objects.filter(city=city).order_by("title")
        self.fields["measure"].label_from_instance = lambda m: m.tr.title

    def clean(self):
        data = super().clean()
        if (
            data.get("status")
            and data["status"] != IdeaStatus.RECEIVED
            and not (data.get("reason") or "").strip()
        ):
            self.add_error("reason", _("Please give the reasons in public."))
        return data


class IdeaFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)
    q = forms.CharField(label=_("Search"), required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("all")), *IdeaStatus.choices]

    def filter(self, ideas):
        data = self.cleaned_data
        if data.get("status"):
            ideas = ideas.filter(status=data["status"])
        if data.get("q"):
            ideas = ideas.filter(Q(title__icontains=data["q"]) | Q(body__icontains=data["q"]))
        return ideas
