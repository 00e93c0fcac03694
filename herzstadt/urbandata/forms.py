"""Forms of the back-office section "API-Zugänge"."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from herzstadt.urbandata.models import ApiClient, ApiScope, DeviceCredential, DeviceProtocol


def _short(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def type_choices(types: list[str]) -> list[tuple[str, str]]:
    return [(iri, f"{_short(iri)} ({iri})") for iri in types]


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def _iris(value: str) -> list[str]:
    found = []
    for line in _lines(value):
        parts = urlsplit(line)
        if not parts.scheme or not (parts.netloc or parts.path) or any(c.isspace() for c in line):
            raise ValidationError(
                _("“%(value)s” is not an expanded type IRI (e.g. https://…/OffStreetParking)."),
                params={"value": line},
            )
        found.append(line)
    return found


class TypesMixin(forms.Form):
    """Entity types: checkboxes of the types known in the city, plus further IRIs by hand."""

    types = forms.MultipleChoiceField(
        label=_("Entity types"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    more_types = forms.CharField(
        label=_("Further entity types"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One expanded type IRI per line, for types the city has no data of yet."),
    )

    def setup_types(self, known: list[str], current: list[str] | None) -> None:
        field = self.fields["types"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = type_choices(sorted(set(known) | set(current or ())))
        if current and not self.is_bound:
            self.initial["types"] = list(current)

    def clean_more_types(self) -> list[str]:
        return _iris(self.cleaned_data.get("more_types", ""))

    def chosen_types(self) -> list[str]:
        return sorted(
            set(self.cleaned_data.get("types") or ()) | set(self.cleaned_data["more_types"])
        )


class ApiClientForm(TypesMixin, forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=ApiScope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Read: entities, types and queries. Write: create, change and delete entities. "
            "Subscriptions: manage notifications. Purge and administration: delete many entities "
            "at once, hosted @contexts."
        ),
    )
    valid_until = forms.DateField(
        label=_("Valid until (inclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Leave empty for no expiry."),
    )

    class Meta:
        model = ApiClient
        fields = ["name", "description"]

    def __init__(self, known_types: list[str], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["types"].help_text = _("Leave empty for every type of the city.")
        client = self.instance
        if client.pk and not self.is_bound:
            self.initial["scopes"] = list(client.scopes)
            if client.expires_at:
                self.initial["valid_until"] = (
                    timezone.localtime(client.expires_at) - dt.timedelta(days=1)
                ).date()
        self.setup_types(known_types, client.entity_types)
        self.order_fields(["name", "description", "scopes", "types", "more_types", "valid_until"])

    def save(self, commit: bool = True) -> ApiClient:
        client = super().save(commit=False)
        client.scopes = [s for s, _label in ApiScope.choices if s in self.cleaned_data["scopes"]]
        types = self.chosen_types()
        client.entity_types = types or None
        until = self.cleaned_data.get("valid_until")
        client.expires_at = (
            None
            if until is None
            else timezone.make_aware(dt.datetime.combine(until + dt.timedelta(days=1), dt.time()))
        )
        if commit:
            client.save()
        return client


class DeviceForm(TypesMixin, forms.ModelForm):
    class Meta:
        model = DeviceCredential
        fields = ["name", "device_id", "description"]

    def __init__(self, city, known_types: list[str], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.city = city
        self.fields["types"].help_text = _("The device may write and read entities of these types.")
        self.setup_types(known_types, None)

    def clean_device_id(self) -> str:
        device_id = self.cleaned_data["device_id"].strip()
        if DeviceCredential.objects.filter(city=self.city, device_id=device_id).exists():
            raise ValidationError(_("This city has a device with this id already."))
        return device_id

    def clean(self):
        data = super().clean()
        if "more_types" in data and not self.chosen_types():
            self.add_error("types", _("Choose at least one entity type."))
        return data

    def save(self, commit: bool = True) -> DeviceCredential:
        device = super().save(commit=False)
        device.entity_types = self.chosen_types()
        if commit:
            device.save()
        return device


class OpenDataForm(TypesMixin, forms.Form):
    personal_types = forms.MultipleChoiceField(
        label=_("Personal data: entity types about people or households"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "E.g. household smart meters. These types are never open data; the city's pages show "
            "them only aggregated over at least 5 sources."
        ),
    )
    cors_origins = forms.CharField(
        label=_("Allowed origins (CORS)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Web pages at these origins may call the API from the browser, one per line "
            "(e.g. https://dashboard.example.org). Leave empty to allow none."
        ),
    )

    def __init__(self, known_types: list[str], current, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["types"].label = _("Open data: entity types anyone may read")
        self.fields["types"].help_text = _(
            "Publish only types without personal data. Anyone may read them without a key."
        )
        self.setup_types(known_types, current.open_data_types)
        personal = self.fields["personal_types"]
        assert isinstance(personal, forms.MultipleChoiceField)
        personal.choices = type_choices(sorted(set(known_types) | set(current.personal_types)))
        if not self.is_bound:
            self.initial["cors_origins"] = "\n".join(current.cors_origins)
            self.initial["personal_types"] = list(current.personal_types)

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            both = set(self.chosen_types()) & set(cleaned.get("personal_types") or ())
            if both:
                raise ValidationError(
                    _(
                        "Personal data can't be open data: %(types)s. Untick these types under "
                        "open data or under personal data."
                    ),
                    params={"types": ", ".join(sorted(_short(t) for t in both))},
                )
        return cleaned

    def clean_cors_origins(self) -> list[str]:
        found = []
        for line in _lines(self.cleaned_data.get("cors_origins", "")):
            parts = urlsplit(line)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
                raise ValidationError(
                    _("“%(value)s” is not an origin (scheme and host, e.g. https://example.org)."),
                    params={"value": line},
                )
            found.append(f"{parts.scheme}://{parts.netloc}".lower())
        return found


class RegisteredDeviceForm(forms.Form):
    """A device of the registry (MQTT ingestion), checked by :func:`herzstadt.urbandata.devices.check`."""

    device_id = forms.CharField(label=_("Device id"), max_length=200)
    protocol = forms.ChoiceField(
        label=_("Protocol"),
        choices=[
            (DeviceProtocol.IOTA_JSON, DeviceProtocol.IOTA_JSON.label),
            (DeviceProtocol.TTS, DeviceProtocol.TTS.label),
        ],
    )
    application = forms.CharField(
        label=_("TTS application"),
        max_length=200,
        required=False,
        help_text=_("The Things Stack only: application-id@tenant-id, as in the uplink topic."),
    )
    credential = forms.ModelChoiceField(
        label=_("Device key"),
        queryset=DeviceCredential.objects.none(),
        help_text=_("The key that may send for this device; its entity types apply."),
    )
    entity_id = forms.CharField(
        label=_("Entity id"),
        max_length=500,
        help_text=_("For example urn:ngsi-ld:AirQualityObserved:sensor-1"),
    )
    entity_type = forms.CharField(
        label=_("Entity type"),
        max_length=500,
        help_text=_("The full type IRI, one of the device key's types."),
    )
    time_key = forms.CharField(
        label=_("Time field"),
        max_length=120,
        required=False,
        help_text=_(
            "Measure that carries the observation time (e.g. TimeInstant); else the receipt time."
        ),
    )
    mapping = forms.CharField(
        label=_("Attribute mapping (JSON)"),
        widget=forms.Textarea(attrs={"rows": 8}),
        initial="[]",
        help_text=_(
            'A list of rules, e.g. [{"key": "t", "attribute": "temperature", "unitCode": "CEL", '
            '"scale": 0.1, "offset": -40}, {"key": "pos", "attribute": "location", "kind": '
            '"GeoProperty"}]. Only mapped measures are written.'
        ),
    )

    FIELDS = {
        "deviceId": "device_id",
        "protocol": "protocol",
        "application": "application",
        "deviceKey": "credential",
        "entityId": "entity_id",
        "entityType": "entity_type",
        "timeKey": "time_key",
        "mapping": "mapping",
    }

    def __init__(self, city, *args, instance=None, **kwargs):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "device_id": instance.device_id,
                "protocol": instance.protocol,
                "application": instance.application,
                "credential": instance.credential_id,
                "entity_id": instance.entity_id,
                "entity_type": instance.entity_type,
                "time_key": instance.time_key,
                "mapping": json.dumps(instance.mapping, indent=1, ensure_ascii=False),
            }
        super().__init__(*args, **kwargs)
        self.city = city
        self.instance = instance
        self.fields["credential"].queryset = DeviceCredential.objects.filter(
            city=city, revoked_at__isnull=True
        )
        self.device = None

    def clean(self):
        from herzstadt.urbandata import devices

        data = super().clean()
        if self.errors:
            return data
        try:
            mapping = json.loads(data["mapping"])
        except ValueError:
            self.add_error("mapping", _("This is not JSON."))
            return data
        payload = {
            "deviceId": data["device_id"],
            "protocol": data["protocol"],
            "application": data["application"],
            "deviceKey": data["credential"].pk,
            "entityId": data["entity_id"],
            "entityType": data["entity_type"],
            "timeKey": data["time_key"],
            "mapping": mapping,
        }
        try:
            self.device = devices.check(self.city, payload, self.instance)
        except devices.DeviceError as e:
            for key, message in e.errors.items():
                self.add_error(self.FIELDS.get(key), message)
        return data
