"""Django admin for urban data: which entity types a measure produces (its page shows their values)."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from herzstadt.urbandata.models import MeasureEntityTypes


class MeasureEntityTypesForm(forms.ModelForm):
    class Meta:
        model = MeasureEntityTypes
        fields = ["measure", "entity_types"]
        help_texts = {
            "entity_types": _(
                'A JSON list of expanded type IRIs, e.g. ["https://smartdatamodels.org/'
                'dataModel.Environment/AirQualityObserved"].'
            )
        }

    def clean_entity_types(self):
        value = self.cleaned_data.get("entity_types")
        if not isinstance(value, list) or not all(
            isinstance(t, str) and t.startswith(("http://", "https://", "urn:")) for t in value
        ):
            raise ValidationError(_("Give a list of expanded type IRIs."))
        return sorted(set(value))


@admin.register(MeasureEntityTypes)
class MeasureEntityTypesAdmin(admin.ModelAdmin):
    form = MeasureEntityTypesForm
    list_display = ["measure", "city"]
    list_filter = ["city"]
    autocomplete_fields = ["measure"]

    def save_model(self, request, obj, form, change):
        obj.city = obj.measure.city  # the row carries the measure's city
        super().save_model(request, obj, form, change)
