"""Forms of the network's back office."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from herzstadt.core.models import City, District, FieldOfAction, Measure
from herzstadt.knowledge.models import Partner
from herzstadt.knowledge.network.client import NetworkError, check_url


class PartnerAddForm(forms.Form):
    """Step 1: the installation's address; step 2 (several hosted cities there): which city."""

    url = forms.URLField(
        label=_("Address of the partner's installation"),
        max_length=400,
        assume_scheme="https",
        help_text=_("For example https://herzstadt.solingen.de — the start page of its site."),
    )
    remote_slug = forms.SlugField(
        label=_("City at this installation"), required=False, widget=forms.HiddenInput
    )
    api_key = forms.CharField(
        label=_("Key for reports to the partner"),
        max_length=200,
        required=False,
        help_text=_(
            "Optional: the key the partner city issued to you, so that it learns when you "
            "take over one of its measures."
        ),
    )

    def __init__(self, *args: Any, cities: list[dict] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cities = cities or []
        if self.cities:
            self.fields["remote_slug"].widget = forms.Select(
                choices=[("", "—")] + [(c["slug"], c["name"]) for c in self.cities]
            )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        try:
            check_url(url)
        except NetworkError as e:
            raise forms.ValidationError(str(e)) from None
        return url.rstrip("/")


class PartnerEditForm(forms.ModelForm):
    """Name, following on/off and the key for reports (never shown again: empty keeps it)."""

    class Meta:
        model = Partner
        fields = ["name", "enabled", "api_key"]
        widgets = {"api_key": forms.PasswordInput(render_value=False)}
        help_texts = {
            "api_key": _(
                "The key the partner issued to this city. Leave empty to keep the current one."
            )
        }

    def clean_api_key(self) -> str:
        return self.cleaned_data.get("api_key") or self.instance.api_key


class PartnerKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Partner city"),
        max_length=200,
        help_text=_("Who gets the key, e.g. the partner city's name."),
    )


class AdoptForm(forms.Form):
    """What to take over from a partner's measure, and where it goes in this city."""

    slug = forms.SlugField(label=_("Short name of the new measure"), max_length=80)
    title = forms.CharField(label=_("Title"), max_length=200)
    field_of_action = forms.ModelChoiceField(
        label=_("Field of action"), queryset=FieldOfAction.objects.none()
    )
    district = forms.ModelChoiceField(
        label=_("District"),
        queryset=District.objects.none(),
        required=False,
        help_text=_("Empty for a measure that concerns the whole city."),
    )
    profile = forms.BooleanField(
        label=_("Profile texts (problem, goals, steps, costs, lessons …)"),
        required=False,
        initial=True,
    )
    milestones = forms.BooleanField(
        label=_("Milestone plan"),
        required=False,
        initial=True,
        help_text=_("Re-dated from the start date below, none marked as reached."),
    )
    start_date = forms.DateField(
        label=_("Start date for the milestones"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, city: City, parts: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.city = city
        self.fields["field_of_action"].queryset = FieldOfAction.objects.filter(city=city)  # type: ignore[attr-defined]
        self.fields["district"].queryset = District.objects.filter(city=city)  # type: ignore[attr-defined]
        self.part_keys = []
        for part in parts:
            name = f"part_{part.key}"
            self.fields[name] = forms.BooleanField(label=part.label, required=False, initial=True)
            self.part_keys.append((name, part.key))

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if Measure.objects.filter(city=self.city, slug=slug).exists():
            raise forms.ValidationError(_("A measure with this short name exists already."))
        return slug

    def chosen_parts(self) -> list[str]:
        return [key for name, key in self.part_keys if self.cleaned_data.get(name)]
