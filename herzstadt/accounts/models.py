"""People on the platform: a public profile (display name, pseudonyms welcome), per-city roles.

Accounts are platform-wide (one sign-in for every hosted city); the profile remembers the city a person
registered in, and everything a person *does* carries the city it was done in. Roles are per city: a
moderator of Kaiserslautern is a citizen everywhere else.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from herzstadt.core import registry
from herzstadt.core.models import City, CityOwned


class Role(models.TextChoices):
    CITIZEN = "citizen", _("citizen")
    MODERATOR = "moderator", _("moderator")
    STAFF = "staff", _("city staff")
    ADMIN = "admin", _("administrator")


#: Ranks for comparisons: a role includes every right of the roles below it.
ROLE_RANK = {Role.CITIZEN: 0, Role.MODERATOR: 1, Role.STAFF: 2, Role.ADMIN: 3}


class Profile(models.Model):
    """The public face of an account: a display name, never the real name or e-mail address."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    city = models.ForeignKey(
        City, verbose_name=_("city of registration"), on_delete=models.SET_NULL, null=True
    )
    display_name = models.CharField(
        _("display name"),
        max_length=60,
        help_text=_("Shown with your contributions. A pseudonym is fine; no real name needed."),
    )
    email_digest = models.BooleanField(
        _("daily e-mail digest"),
        default=False,
        help_text=_("Once a day, an e-mail with the news from what you follow."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")
        constraints = [
            models.UniqueConstraint(Lower("display_name"), name="profile_display_name_unique"),
        ]

    def __str__(self) -> str:
        return self.display_name


class Membership(CityOwned):
    """A person's role in one city, and whether the city's moderators have blocked them there."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role, default=Role.CITIZEN)
    blocked_at = models.DateTimeField(_("blocked since"), null=True, blank=True)
    blocked_reason = models.CharField(_("reason for the block"), max_length=500, blank=True)
    blocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["city", "user"], name="membership_once_per_city"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.city}: {self.role}"


class Notification(CityOwned):
    """Something a person should know about: in-app, and in the daily digest if they want e-mail."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    #: A kind a pillar registered (``Pillar.notification_kinds``), which also gives the text.
    kind = models.CharField(_("kind"), max_length=20)
    subject = models.CharField(_("about"), max_length=300)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("sent by e-mail"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.message

    @property
    def message(self) -> str:
        """The sentence in the active language, e.g. "Neuer Kommentar zu: Mehr Bäume" (just the
        subject if no pillar registers the kind any more)."""
        kind = registry.notification_kind(self.kind)
        return str(kind.text) % {"subject": self.subject} if kind else self.subject


class Conformance(models.TextChoices):
    """How far the city's site meets BITV 2.0 / EN 301 549 (the wording the statement must use)."""

    FULL = "full", _("fully compliant")
    PARTIAL = "partial", _("partially compliant")
    NONE = "none", _("not compliant")


class LegalPages(CityOwned):
    """A city's legal pages: the imprint and the accessibility statement (BITV 2.0, § 12b BGG and the
    state laws), edited by the city's administrators. Texts are Markdown (``core.richtext``)."""

    imprint = models.TextField(
        _("imprint"),
        blank=True,
        help_text=_("Who is responsible for this site: name, address, representative, contact."),
    )
    conformance = models.CharField(
        _("state of conformity"),
        max_length=16,
        choices=Conformance,
        default=Conformance.PARTIAL,
    )
    known_gaps = models.TextField(
        _("content that is not accessible"),
        blank=True,
        help_text=_("What is not yet accessible, why, and what the city offers instead."),
    )
    statement_date = models.DateField(
        _("statement prepared on"),
        null=True,
        blank=True,
        help_text=_("When this statement was prepared or last reviewed."),
    )
    feedback_contact = models.TextField(
        _("contact for accessibility"),
        blank=True,
        help_text=_("Besides the form: who to write to or call about barriers."),
    )
    enforcement = models.TextField(
        _("enforcement procedure"),
        blank=True,
        help_text=_(
            "Where people can turn when the city does not answer satisfactorily "
            "(conciliation body / enforcement procedure)."
        ),
    )
    enforcement_url = models.URLField(_("link to the enforcement body"), blank=True)
    is_demo = models.BooleanField(
        _("demo text"),
        default=False,
        help_text=_("Marks the pages as example text of the demo, not a legal statement."),
    )
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("legal pages")
        verbose_name_plural = _("legal pages")
        constraints = [models.UniqueConstraint(fields=["city"], name="legalpages_once_per_city")]

    def __str__(self) -> str:
        return f"{self.city}: {self._meta.verbose_name}"


class AccessibilityFeedback(CityOwned):
    """A barrier someone reported through the accessibility statement's form; the city's staff are
    notified and answer."""

    message = models.TextField(_("message"), max_length=3000)
    page = models.CharField(
        _("page"),
        max_length=300,
        blank=True,
        help_text=_("Where did you meet the barrier? An address or a description."),
    )
    email = models.EmailField(
        _("e-mail address for the answer"),
        blank=True,
        help_text=_("Optional. Only the city's staff see it, to answer you."),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("accessibility feedback")
        verbose_name_plural = _("accessibility feedback")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.message[:60]


class ReservedNames(CityOwned):
    """Display names nobody may choose because they imitate the city, its offices or its team
    (``accounts.reserved_names``); edited by the city's administrators. Without a row, the defaults
    apply."""

    names = models.TextField(
        _("reserved names"),
        help_text=_(
            "One per line. A “*” at the end reserves every name that begins like this. Case, spaces, "
            "punctuation and look-alike characters do not count, and each name is also reserved "
            "combined with the city's name."
        ),
    )
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("reserved names")
        verbose_name_plural = _("reserved names")
        constraints = [models.UniqueConstraint(fields=["city"], name="reservednames_once_per_city")]

    def __str__(self) -> str:
        return f"{self.city}: {self._meta.verbose_name}"
