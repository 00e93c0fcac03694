"""The values compass: a city's values, the goals under each value, indicators computed from the
urban data that measure the goals, and how each measure is judged against them — by staff
(expected effect), by citizens (a rating in a "Kompass-Bewertung" phase) and by the data (measured
effect).

Every table carries its city (``city``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from herzstadt.core.models import (
    CityOwned,
    District,
    LeichteSprache,
    Measure,
    Translatable,
    ls_field,
)

#: the scale of assessments and ratings: −2 (strongly hinders) … +2 (strongly helps)
SCORE_VALIDATORS = [MinValueValidator(-2), MaxValueValidator(2)]


class Value(CityOwned, LeichteSprache, Translatable):
    """One of the city's guiding values, e.g. "Der Mensch im Mittelpunkt"."""

    LEICHTE_SPRACHE_FIELDS = ("name", "description")

    slug = models.SlugField(_("short name"), max_length=80)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    ls_name = ls_field(_("name in Leichte Sprache"), max_length=200)
    ls_description = ls_field(_("description in Leichte Sprache"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("value")
        verbose_name_plural = _("values")
        ordering = ["city", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["city", "slug"], name="compass_value_unique_slug")
        ]

    def __str__(self) -> str:
        return self.name


class Goal(CityOwned, LeichteSprache, Translatable):
    """A goal under a value, with a target and a deadline, e.g. "NO2 im Pfaff-Areal unter 20 µg/m³
    bis 2030". ``district`` narrows a goal to a district (empty: the whole city)."""

    LEICHTE_SPRACHE_FIELDS = ("title", "description")

    value = models.ForeignKey(
        Value, verbose_name=_("value"), on_delete=models.CASCADE, related_name="goals"
    )
    slug = models.SlugField(_("short name"), max_length=80)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    ls_title = ls_field(_("title in Leichte Sprache"), max_length=200)
    ls_description = ls_field(_("description in Leichte Sprache"))
    target = models.CharField(
        _("target"), max_length=300, blank=True, help_text=_("The target in words.")
    )
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    district = models.ForeignKey(
        District, verbose_name=_("district"), on_delete=models.SET_NULL, null=True, blank=True
    )
    #: measures that serve this goal (tags; shown on the measure's page and filterable)
    measures = models.ManyToManyField(
        Measure,
        verbose_name=_("measures"),
        blank=True,
        related_name="compass_goals",
        through="GoalMeasure",
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        ordering = ["city", "value__position", "position", "title"]
        constraints = [
            models.UniqueConstraint(fields=["city", "slug"], name="compass_goal_unique_slug")
        ]

    def __str__(self) -> str:
        return self.title


class GoalMeasure(CityOwned):
    """A measure tagged with a goal it serves."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE)
    measure = models.ForeignKey(Measure, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["goal", "measure"], name="compass_goalmeasure_unique")
        ]


class GoalIdea(CityOwned):
    """An idea (participation) tagged with a goal it serves. The idea is referenced by its id only:
    the compass imports nothing of participation (see ``herzstadt.participation.api``)."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="idea_tags")
    idea_id = models.PositiveBigIntegerField(_("idea"), db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["goal", "idea_id"], name="compass_goalidea_unique")
        ]


class Direction(models.TextChoices):
    HIGHER = "higher", _("higher is better")
    LOWER = "lower", _("lower is better")


class Indicator(CityOwned, LeichteSprache, Translatable):
    """A key performance indicator, defined declaratively: what it measures, its reference (ISO
    37120/37122/37123, U4SSC), unit, direction, target and warning threshold (the traffic light),
    the period it is computed over, and a ``formula`` over the urban data (a JSON specification,
    see :mod:`herzstadt.compass.formulas`). The worker computes it on a schedule
    (``schedule_minutes``) and on demand into :class:`IndicatorValue` rows and publishes it as an
    NGSI-LD ``KeyPerformanceIndicator`` entity (id ``urn:ngsi-ld:KeyPerformanceIndicator:<city>:<slug>``).

    ``last_*`` repeat the newest computed value so that pages read one row per indicator.
    """

    LEICHTE_SPRACHE_FIELDS = ("name", "explanation")

    slug = models.SlugField(_("short name"), max_length=80)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    explanation = models.TextField(
        _("explanation"),
        blank=True,
        help_text=_("What the value means, in plain language, for the public compass page."),
    )
    ls_name = ls_field(_("name in Leichte Sprache"), max_length=200)
    ls_explanation = ls_field(_("explanation in Leichte Sprache"))
    reference = models.CharField(
        _("reference"),
        max_length=120,
        blank=True,
        help_text=_(
            "The standard indicator it follows, e.g. ISO 37120:2018 8.3 or U4SSC EN-EQ-AQ-1A."
        ),
    )
    reference_url = models.URLField(_("reference (URL)"), blank=True)
    unit = models.CharField(
        _("unit"), max_length=40, blank=True, help_text=_("e.g. µg/m³, %, dB(A)")
    )
    direction = models.CharField(
        _("direction"), max_length=8, choices=Direction, default=Direction.LOWER
    )
    target = models.FloatField(_("target"), null=True, blank=True)
    warning = models.FloatField(
        _("warning threshold"),
        null=True,
        blank=True,
        help_text=_(
            "Between the target and this value the light is amber; beyond it, red. Empty: only "
            "green and red."
        ),
    )
    period = models.CharField(
        _("period"),
        max_length=16,
        default="P1D",
        help_text=_(
            "The time each value covers, as an ISO 8601 duration: PT1H, P1D, P7D, P30D, P1Y."
        ),
    )
    formula = models.JSONField(_("formula"), default=dict)
    schedule_minutes = models.PositiveIntegerField(_("computed every (minutes)"), default=15)
    goals = models.ManyToManyField(
        Goal, verbose_name=_("goals"), blank=True, related_name="indicators"
    )
    measures = models.ManyToManyField(
        Measure,
        verbose_name=_("measures"),
        blank=True,
        related_name="compass_indicators",
        help_text=_("Measures whose effect this indicator shows (before and after their start)."),
    )
    district = models.ForeignKey(
        District,
        verbose_name=_("district"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        help_text=_("The area the indicator describes (empty: the whole city)."),
    )
    is_public = models.BooleanField(_("public"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    # provenance when adopted from a partner city
    origin_url = models.URLField(_("adopted from"), blank=True)
    # the newest computed value (denormalised)
    last_value = models.FloatField(null=True, blank=True, editable=False)
    last_coverage = models.FloatField(null=True, blank=True, editable=False)
    last_period_end = models.DateTimeField(null=True, blank=True, editable=False)
    last_computed_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.CharField(max_length=300, blank=True, editable=False)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["city", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["city", "slug"], name="compass_indicator_unique_slug")
        ]

    def __str__(self) -> str:
        return self.name

    def light(self, value: float | None = None) -> str:
        """``"green"``, ``"amber"``, ``"red"`` or ``""`` (no value or no target) for ``value``
        (default: the newest value)."""
        v = self.last_value if value is None else value
        if v is None or self.target is None:
            return ""
        better = (
            (lambda a, b: a >= b) if self.direction == Direction.HIGHER else (lambda a, b: a <= b)
        )
        if better(v, self.target):
            return "green"
        if self.warning is not None and better(v, self.warning):
            return "amber"
        return "red"


class IndicatorValue(CityOwned):
    """One computed value of an indicator for the period ``[period_start, period_end)``, with the
    share of expected observations that were present (``coverage``, 0…1). ``value`` is None when no
    data was there. ``details`` keeps the inputs (e.g. numerator, denominator, observations)."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="values")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    value = models.FloatField(null=True, blank=True)
    coverage = models.FloatField(default=0.0)
    computed_at = models.DateTimeField()
    details: Any = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["indicator", "period_end"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "period_start", "period_end"],
                name="compass_indicatorvalue_unique_period",
            )
        ]
        indexes = [models.Index(fields=["indicator", "-period_end"], name="compass_iv_latest")]


class Assessment(CityOwned):
    """Staff's assessment of a measure's expected effect on a goal: −2 … +2, with a reason."""

    measure = models.ForeignKey(
        Measure,
        verbose_name=_("measure"),
        on_delete=models.CASCADE,
        related_name="compass_assessments",
    )
    goal = models.ForeignKey(
        Goal, verbose_name=_("goal"), on_delete=models.CASCADE, related_name="assessments"
    )
    score = models.SmallIntegerField(_("expected effect"), validators=SCORE_VALIDATORS)
    reason = models.TextField(_("reason"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, editable=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        constraints = [
            models.UniqueConstraint(fields=["measure", "goal"], name="compass_assessment_unique"),
            models.CheckConstraint(
                condition=models.Q(score__gte=-2, score__lte=2), name="compass_assessment_score"
            ),
        ]


class Rating(CityOwned):
    """A citizen's rating of a measure against a value (−2 … +2), given in a process phase of the
    kind "Kompass-Bewertung" (feature ``compass.rate``). One per person, measure and value; the
    process is referenced by id (the compass imports nothing of participation's models)."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="compass_ratings")
    value = models.ForeignKey(Value, on_delete=models.CASCADE, related_name="ratings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    process_id = models.PositiveBigIntegerField(null=True, blank=True)
    score = models.SmallIntegerField(validators=SCORE_VALIDATORS)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "measure", "value"], name="compass_rating_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(score__gte=-2, score__lte=2), name="compass_rating_score"
            ),
        ]
