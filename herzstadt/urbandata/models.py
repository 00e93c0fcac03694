"""Access to the city's urban data: its open-data types, API clients and device credentials.

Every row carries its city; the broker's tenant is the city's ``ngsi_tenant``. Secrets (API keys,
device keys) are stored as SHA-256 digests (:func:`herzstadt.ngsi.auth.hash_key`) with the first
characters kept to recognise a key; the key itself is shown once, when it is made. OAuth2 client
credentials live in django-oauth-toolkit's ``Application`` (secret hashed), linked 1:1 to a client.
Entity types are stored as expanded IRIs, the way the broker compares them.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from herzstadt.core.models import CityOwned
from herzstadt.ngsi.auth import Scope, hash_key

#: Key prefixes: a client's key and a device's key are told apart by their first characters.
CLIENT_KEY_PREFIX = "hzk_"
DEVICE_KEY_PREFIX = "hzd_"
#: How many leading characters of a key are kept to recognise it.
KEY_PREFIX_LENGTH = 8
#: Values of a personal entity type are shown only aggregated over at least this many sources.
K_ANONYMITY = 5


class ApiScope(models.TextChoices):
    READ = Scope.READ.value, _("read")
    WRITE = Scope.WRITE.value, _("write")
    SUBSCRIPTIONS = Scope.SUBSCRIPTIONS.value, _("subscriptions")
    ADMIN = Scope.ADMIN.value, _("purge and administration")


def new_key(prefix: str) -> str:
    """A fresh random key (256 bits) with a recognisable prefix."""
    return prefix + secrets.token_urlsafe(32)


class UrbanDataSettings(CityOwned):
    """What a city publishes: entity types anyone may read (open data), the entity types that
    hold personal data (never open data, shown only aggregated over at least
    :data:`K_ANONYMITY` sources) and the browser origins that may call the API (CORS)."""

    open_data_types = models.JSONField(_("open data types"), default=list, blank=True)
    personal_types = models.JSONField(_("personal data types"), default=list, blank=True)
    cors_origins = models.JSONField(_("allowed origins (CORS)"), default=list, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("urban data settings")
        verbose_name_plural = _("urban data settings")
        constraints = [models.UniqueConstraint(fields=["city"], name="urbandata_settings_city")]

    def __str__(self) -> str:
        return str(self.city)


class Credential(CityOwned):
    """What API clients and devices share: a name, a hashed key, when it was used and revoked."""

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    key_prefix = models.CharField(_("key begins with"), max_length=KEY_PREFIX_LENGTH, blank=True)
    key_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    KEY_PREFIX = ""
    AUDIT_PREFIX = ""

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def audit_id(self) -> str:
        """The client id the broker's audit trail records for this credential."""
        return f"{self.AUDIT_PREFIX}{self.pk}"

    @property
    def active(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )

    def set_new_key(self) -> str:
        """Give the credential a new key (the old one stops working); returns the key, which is
        not stored and cannot be shown again. The caller saves."""
        key = new_key(self.KEY_PREFIX)
        self.key_hash = hash_key(key)
        self.key_prefix = key[:KEY_PREFIX_LENGTH]
        return key

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])


class ApiClient(Credential):
    """An application that uses the city's NGSI-LD API (a dashboard, a data pipeline, …)."""

    scopes = models.JSONField(_("scopes"), default=list)
    #: expanded type IRIs it may touch; None: every type
    entity_types = models.JSONField(_("entity types"), null=True, blank=True)
    application = models.OneToOneField(
        "oauth2_provider.Application",
        verbose_name=_("OAuth2 application"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="api_client",
    )

    KEY_PREFIX = CLIENT_KEY_PREFIX
    AUDIT_PREFIX = "client-"

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name", "pk"]

    def scope_labels(self) -> list[str]:
        labels = dict(ApiScope.choices)
        return [str(labels.get(s, s)) for s in self.scopes]


class DeviceCredential(Credential):
    """A sensor or gateway that writes measurements (e.g. through the coming MQTT ingestion): it
    may write and read entities of its types only."""

    device_id = models.CharField(_("device id"), max_length=200)
    entity_types = models.JSONField(_("entity types"), default=list)

    KEY_PREFIX = DEVICE_KEY_PREFIX
    AUDIT_PREFIX = "device-"

    class Meta:
        verbose_name = _("device credential")
        verbose_name_plural = _("device credentials")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["city", "device_id"], name="urbandata_device_id")
        ]


class MeasureEntityTypes(CityOwned):
    """The entity types a measure produces (e.g. the air-quality network: AirQualityObserved,
    NoiseLevelObserved): the measure's page shows their current values in its district."""

    measure = models.OneToOneField(
        "core.Measure",
        verbose_name=_("measure"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    #: expanded type IRIs
    entity_types = models.JSONField(_("entity types"), default=list, blank=True)

    class Meta:
        verbose_name = _("entity types of a measure")
        verbose_name_plural = _("entity types of measures")

    def __str__(self) -> str:
        return str(self.measure)


@receiver(post_delete, sender=ApiClient)
def _delete_oauth_application(sender, instance: ApiClient, **kwargs) -> None:
    """A deleted client (e.g. with its city) leaves no OAuth2 application that could get tokens."""
    if instance.application_id is not None:
        from oauth2_provider.models import Application

        Application.objects.filter(pk=instance.application_id).delete()


class DeviceProtocol(models.TextChoices):
    """How a provisioned device's messages arrive (see docs/urbandata.md for the topics)."""

    IOTA_JSON = "iota-json", _("IoT Agent JSON measures")
    TTS = "tts", _("The Things Stack (LoRaWAN) uplinks")
    NGSI_LD = "ngsi-ld", _("NGSI-LD entities")


class Device(CityOwned):
    """A provisioned device of the device registry: whose messages are mapped to which entity.

    ``mapping`` is a list of ``{"key", "attribute", "kind", "unitCode", "scale", "offset"}``: the
    measure ``key`` of a message becomes the attribute ``attribute`` (an IRI or a name of the
    NGSI-LD core @context) of the entity ``entity_id``, a ``Property`` (value × scale + offset)
    or a ``GeoProperty``. Only mapped attributes are written, never any other. ``credential`` is
    the device key that may send for the device (its entity types apply)."""

    device_id = models.CharField(_("device id"), max_length=200)
    protocol = models.CharField(
        _("protocol"),
        max_length=16,
        choices=DeviceProtocol.choices,
        default=DeviceProtocol.IOTA_JSON,
    )
    #: The Things Stack: ``<application-id>@<tenant-id>`` of the uplink topic
    application = models.CharField(_("TTS application"), max_length=200, blank=True)
    entity_id = models.CharField(_("entity id"), max_length=500)
    entity_type = models.CharField(_("entity type"), max_length=500)
    mapping = models.JSONField(_("attribute mapping"), default=list, blank=True)
    time_key = models.CharField(
        _("time field"),
        max_length=120,
        blank=True,
        help_text=_("Measure whose value is the observation time (ISO 8601)."),
    )
    credential = models.ForeignKey(
        DeviceCredential,
        verbose_name=_("device key"),
        on_delete=models.CASCADE,
        related_name="devices",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    messages_received = models.BigIntegerField(_("messages"), default=0)
    messages_rejected = models.BigIntegerField(_("rejected messages"), default=0)

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["device_id", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["city", "protocol", "application", "device_id"],
                name="urbandata_device_registry_id",
            )
        ]

    def __str__(self) -> str:
        return self.device_id


class DeadLetter(models.Model):
    """A message the ingestion could not use (bad JSON, unknown key or device, a type the key may
    not write, invalid NGSI-LD): kept for staff, bounded in number and age. ``city`` is empty
    when the message named no known credential."""

    city = models.ForeignKey(
        "core.City", verbose_name=_("city"), null=True, blank=True, on_delete=models.CASCADE
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    topic = models.CharField(_("topic"), max_length=500)
    payload = models.TextField(_("payload (excerpt)"), blank=True)
    reason = models.CharField(_("reason"), max_length=500)
    device_id = models.CharField(_("device id"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("rejected message")
        verbose_name_plural = _("rejected messages")
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.topic}: {self.reason}"
