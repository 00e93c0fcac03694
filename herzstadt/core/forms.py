from __future__ import annotations

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from herzstadt.core.models import City, District, FieldOfAction, MeasureStatus


class MeasureFilterForm(forms.Form):
    """Filters of the measure list, sent with GET so every filtered list has its own address."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    field = forms.ModelChoiceField(
        label=_("Field of action"),
        queryset=FieldOfAction.objects.none(),
        required=False,
        to_field_name="slug",
        empty_label=_("all"),
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    district = forms.ModelChoiceField(
        label=_("District"),
        queryset=District.objects.none(),
        required=False,
        to_field_name="slug",
        empty_label=_("all"),
    )

    def __init__(self, city: City, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].queryset = FieldOfAction.objects.filter(city=city)
        self.fields["district"].queryset = District.objects.filter(city=city)
        self.fields["status"].choices = [("", _("all")), *MeasureStatus.choices]
        self.fields["field"].label_from_instance = lambda obj: obj.tr.name
        self.fields["district"].label_from_instance = lambda obj: obj.tr.name

    def filter(self, measures: QuerySet) -> QuerySet:
        data = self.cleaned_data
        if data.get("q"):
            text = data["q"]
            measures = measures.filter(
                Q(title__icontains=text)
                | Q(summary__icontains=text)
                | Q(description__icontains=text)
            )
        if data.get("field"):
            measures = measures.filter(field_of_action=data["field"])
        if data.get("status"):
            measures = measures.filter(status=data["status"])
        if data.get("district"):
            measures = measures.filter(district=data["district"])
        return measures
