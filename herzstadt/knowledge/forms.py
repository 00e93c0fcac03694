"""Forms of the knowledge pillar: the catalogue's filters and the profile editor.

Lists are edited as plain text, one item per line (parts of an item separated by ``|``), so the
editor works without JavaScript and reads well with a screen reader; each bad line is named in the
error ("Line 2: …").
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from herzstadt.core.models import City
from herzstadt.knowledge.models import CatalogueEntryType, MaturityPhase, MeasureProfile, Partner
from herzstadt.knowledge.services import EDITABLE

#: The own city in the catalogue's "city" filter.
HERE = "here"
MAX_LINES = 50
_TYPE_NAME = re.compile(r"^[A-Z][A-Za-z0-9_]{0,79}$")
_LICENCE = re.compile(r"^[A-Za-z0-9.+()\- ]{1,80}$")
_url = URLValidator(schemes=["http", "https"])


# --- the catalogue's filters ------------------------------------------------------------------------
class CatalogueFilterForm(forms.Form):
    """Filters of the catalogue, sent with GET so every filtered list has its own address."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    field = forms.ChoiceField(label=_("Field of action"), required=False)
    phase = forms.ChoiceField(label=_("Maturity phase"), required=False)
    source = forms.ChoiceField(label=_("City"), required=False)
    model = forms.ChoiceField(label=_("Data model"), required=False)

    def __init__(self, city: City, entries: QuerySet, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        everything = [("", _("all"))]
        fields = (
            entries.exclude(field_of_action="")
            .order_by("field_of_action")
            .values_list("field_of_action", flat=True)
            .distinct()
        )
        self._choices("field", everything + [(f, f) for f in fields])
        self._choices("phase", everything + list(MaturityPhase.choices))
        partners = Partner.objects.filter(city=city, enabled=True).order_by("name")
        self._choices(
            "source", everything + [(HERE, city.name)] + [(str(p.pk), p.name) for p in partners]
        )
        types = (
            CatalogueEntryType.objects.filter(city=city, entry__in=entries)
            .order_by("name")
            .values_list("name", flat=True)
            .distinct()
        )
        self._choices("model", everything + [(t, t) for t in types])

    def _choices(self, name: str, choices: list[tuple[str, Any]]) -> None:
        cast(forms.ChoiceField, self.fields[name]).choices = choices

    def filter(self, entries: QuerySet) -> QuerySet:
        data = self.cleaned_data
        if data.get("field"):
            entries = entries.filter(field_of_action=data["field"])
        if data.get("phase"):
            entries = entries.filter(phase=data["phase"])
        if data.get("source") == HERE:
            entries = entries.filter(partner__isnull=True)
        elif data.get("source"):
            entries = entries.filter(partner_id=int(data["source"]))
        if data.get("model"):
            entries = entries.filter(types__name=data["model"])
        return entries


# --- the profile editor -----------------------------------------------------------------------------
class LinesField(forms.CharField):
    """A list edited as text, one item per line; ``parse(line, number)`` turns a line into an item
    or raises ``ValidationError``."""

    widget = forms.Textarea(attrs={"rows": 5})

    def __init__(self, *args: Any, columns: int = 1, **kwargs: Any) -> None:
        self.columns = columns
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return "\n".join(self.format(item) for item in value)
        return value

    def format(self, item: Any) -> str:
        return str(item)

    def parse(self, parts: list[str]) -> Any:
        return parts[0]

    def clean(self, value: Any) -> list[Any]:
        text = super().clean(value) or ""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if len(lines) > MAX_LINES:
            raise ValidationError(
                _("At most %(n)s lines, please."), code="too_many", params={"n": MAX_LINES}
            )
        items, errors = [], []
        for number, line in enumerate(lines, start=1):
            parts = [p.strip() for p in line.split("|")]
            if len(parts) > self.columns:
                errors.append(
                    ValidationError(
                        _("Line %(n)s: at most %(c)s parts separated by “|”."),
                        params={"n": number, "c": self.columns},
                    )
                )
                continue
            parts += [""] * (self.columns - len(parts))
            try:
                items.append(self.parse(parts))
            except ValidationError as exc:
                errors += [
                    ValidationError(_("Line %(n)s: %(error)s"), params={"n": number, "error": m})
                    for m in exc.messages
                ]
        if errors:
            raise ValidationError(errors)
        return items


def _check_url(value: str, what: Any) -> str:
    if not value:
        return ""
    if len(value) > 500:
        raise ValidationError(_("%(what)s is too long."), params={"what": what})
    try:
        _url(value)
    except ValidationError:
        raise ValidationError(
            _("%(what)s must be an address starting with http:// or https://."),
            params={"what": what},
        ) from None
    return value


class StepsField(LinesField):
    def parse(self, parts: list[str]) -> str:
        if len(parts[0]) > 500:
            raise ValidationError(_("A step may have at most 500 characters."))
        return parts[0]


class TypesField(LinesField):
    def parse(self, parts: list[str]) -> str:
        if not _TYPE_NAME.match(parts[0]):
            raise ValidationError(
                _(
                    "“%(name)s” is not a data model name: a word starting with a capital letter, "
                    "e.g. ParkingSpot."
                ),
                params={"name": parts[0][:80]},
            )
        return parts[0]

    def clean(self, value: Any) -> list[Any]:
        return list(dict.fromkeys(super().clean(value)))


class DatasetsField(LinesField):
    def format(self, item: Any) -> str:
        item = item if isinstance(item, dict) else {}
        return " | ".join(p for p in (item.get("title", ""), item.get("url", "")) if p)

    def parse(self, parts: list[str]) -> dict[str, str]:
        title, url = parts[0], parts[1]
        if not title:
            raise ValidationError(_("The title is missing."))
        if len(title) > 200:
            raise ValidationError(_("The title may have at most 200 characters."))
        return {"title": title, "url": _check_url(url, _("The address"))}


class SoftwareField(LinesField):
    def format(self, item: Any) -> str:
        item = item if isinstance(item, dict) else {}
        parts = [item.get(k, "") for k in ("name", "url", "publiccode_url", "licence")]
        while parts and not parts[-1]:
            parts.pop()
        return " | ".join(parts)

    def parse(self, parts: list[str]) -> dict[str, str]:
        name, url, publiccode, licence = parts
        if not name:
            raise ValidationError(_("The name is missing."))
        if len(name) > 200:
            raise ValidationError(_("The name may have at most 200 characters."))
        if licence and not _LICENCE.match(licence):
            raise ValidationError(
                _("The licence should be an SPDX identifier such as EUPL-1.2 or MIT.")
            )
        return {
            "name": name,
            "url": _check_url(url, _("The repository address")),
            "publiccode_url": _check_url(publiccode, _("The address of publiccode.yml")),
            "licence": licence,
        }


class ProfileForm(forms.ModelForm):
    implementation_steps = StepsField(
        label=_("Implementation steps"), help_text=_("One step per line, in order.")
    )
    entity_types = TypesField(
        label=_("Data models used"),
        help_text=_(
            "One NGSI-LD entity type (Smart Data Models) per line, e.g. ParkingSpot or "
            "AirQualityObserved."
        ),
    )
    datasets = DatasetsField(
        columns=2,
        label=_("Datasets used"),
        help_text=_("One dataset per line: title | address (the address is optional)."),
    )
    software = SoftwareField(
        columns=4,
        label=_("Software used"),
        help_text=_(
            "One program per line: name | repository address | address of its publiccode.yml | "
            "licence (e.g. EUPL-1.2). Only the name is required."
        ),
    )

    class Meta:
        model = MeasureProfile
        fields = list(EDITABLE)
        widgets = {
            name: forms.Textarea(attrs={"rows": 4})
            for name in (
                "problem",
                "target_groups",
                "operator_model",
                "obstacles",
                "success_factors",
            )
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("cost_investment_eur", "cost_operation_eur"):
            self.fields[name].validators.append(_not_negative)
            self.fields[name].widget.attrs["min"] = "0"


def _not_negative(value: Decimal | None) -> None:
    if value is not None and value < 0:
        raise ValidationError(_("Costs cannot be negative."))
