"""Forms of the eligibility pages (back office and the account verification)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from herzstadt.decisions.eligible.census import MAX_BYTES
from herzstadt.decisions.eligible.codes import MAX_CODES


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Voting code from your letter"),
        max_length=60,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class PersonForm(forms.Form):
    person = forms.CharField(
        label=_("Identifier or voting code"),
        max_length=60,
        help_text=_("From the identity document (census identifier) or the letter."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class CensusForm(forms.Form):
    census = forms.FileField(
        label=_("Census file (CSV)"),
        help_text=_(
            "Columns: identifier (Kennung), birth date (Geburtsdatum), district (Stadtteil); "
            "optional name, street, postcode and town for the letters. Separated by ; or ,."
        ),
    )
    letters = forms.BooleanField(
        label=_("Print letters with voting codes for everyone who has none yet (PDF)"),
        required=False,
    )

    def clean_census(self):
        upload = self.cleaned_data["census"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("The file is too large."))
        return upload


class CodesForm(forms.Form):
    count = forms.IntegerField(
        label=_("Number of voting codes"),
        min_value=1,
        max_value=MAX_CODES,
        help_text=_("Letters without addresses, e.g. for households; one vote per code."),
    )


class EnvelopeForm(forms.Form):
    envelope = forms.CharField(label=_("Sheet number"), max_length=40)
