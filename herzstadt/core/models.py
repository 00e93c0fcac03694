"""The hub every pillar hangs on: cities (tenants), their districts and their measures.

Every table carries its city (``city_id``), so one installation can host several municipalities and the
data can later be distributed by city. Content is written in German; optional translations live in an
``i18n`` JSON field (``{"en": {"title": "..."}}``) and are picked by :meth:`Translatable.tr`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from herzstadt.core import leichte_sprache
from herzstadt.core.geo import GeometryError, parse_geometry


class Translatable(models.Model):
    """Content in German with optional translations: ``obj.tr.title`` is the title in the active language."""

    i18n = models.JSONField(
        _("translations"),
        default=dict,
        blank=True,
        help_text=_('Translations by language, e.g. {"en": {"title": "…", "summary": "…"}}.'),
    )

    class Meta:
        abstract = True

    @property
    def tr(self) -> _Translated:
        return _Translated(self)

    def clean(self) -> None:
        super().clean()
        if not isinstance(self.i18n, dict) or not all(
            isinstance(v, dict) for v in self.i18n.values()
        ):
            raise ValidationError({"i18n": _("Translations must map a language to an object.")})


class _Translated:
    __slots__ = ("_obj",)

    def __init__(self, obj: Translatable) -> None:
        self._obj = obj

    def __getattr__(self, name: str) -> Any:
        lang = (get_language() or "de").split("-")[0]
        if name in getattr(self._obj, "LEICHTE_SPRACHE_FIELDS", ()) and leichte_sprache.active():
            value = getattr(self._obj, f"ls_{name}", "")
            if value:
                return value
        if lang != "de":
            value = (self._obj.i18n or {}).get(lang, {}).get(name)
            if value:
                return value
        return getattr(self._obj, name)

    __getitem__ = __getattr__


class LeichteSprache(models.Model):
    """Texts in Leichte Sprache (easy-to-read German) beside the ordinary ones.

    A subclass names its texts in ``LEICHTE_SPRACHE_FIELDS`` and declares an ``ls_<name>`` field for each
    (:func:`ls_field`); while a reader has Leichte Sprache on, ``obj.tr.<name>`` returns it when filled.
    """

    LEICHTE_SPRACHE_FIELDS: tuple[str, ...] = ()

    class Meta:
        abstract = True

    @property
    def has_leichte_sprache(self) -> bool:
        return any(getattr(self, f"ls_{name}", "") for name in self.LEICHTE_SPRACHE_FIELDS)


def ls_field(verbose_name: Any, max_length: int | None = None) -> models.TextField:
    """An optional text in Leichte Sprache."""
    return models.TextField(
        verbose_name,
        blank=True,
        max_length=max_length,
        help_text=_(
            "Short sentences, one statement each, common words; explain hard words; split long "
            "words with a middle dot (Bürger·beteiligung). Empty: the ordinary text is shown."
        ),
    )


class CityRole(models.TextChoices):
    HOSTED = "hosted", _("hosted on this platform")
    PARTNER = "partner", _("partner city")


class City(LeichteSprache, Translatable):
    """A municipality: the tenant. Hosted cities have their own site; partner cities are network records."""

    LEICHTE_SPRACHE_FIELDS = ("description",)

    slug = models.SlugField(_("short name"), unique=True)
    name = models.CharField(_("name"), max_length=120)
    official_name = models.CharField(_("official name"), max_length=200, blank=True)
    state = models.CharField(_("federal state"), max_length=80, blank=True)
    ags = models.CharField(
        _("municipality key (AGS)"),
        max_length=8,
        blank=True,
        validators=[RegexValidator(r"^\d{8}$", _("The AGS has eight digits."))],
    )
    role = models.CharField(_("role"), max_length=16, choices=CityRole, default=CityRole.HOSTED)
    domain = models.CharField(
        _("domain"),
        max_length=253,
        blank=True,
        help_text=_(
            "Host name this city's site is served under, e.g. herzstadt.kaiserslautern.de."
        ),
    )
    website = models.URLField(_("website"), blank=True)
    contact_email = models.EmailField(
        _("contact e-mail address"),
        blank=True,
        help_text=_(
            "Where people write to the city about the platform, e.g. to have content removed. "
            "Shown on the account pages."
        ),
    )
    description = models.TextField(_("description"), blank=True)
    ls_description = ls_field(_("description in Leichte Sprache"))
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    ngsi_tenant = models.CharField(
        _("NGSI-LD tenant"),
        max_length=64,
        blank=True,
        help_text=_(
            "Tenant of this city's urban data in the NGSI-LD broker (empty: the default tenant)."
        ),
    )
    partners = models.ManyToManyField(
        "self", verbose_name=_("partner cities"), blank=True, symmetrical=True
    )

    class Meta:
        verbose_name = _("city")
        verbose_name_plural = _("cities")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["domain"], condition=~models.Q(domain=""), name="city_domain_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class CityOwned(models.Model):
    """Base for every table below the city: the row carries its city."""

    city = models.ForeignKey(City, verbose_name=_("city"), on_delete=models.CASCADE)

    class Meta:
        abstract = True


class District(CityOwned, Translatable):
    slug = models.SlugField(_("short name"))
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    boundary = models.JSONField(
        _("boundary"),
        help_text=_("GeoJSON Polygon or MultiPolygon in WGS 84 (longitude, latitude)."),
    )
    boundary_approximate = models.BooleanField(_("boundary is approximate"), default=False)
    boundary_source = models.CharField(_("source of the boundary"), max_length=300, blank=True)
    # Derived from the boundary on save: a bounding box for quick spatial filters, and the centroid.
    min_lon = models.FloatField(editable=False, default=0)
    min_lat = models.FloatField(editable=False, default=0)
    max_lon = models.FloatField(editable=False, default=0)
    max_lat = models.FloatField(editable=False, default=0)
    centroid_lon = models.FloatField(editable=False, default=0)
    centroid_lat = models.FloatField(editable=False, default=0)

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["city", "slug"], name="district_slug_per_city")
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        geom = self.geometry
        self.min_lon, self.min_lat, self.max_lon, self.max_lat = geom.bounds
        centre = geom.representative_point() if not geom.centroid.within(geom) else geom.centroid
        self.centroid_lon, self.centroid_lat = centre.x, centre.y
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("core:district", kwargs={"slug": self.slug})

    @property
    def geometry(self):
        return parse_geometry(self.boundary, {"Polygon", "MultiPolygon"})

    def clean(self) -> None:
        super().clean()
        try:
            self.geometry  # noqa: B018 - validates
        except GeometryError as exc:
            raise ValidationError({"boundary": str(exc)}) from exc

    def contains(self, lon: float, lat: float) -> bool:
        from shapely.geometry import Point

        if not (self.min_lon <= lon <= self.max_lon and self.min_lat <= lat <= self.max_lat):
            return False
        return self.geometry.covers(Point(lon, lat))


class FieldOfAction(CityOwned, Translatable):
    """A field of action (Handlungsfeld) of the city's strategy, e.g. Mobilität or Umwelt & Klima."""

    slug = models.SlugField(_("short name"))
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("field of action")
        verbose_name_plural = _("fields of action")
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["city", "slug"], name="field_of_action_slug_per_city")
        ]

    def __str__(self) -> str:
        return self.name


class Office(CityOwned, Translatable):
    """A responsible office: a department, municipal company or agency of the city."""

    slug = models.SlugField(_("short name"))
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)

    class Meta:
        verbose_name = _("office")
        verbose_name_plural = _("offices")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["city", "slug"], name="office_slug_per_city")
        ]

    def __str__(self) -> str:
        return self.name


class MeasureStatus(models.TextChoices):
    IDEA = "idea", _("idea")
    PLANNED = "planned", _("planned")
    IN_PROGRESS = "in_progress", _("in progress")
    DONE = "done", _("done")
    STOPPED = "stopped", _("stopped")


class Measure(CityOwned, LeichteSprache, Translatable):
    """A measure (Maßnahme): the unit the city plans, funds, implements, evaluates and shares."""

    LEICHTE_SPRACHE_FIELDS = ("summary", "description")

    slug = models.SlugField(_("short name"), max_length=80)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), max_length=600)
    description = models.TextField(_("description"), blank=True)
    ls_summary = ls_field(_("summary in Leichte Sprache"), max_length=800)
    ls_description = ls_field(_("description in Leichte Sprache"))
    field_of_action = models.ForeignKey(
        FieldOfAction, verbose_name=_("field of action"), on_delete=models.PROTECT
    )
    district = models.ForeignKey(
        District,
        verbose_name=_("district"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        help_text=_("Empty for measures that concern the whole city."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=MeasureStatus, default=MeasureStatus.IDEA
    )
    start_date = models.DateField(_("start"), null=True, blank=True)
    end_date = models.DateField(_("end"), null=True, blank=True)
    budget_eur = models.DecimalField(
        _("budget (EUR)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    funding = models.CharField(_("funding"), max_length=300, blank=True)
    office = models.ForeignKey(
        Office,
        verbose_name=_("responsible office"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    goals = models.JSONField(_("goals"), default=list, blank=True, help_text=_("A list of goals."))
    location = models.JSONField(
        _("location"),
        null=True,
        blank=True,
        help_text=_("Optional GeoJSON geometry (WGS 84), e.g. a Point where the measure happens."),
    )
    results = models.TextField(_("results"), blank=True)
    lessons_learned = models.TextField(_("lessons learned"), blank=True)
    is_public = models.BooleanField(_("public"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("measure")
        verbose_name_plural = _("measures")
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["city", "slug"], name="measure_slug_per_city"),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(start_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="measure_end_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["city", "status"]),
            models.Index(fields=["city", "district"]),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("core:measure", kwargs={"slug": self.slug})

    @property
    def point(self) -> tuple[float, float] | None:
        """A representative (lon, lat) of the location, for map markers."""
        if not self.location:
            return None
        geom = parse_geometry(self.location)
        p: Any = geom if geom.geom_type == "Point" else geom.representative_point()
        return (p.x, p.y)

    def clean(self) -> None:
        super().clean()
        errors: dict[str, Any] = {}
        for name in ("field_of_action", "district", "office"):
            related = getattr(self, name, None) if getattr(self, f"{name}_id") else None
            if related is not None and related.city_id != self.city_id:
                errors[name] = _("This belongs to another city.")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = _("The end lies before the start.")
        if self.budget_eur is not None and self.budget_eur < 0:
            errors["budget_eur"] = _("The budget cannot be negative.")
        if not isinstance(self.goals, list) or not all(isinstance(g, str) for g in self.goals):
            errors["goals"] = _("Goals must be a list of texts.")
        if self.location:
            try:
                parse_geometry(self.location)
            except GeometryError as exc:
                errors["location"] = str(exc)
        if errors:
            raise ValidationError(errors)


class MeasureChild(models.Model):
    """Base for rows that belong to a measure: they carry the measure's city."""

    city = models.ForeignKey(City, verbose_name=_("city"), on_delete=models.CASCADE, editable=False)
    measure = models.ForeignKey(Measure, verbose_name=_("measure"), on_delete=models.CASCADE)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.city_id = self.measure.city_id
        super().save(*args, **kwargs)

    def full_clean(self, *args: Any, **kwargs: Any) -> None:
        if self.measure_id:
            self.city_id = self.measure.city_id
        super().full_clean(*args, **kwargs)


class Milestone(MeasureChild, Translatable):
    """A dated step on a measure's timeline."""

    date = models.DateField(_("date"))
    title = models.CharField(_("title"), max_length=200)
    done = models.BooleanField(_("reached"), default=False)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["date", "id"]
        default_related_name = "milestones"

    def __str__(self) -> str:
        return self.title


class MeasureLink(MeasureChild):
    title = models.CharField(_("title"), max_length=200)
    url = models.URLField(_("address (URL)"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("link")
        verbose_name_plural = _("links")
        ordering = ["position", "id"]
        default_related_name = "links"

    def __str__(self) -> str:
        return self.title
