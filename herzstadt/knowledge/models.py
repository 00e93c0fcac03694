"""Knowledge transfer: a measure's profile for other cities, partners this city follows, their
harvested measures, and the record of who replicated one of this city's measures.

Every table carries its city (``city``): the profile and the reuse record that of the measure; a
partner and its harvested measures that of the *following* city.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from herzstadt.core.models import City, Measure, Translatable


class MaturityPhase(models.TextChoices):
    """The phases of the Smart City scaling roadmap (Skalierungsfahrplan)."""

    IDEA = "idea", _("idea")
    PROTOTYPE = "prototype", _("prototype")
    PILOT = "pilot", _("pilot")
    OPERATION = "operation", _("permanent operation")
    TRANSFER = "transfer", _("transfer")


class MeasureProfile(Translatable):
    """What another city needs to learn from a measure and to do it again (one per measure).

    The measure itself (core) keeps title, summary, description, goals, status, timeline, budget,
    funding, office, results and lessons learned; the profile adds the rest of a transfer profile.
    When the measure was replicated from a partner, ``origin_*`` hold its provenance.
    """

    city = models.ForeignKey(City, verbose_name=_("city"), on_delete=models.CASCADE, editable=False)
    measure = models.OneToOneField(
        Measure, verbose_name=_("measure"), on_delete=models.CASCADE, related_name="profile"
    )
    shared = models.BooleanField(
        _("shared with other cities"),
        default=True,
        help_text=_("Shown in the knowledge catalogue and offered to partner cities."),
    )
    phase = models.CharField(
        _("maturity phase"), max_length=16, choices=MaturityPhase, default=MaturityPhase.IDEA
    )
    problem = models.TextField(_("problem"), blank=True)
    target_groups = models.TextField(_("target groups"), blank=True)
    implementation_steps = models.JSONField(
        _("implementation steps"), default=list, blank=True, help_text=_("A list of steps.")
    )
    entity_types = models.JSONField(
        _("data models used"),
        default=list,
        blank=True,
        help_text=_(
            "NGSI-LD entity types (Smart Data Models) the measure needs, e.g. ParkingSpot."
        ),
    )
    datasets = models.JSONField(
        _("datasets used"), default=list, blank=True, help_text=_("A list of {title, url}.")
    )
    software = models.JSONField(
        _("software used"),
        default=list,
        blank=True,
        help_text=_("A list of {name, url, publiccode_url, licence}."),
    )
    operator_model = models.TextField(_("operator model"), blank=True)
    cost_investment_eur = models.DecimalField(
        _("investment (EUR)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    cost_operation_eur = models.DecimalField(
        _("operating costs per year (EUR)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    obstacles = models.TextField(_("obstacles"), blank=True)
    success_factors = models.TextField(_("success factors"), blank=True)
    contact_name = models.CharField(_("contact"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact e-mail address"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # provenance of a replicated measure (W3C PROV: prov:wasDerivedFrom the origin's record)
    origin_uri = models.URLField(_("origin (address)"), max_length=500, blank=True)
    origin_city = models.CharField(_("origin city"), max_length=200, blank=True)
    origin_title = models.CharField(_("origin measure"), max_length=200, blank=True)
    origin_version = models.PositiveIntegerField(_("origin version"), null=True, blank=True)
    adopted_at = models.DateTimeField(_("adopted"), null=True, blank=True)
    adopted_parts = models.JSONField(_("parts taken over"), default=list, blank=True)
    # the partner the measure was adopted from, and whether telling the origin is still pending
    # (network: the report-back is retried by the harvest task until the origin accepted it)
    origin_partner = models.ForeignKey(
        "Partner",
        verbose_name=_("adopted from partner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    report_pending = models.BooleanField(_("report to the origin pending"), default=False)
    report_error = models.TextField(_("last report error"), blank=True, editable=False)

    class Meta:
        verbose_name = _("measure profile")
        verbose_name_plural = _("measure profiles")
        indexes = [models.Index(fields=["city", "shared", "phase"])]

    def __str__(self) -> str:
        return str(self.measure)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.city_id = self.measure.city_id
        super().save(*args, **kwargs)


class SyncStatus(models.TextChoices):
    NEW = "new", _("not yet synchronised")
    OK = "ok", _("up to date")
    ERROR = "error", _("failed")


class Partner(models.Model):
    """A partner installation's city this city follows: its catalogues are harvested on a schedule."""

    city = models.ForeignKey(City, verbose_name=_("city"), on_delete=models.CASCADE, editable=False)
    base_url = models.URLField(_("address of the installation"), max_length=500)
    remote_slug = models.SlugField(_("short name at the partner"), max_length=80)
    name = models.CharField(_("name"), max_length=200)
    measures_url = models.URLField(_("measure catalogue (address)"), max_length=500, blank=True)
    dcat_url = models.URLField(_("DCAT catalogue (address)"), max_length=500, blank=True)
    api_key = models.CharField(
        _("key for reports to the partner"),
        max_length=200,
        blank=True,
        help_text=_("An API key the partner issued to this city (reports of replications)."),
    )
    enabled = models.BooleanField(_("follow"), default=True)
    status = models.CharField(
        _("synchronisation"), max_length=8, choices=SyncStatus, default=SyncStatus.NEW
    )
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    next_sync_at = models.DateTimeField(_("next synchronisation"), null=True, blank=True)
    etag = models.CharField(max_length=200, blank=True, editable=False)
    last_modified = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # a small copy of the partner's DCAT catalogue: [{"title": …, "url": …}] (network)
    datasets = models.JSONField(_("datasets of the partner"), default=list, blank=True)
    datasets_synced_at = models.DateTimeField(_("datasets synchronised"), null=True, blank=True)
    datasets_error = models.TextField(_("last error of the DCAT catalogue"), blank=True)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["city", "base_url", "remote_slug"], name="partner_once_per_city"
            )
        ]

    def __str__(self) -> str:
        return self.name


class PartnerMeasure(models.Model):
    """The local copy of one measure of a partner (kept when the partner is unreachable)."""

    city = models.ForeignKey(City, verbose_name=_("city"), on_delete=models.CASCADE, editable=False)
    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.CASCADE, related_name="measures"
    )
    remote_id = models.URLField(_("identifier at the partner"), max_length=500)
    url = models.URLField(_("page at the partner"), max_length=500, blank=True)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    field_of_action = models.CharField(_("field of action"), max_length=200, blank=True)
    phase = models.CharField(_("maturity phase"), max_length=16, blank=True)
    status = models.CharField(_("status"), max_length=16, blank=True)
    entity_types = models.JSONField(_("data models used"), default=list, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    modified = models.DateTimeField(_("modified"), null=True, blank=True)
    data = models.JSONField(_("record"), default=dict)
    harvested_at = models.DateTimeField(_("harvested"), auto_now=True)

    class Meta:
        verbose_name = _("partner measure")
        verbose_name_plural = _("partner measures")
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "remote_id"], name="partner_measure_once")
        ]
        indexes = [models.Index(fields=["city", "phase"])]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.city_id = self.partner.city_id
        super().save(*args, **kwargs)


class Reuse(models.Model):
    """Another city replicated one of this city's measures (reported over the network API)."""

    city = models.ForeignKey(City, verbose_name=_("city"), on_delete=models.CASCADE, editable=False)
    measure = models.ForeignKey(
        Measure, verbose_name=_("measure"), on_delete=models.CASCADE, related_name="reuses"
    )
    adopter_name = models.CharField(_("city"), max_length=200)
    adopter_uri = models.URLField(_("the city's installation"), max_length=500, blank=True)
    adopted_measure_url = models.URLField(_("its measure"), max_length=500)
    adopted_title = models.CharField(_("its title"), max_length=200, blank=True)
    origin_version = models.PositiveIntegerField(_("version adopted"), null=True, blank=True)
    adopted_at = models.DateTimeField(_("adopted"), null=True, blank=True)
    reported_at = models.DateTimeField(_("reported"), auto_now_add=True)

    class Meta:
        verbose_name = _("reuse")
        verbose_name_plural = _("reuses")
        ordering = ["-reported_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "adopted_measure_url"], name="reuse_once_per_adopted_measure"
            )
        ]

    def __str__(self) -> str:
        return f"{self.adopter_name}: {self.adopted_title}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.city_id = self.measure.city_id
        super().save(*args, **kwargs)


class CatalogueKind(models.TextChoices):
    OWN = "own", _("this city")
    PARTNER = "partner", _("partner city")


class CatalogueEntry(models.Model):
    """One line of the public catalogue "Wissen": a shared profile of this city's own measure or a
    harvested partner measure, denormalised so a catalogue page is one query (plus its count).

    Maintained by :mod:`herzstadt.knowledge.search` (signals on the profile, the measure and the
    partner measure). ``search_title``/``search_body`` are what the full-text index reads: on
    PostgreSQL a generated ``tsvector`` column ``search_document`` (``german`` configuration, GIN
    index), on SQLite the FTS5 table ``knowledge_search_fts`` kept in step by triggers — both
    created by migration 0002, outside Django's model state.
    """

    city = models.ForeignKey(City, verbose_name=_("city"), on_delete=models.CASCADE, editable=False)
    kind = models.CharField(_("kind"), max_length=8, choices=CatalogueKind)
    profile = models.OneToOneField(
        MeasureProfile, on_delete=models.CASCADE, null=True, blank=True, related_name="entry"
    )
    partner_measure = models.OneToOneField(
        PartnerMeasure, on_delete=models.CASCADE, null=True, blank=True, related_name="entry"
    )
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, null=True, blank=True)
    slug = models.SlugField(_("short name"), max_length=80, blank=True)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    field_of_action = models.CharField(_("field of action"), max_length=200, blank=True)
    phase = models.CharField(_("maturity phase"), max_length=16, blank=True)
    source_name = models.CharField(_("city"), max_length=200, blank=True)
    entity_types = models.JSONField(_("data models used"), default=list, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    modified = models.DateTimeField(_("modified"), null=True, blank=True)
    search_title = models.TextField(blank=True, editable=False)
    search_body = models.TextField(blank=True, editable=False)

    class Meta:
        verbose_name = _("catalogue entry")
        verbose_name_plural = _("catalogue entries")
        ordering = ["title", "pk"]
        indexes = [
            models.Index(fields=["city", "title"]),
            models.Index(fields=["city", "phase"]),
            models.Index(fields=["city", "field_of_action"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def phase_label(self) -> Any:
        return MaturityPhase(self.phase).label if self.phase in MaturityPhase.values else ""


class CatalogueEntryType(models.Model):
    """A data model (NGSI-LD type) an entry uses: what the catalogue's "data model" filter joins."""

    city = models.ForeignKey(City, on_delete=models.CASCADE, editable=False)
    entry = models.ForeignKey(CatalogueEntry, on_delete=models.CASCADE, related_name="types")
    name = models.CharField(_("data model"), max_length=120)

    class Meta:
        indexes = [models.Index(fields=["city", "name"])]
        constraints = [
            models.UniqueConstraint(fields=["entry", "name"], name="catalogue_entry_type_once")
        ]

    def __str__(self) -> str:
        return self.name


class PartnerKey(models.Model):
    """A key this city issued to a partner city so that it can report replications of this city's
    measures (``Authorization: Bearer hzn_…`` on the network API). Only its SHA-256 is stored."""

    PREFIX = "hzn_"

    city = models.ForeignKey(City, verbose_name=_("city"), on_delete=models.CASCADE, editable=False)
    name = models.CharField(
        _("partner"), max_length=200, help_text=_("Who gets the key, e.g. the partner city's name.")
    )
    key_prefix = models.CharField(_("key begins with"), max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("key for a partner city")
        verbose_name_plural = _("keys for partner cities")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name
