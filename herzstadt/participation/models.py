"""Participation (Teilhabe): processes with phases, ideas on the map, comments, supports, reports,
surveys and follows. Every row carries its city; contributions keep their place when an account is
deleted (the author becomes ``NULL`` and the page says "deleted account").
"""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from herzstadt.core.models import (
    CityOwned,
    District,
    LeichteSprache,
    Measure,
    Translatable,
    ls_field,
)
from herzstadt.participation import phases
from herzstadt.participation.phases import Feature

USER = settings.AUTH_USER_MODEL


class Process(CityOwned, LeichteSprache, Translatable):
    """A participation process, e.g. "Zukunft Pfaff-Areal: Wie wollen wir hier leben?"."""

    LEICHTE_SPRACHE_FIELDS = ("summary", "description")

    slug = models.SlugField(_("short name"), max_length=80)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), max_length=600)
    description = models.TextField(
        _("description"), blank=True, help_text=_("Paragraphs, lists and links are kept.")
    )
    ls_summary = ls_field(_("summary in Leichte Sprache"), max_length=800)
    ls_description = ls_field(_("description in Leichte Sprache"))
    district = models.ForeignKey(
        District,
        verbose_name=_("district"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="processes",
        help_text=_("Ideas placed on the map must lie inside this district."),
    )
    measure = models.ForeignKey(
        Measure,
        verbose_name=_("measure"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="processes",
    )
    #: A process kind from the phase registry (``participation.phases``).
    kind = models.CharField(
        _("kind of process"),
        max_length=30,
        default=phases.DEFAULT_PROCESS_KIND,
        help_text=_("Decides which kinds of phases the process can have."),
    )
    is_published = models.BooleanField(_("published"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("participation process")
        verbose_name_plural = _("participation processes")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["city", "slug"], name="process_slug_per_city"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("participation:process", kwargs={"slug": self.slug})

    def active_phase(self, now=None) -> Phase | None:
        now = now or timezone.now()
        phases = getattr(self, "_prefetched_objects_cache", {}).get("phases")
        if phases is None:
            phases = self.phases.all()
        for phase in phases:
            if phase.start <= now < phase.end:
                return phase
        return None

    @property
    def kind_label(self) -> str:
        found = phases.process_kind(self.kind)
        return str(found.label) if found else self.kind

    def allows(self, feature: Feature | str, now=None) -> bool:
        phase = self.active_phase(now)
        return bool(self.is_published and phase and feature in phase.spec.features)


class Phase(CityOwned, LeichteSprache, Translatable):
    LEICHTE_SPRACHE_FIELDS = ("description",)

    process = models.ForeignKey(
        Process, verbose_name=_("process"), on_delete=models.CASCADE, related_name="phases"
    )
    #: A phase kind from the phase registry (``participation.phases``).
    kind = models.CharField(_("kind"), max_length=30)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    ls_description = ls_field(_("description in Leichte Sprache"))
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))

    class Meta:
        verbose_name = _("phase")
        verbose_name_plural = _("phases")
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="phase_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def spec(self):
        return phases.spec(self.kind)

    @property
    def kind_label(self) -> str:
        return str(self.spec.label)

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.start <= now < self.end

    def is_past(self, now=None) -> bool:
        return self.end <= (now or timezone.now())


class Category(CityOwned, Translatable):
    process = models.ForeignKey(
        Process, verbose_name=_("process"), on_delete=models.CASCADE, related_name="categories"
    )
    name = models.CharField(_("name"), max_length=80)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class IdeaStatus(models.TextChoices):
    RECEIVED = "received", _("received")
    REVIEW = "review", _("under review")
    ACCEPTED = "accepted", _("accepted")
    REJECTED = "rejected", _("rejected")
    IMPLEMENTED = "implemented", _("implemented")


class Moderated(CityOwned):
    """Content moderators can hide (with a reason shown in its place) and restore."""

    hidden_at = models.DateTimeField(_("hidden"), null=True, blank=True)
    hidden_reason = models.CharField(_("reason for hiding"), max_length=300, blank=True)

    class Meta:
        abstract = True

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class Idea(Moderated):
    process = models.ForeignKey(
        Process, verbose_name=_("process"), on_delete=models.CASCADE, related_name="ideas"
    )
    author = models.ForeignKey(
        USER, verbose_name=_("author"), on_delete=models.SET_NULL, null=True, related_name="ideas"
    )
    title = models.CharField(_("title"), max_length=140)
    body = models.TextField(_("text"), max_length=5000)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.SET_NULL, null=True, blank=True
    )
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    location_text = models.CharField(
        _("place"),
        max_length=200,
        blank=True,
        help_text=_("An address or a description of the place."),
    )
    image = models.ImageField(_("image"), upload_to="ideas/%Y/%m/", blank=True, db_index=True)
    image_alt = models.CharField(_("image description"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=IdeaStatus, default=IdeaStatus.RECEIVED
    )
    status_reason = models.TextField(_("the city's reasoning"), blank=True)
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    measure = models.ForeignKey(
        Measure,
        verbose_name=_("implementing measure"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ideas",
    )
    support_count = models.PositiveIntegerField(_("supports"), default=0)
    comment_count = models.PositiveIntegerField(_("comments"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    #: Set when the author edits it (the page says "edited"; earlier versions: ``Version``).
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)
    #: Set when the author deletes it: its text is removed, the comments on it stay.
    deleted_at = models.DateTimeField(_("deleted by the author"), null=True, blank=True)

    class Meta:
        verbose_name = _("idea")
        verbose_name_plural = _("ideas")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["process", "status"]),
            # the process page's three orders: a page of ideas is read in index order, not sorted
            models.Index(fields=["process", "-created_at", "-id"], name="idea_process_new"),
            models.Index(
                fields=["process", "-support_count", "-id"], name="idea_process_supported"
            ),
            models.Index(
                fields=["process", "-comment_count", "-id"], name="idea_process_discussed"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(lon__isnull=True) & models.Q(lat__isnull=True))
                | (models.Q(lon__gte=-180, lon__lte=180, lat__gte=-90, lat__lte=90)),
                name="idea_point_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("participation:idea", kwargs={"slug": self.process.slug, "pk": self.pk})

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def has_point(self) -> bool:
        return self.lon is not None and self.lat is not None


class Comment(Moderated):
    idea = models.ForeignKey(
        Idea, verbose_name=_("idea"), on_delete=models.CASCADE, related_name="comments"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("reply to"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="replies",
    )
    author = models.ForeignKey(
        USER,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="comments",
    )
    body = models.TextField(_("comment"), max_length=3000)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)
    #: Set when the author deletes it: its text is removed, the replies stay.
    deleted_at = models.DateTimeField(_("deleted by the author"), null=True, blank=True)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:60]

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def get_absolute_url(self) -> str:
        return f"{self.idea.get_absolute_url()}#comment-{self.pk}"


class Version(CityOwned):
    """An earlier version of an idea or a comment, kept when its author edits it, for the
    moderators (back office). Deleting the contribution deletes its versions too."""

    idea = models.ForeignKey(
        Idea, on_delete=models.CASCADE, null=True, blank=True, related_name="versions"
    )
    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="versions"
    )
    title = models.CharField(_("title"), max_length=140, blank=True)
    body = models.TextField(_("text"))
    #: When this version was written (the contribution's creation or its previous edit).
    written_at = models.DateTimeField(_("written"))
    replaced_at = models.DateTimeField(_("replaced"), auto_now_add=True)

    class Meta:
        verbose_name = _("earlier version")
        verbose_name_plural = _("earlier versions")
        ordering = ["-replaced_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(idea__isnull=False, comment__isnull=True)
                | models.Q(idea__isnull=True, comment__isnull=False),
                name="version_has_one_target",
            ),
        ]


class Support(CityOwned):
    """One per person and idea (a unique constraint, and the counter moves under a row lock)."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="supports")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="supports")
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("support")
        verbose_name_plural = _("supports")
        constraints = [
            models.UniqueConstraint(fields=["idea", "user"], name="support_once_per_person"),
        ]


class Report(CityOwned):
    """A report of inappropriate content, handled in the moderators' queue."""

    idea = models.ForeignKey(
        Idea, on_delete=models.CASCADE, null=True, blank=True, related_name="reports"
    )
    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="reports"
    )
    reporter = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, related_name="+")
    reason = models.TextField(_("reason"), max_length=1000)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("handled"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField(_("decision"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(idea__isnull=False, comment__isnull=True)
                | models.Q(idea__isnull=True, comment__isnull=False),
                name="report_has_one_target",
            ),
        ]

    @property
    def target(self) -> Idea | Comment:
        # the check constraint report_has_one_target: exactly one of them is set
        return cast("Idea | Comment", self.idea if self.idea_id else self.comment)


class Follow(CityOwned):
    """Someone follows a process or an idea and is notified of what happens there."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="follows")
    process = models.ForeignKey(
        Process, on_delete=models.CASCADE, null=True, blank=True, related_name="follows"
    )
    idea = models.ForeignKey(
        Idea, on_delete=models.CASCADE, null=True, blank=True, related_name="follows"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("follow")
        verbose_name_plural = _("follows")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(process__isnull=False, idea__isnull=True)
                | models.Q(process__isnull=True, idea__isnull=False),
                name="follow_has_one_target",
            ),
            models.UniqueConstraint(fields=["user", "process"], name="follow_process_once"),
            models.UniqueConstraint(fields=["user", "idea"], name="follow_idea_once"),
        ]


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("single choice")
    MULTIPLE = "multiple", _("multiple choice")
    TEXT = "text", _("free text")
    RATING = "rating", _("rating scale")


class Survey(CityOwned, Translatable):
    process = models.ForeignKey(
        Process, verbose_name=_("process"), on_delete=models.CASCADE, related_name="surveys"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    allow_anonymous = models.BooleanField(
        _("answers without an account"),
        default=False,
        help_text=_("Protected against repeat submissions and bots without third-party services."),
    )
    results_public = models.BooleanField(_("results are public"), default=True)
    #: A draft (``False``) is seen only by the city's staff, as a preview; publishing is an explicit
    #: action in the back office and needs at least one question (``backoffice.commands``).
    is_published = models.BooleanField(_("published"), default=False)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("participation:survey", kwargs={"slug": self.process.slug, "pk": self.pk})


class Question(CityOwned, Translatable):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    kind = models.CharField(_("kind"), max_length=16, choices=QuestionKind)
    text = models.CharField(_("question"), max_length=300)
    help_text = models.CharField(_("hint"), max_length=300, blank=True)
    choices = models.JSONField(
        _("choices"),
        default=list,
        blank=True,
        help_text=_("For single and multiple choice: a list of texts."),
    )
    scale_max = models.PositiveSmallIntegerField(_("top of the rating scale"), default=5)
    required = models.BooleanField(_("required"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text


class SurveyResponse(CityOwned):
    """One person's answers. ``user`` is set for signed-in people; anonymous answers carry a keyed
    hash of a one-time form token, so the same form cannot be submitted twice."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    user = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    token_hash = models.CharField(max_length=64, blank=True)
    answers = models.JSONField(default=dict)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "user"],
                condition=models.Q(user__isnull=False),
                name="response_once_per_person",
            ),
            models.UniqueConstraint(
                fields=["survey", "token_hash"],
                condition=~models.Q(token_hash=""),
                name="response_token_once",
            ),
        ]
