"""Binding decisions: a participatory budget or a poll (a :class:`Decision`), its proposals or
options, who may vote (:class:`Elector`), and the ballots.

Secrecy by construction: a :class:`Ballot` row holds the choice, the channel's coarse kind, the hash
of the voter's receipt and its place in the public hash chain — no person, account, code, elector or
time finer than the day. The :class:`Elector` row only says *that* someone has voted. A cast ballot
first goes to the :class:`PendingBallot` pool (random id, no time); the pool is appended to the
public log in shuffled batches, so the order of the log does not reveal the order of voting.

Every table carries its city (``city``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from herzstadt.core.models import (
    CityOwned,
    District,
    LeichteSprache,
    Measure,
    Translatable,
    ls_field,
)


class DecisionKind(models.TextChoices):
    BUDGET = "budget", _("participatory budget")
    POLL = "poll", _("poll")


class BallotStyle(models.TextChoices):
    """How a voter fills in a budget ballot (``herzstadt.decisions.counting.STYLES``)."""

    APPROVAL = "approval", _("approval: choose up to a number of proposals")
    KNAPSACK = "knapsack", _("knapsack: choose proposals within the budget")
    POINTS = "points", _("points: distribute a number of points")


class CountingRule(models.TextChoices):
    """How the winners are found (``herzstadt.decisions.counting.RULES``)."""

    MES = "mes", _("Method of Equal Shares (with completion)")
    GREEDY = "greedy", _("greedy by votes within the budget")


class Decision(CityOwned, LeichteSprache, Translatable):
    """A vote: a participatory budget (proposals, a budget, a ballot style, a counting rule) or a poll
    (a question with options; ``binding`` or advisory). It belongs to a participation process of the
    kind "budget" (``process``, optional for a poll). Voting is open from ``opens_at`` to
    ``closes_at``; results are published at ``results_at`` (not before the close).
    """

    LEICHTE_SPRACHE_FIELDS = ("title", "description")

    kind = models.CharField(_("kind"), max_length=8, choices=DecisionKind)
    slug = models.SlugField(_("short name"), max_length=80)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    ls_title = ls_field(_("title in Leichte Sprache"), max_length=200)
    ls_description = ls_field(_("description in Leichte Sprache"))
    process = models.ForeignKey(
        "participation.Process",
        verbose_name=_("participation process"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="decisions",
    )
    district = models.ForeignKey(
        District, verbose_name=_("district"), on_delete=models.SET_NULL, null=True, blank=True
    )
    # a budget
    budget_eur = models.PositiveIntegerField(_("budget (€)"), null=True, blank=True)
    ballot_style = models.CharField(
        _("ballot style"), max_length=10, choices=BallotStyle, default=BallotStyle.APPROVAL
    )
    max_choices = models.PositiveSmallIntegerField(
        _("most proposals per ballot"), null=True, blank=True, help_text=_("Approval ballots.")
    )
    total_points = models.PositiveSmallIntegerField(
        _("points per ballot"), null=True, blank=True, help_text=_("Points ballots.")
    )
    counting_rule = models.CharField(
        _("counting rule"), max_length=8, choices=CountingRule, default=CountingRule.MES
    )
    # a poll
    question = models.CharField(_("question"), max_length=300, blank=True)
    binding = models.BooleanField(_("binding"), default=False)
    # when
    opens_at = models.DateTimeField(_("voting opens"))
    closes_at = models.DateTimeField(_("voting closes"))
    results_at = models.DateTimeField(_("results published"))
    # who and how (eligibility; see Elector)
    min_age = models.PositiveSmallIntegerField(_("minimum age"), default=14)
    residence_districts = models.ManyToManyField(
        District,
        verbose_name=_("residence in"),
        blank=True,
        related_name="+",
        help_text=_("Only residents of these districts may vote (none: the whole city)."),
    )
    channel_web = models.BooleanField(_("online with a verified account"), default=True)
    channel_code = models.BooleanField(_("online with a voting code"), default=True)
    channel_booth = models.BooleanField(_("at a polling station"), default=True)
    channel_postal = models.BooleanField(_("by post"), default=True)
    #: secret per decision for the salted hashes of codes and census identifiers (never shown)
    salt = models.CharField(max_length=64, editable=False)
    # accountability
    council_date = models.DateField(_("council decision on"), null=True, blank=True)
    council_resolution = models.CharField(_("resolution number"), max_length=80, blank=True)
    council_url = models.URLField(_("council decision (URL)"), blank=True)
    #: the tally and outcome frozen when the results are published (JSON, see results.py)
    results = models.JSONField(null=True, blank=True, editable=False)
    #: the hash of the newest log entry (the head of the public chain); "" before the first
    log_head = models.CharField(max_length=64, blank=True, editable=False)
    log_length = models.PositiveIntegerField(default=0, editable=False)
    #: returned postal voting cards registered (their electors marked); never fewer than the postal
    #: ballot sheets counted (see ``herzstadt.decisions.eligible.postal``)
    postal_cards = models.PositiveIntegerField(default=0, editable=False)
    is_published = models.BooleanField(_("published"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["-opens_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["city", "slug"], name="decisions_decision_unique_slug")
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("decisions:decision", kwargs={"slug": self.slug})


class Feasibility(models.TextChoices):
    PENDING = "pending", _("being checked")
    FEASIBLE = "feasible", _("feasible")
    NOT_FEASIBLE = "not_feasible", _("not feasible")


class Proposal(CityOwned, LeichteSprache, Translatable):
    """A proposal of a participatory budget: an idea with a cost estimate, checked by staff
    (feasible or not, with a public reason). Only feasible proposals are on the ballot. A winning
    proposal becomes a measure (``measure``) and is tracked there."""

    LEICHTE_SPRACHE_FIELDS = ("title", "description")

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="proposals")
    idea = models.OneToOneField(
        "participation.Idea",
        verbose_name=_("idea"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="budget_proposal",
    )
    number = models.PositiveSmallIntegerField(_("number"), help_text=_("On the paper ballot."))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    ls_title = ls_field(_("title in Leichte Sprache"), max_length=200)
    ls_description = ls_field(_("description in Leichte Sprache"))
    cost_eur = models.PositiveIntegerField(_("cost estimate (€)"))
    feasibility = models.CharField(
        _("feasibility"), max_length=12, choices=Feasibility, default=Feasibility.PENDING
    )
    feasibility_reason = models.TextField(_("reason"), blank=True)
    district = models.ForeignKey(
        District, verbose_name=_("district"), on_delete=models.SET_NULL, null=True, blank=True
    )
    location = models.JSONField(_("location"), null=True, blank=True)
    measure = models.ForeignKey(
        Measure,
        verbose_name=_("measure"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="budget_proposals",
    )

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["decision", "number"]
        constraints = [
            models.UniqueConstraint(fields=["decision", "number"], name="decisions_proposal_number")
        ]

    def __str__(self) -> str:
        return self.title


class PollOption(CityOwned, Translatable):
    """One answer of a poll (yes/no polls have two)."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="options")
    number = models.PositiveSmallIntegerField(_("number"))
    label = models.CharField(_("answer"), max_length=200)

    class Meta:
        ordering = ["decision", "number"]
        constraints = [
            models.UniqueConstraint(fields=["decision", "number"], name="decisions_option_number")
        ]

    def __str__(self) -> str:
        return self.label


class Elector(CityOwned):
    """Someone who may vote in a decision, and whether they have. One person, one vote across
    every channel: a person from the census import (``identifier_hash``), the holder of a voting
    code (``code_hash``), or a verified account (``account``) — any of them may be set, and a
    code letter or a verified account is linked to the person's census row where there is one.

    Only salted hashes (HMAC-SHA-256 with the decision's ``salt``) of codes and identifiers are
    stored. ``has_voted`` is the only trace of voting: no time, no channel, no link to the ballot.
    """

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="electors")
    # NULL (not ""): several electors without one must not collide in the unique constraint
    identifier_hash = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    code_hash = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    # SET_NULL, not CASCADE: a deleted account must not take the row (and its ``has_voted``) along,
    # or a re-import of the census would let the person vote again
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    has_voted = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["decision", "identifier_hash"], name="decisions_elector_identifier"
            ),
            models.UniqueConstraint(
                fields=["decision", "code_hash"], name="decisions_elector_code"
            ),
            models.UniqueConstraint(
                fields=["decision", "account"], name="decisions_elector_account"
            ),
        ]


class Channel(models.TextChoices):
    WEB = "web", _("online")
    BOOTH = "booth", _("polling station")
    POSTAL = "postal", _("by post")


class PendingBallot(CityOwned):
    """A cast ballot waiting in the mixing pool (random id, no time) until it is appended to the
    public log with a batch of others in shuffled order."""

    id = models.UUIDField(primary_key=True)
    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="pending")
    choice = models.JSONField()
    channel = models.CharField(max_length=8, choices=Channel)
    receipt_hash = models.CharField(max_length=64, unique=True)


class Ballot(CityOwned):
    """A counted ballot and its entry in the public, hash-chained log:
    ``entry_hash = SHA-256(prev_hash | seq | canonical JSON of choice | channel | receipt_hash | day)``
    (see ``herzstadt.decisions.log``). ``day`` is the date the batch was appended (not when the
    ballot was cast)."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="ballots")
    seq = models.PositiveIntegerField()
    choice = models.JSONField()
    channel = models.CharField(max_length=8, choices=Channel)
    receipt_hash = models.CharField(max_length=64)
    day = models.DateField()
    prev_hash = models.CharField(max_length=64, blank=True)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["decision", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["decision", "seq"], name="decisions_ballot_seq"),
            models.UniqueConstraint(
                fields=["decision", "receipt_hash"], name="decisions_ballot_receipt"
            ),
        ]


class PostalEntry(CityOwned):
    """One of the two independent entries of a postal ballot (double entry): staff member
    ``entered_by`` types the ballot with the envelope's ``envelope`` number; a ballot counts only
    when two entries by different people agree (then both are ``reconciled``)."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="postal_entries")
    envelope = models.CharField(_("envelope number"), max_length=40)
    choice = models.JSONField()
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reconciled = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["decision", "envelope", "entered_by"],
                name="decisions_postal_once_per_clerk",
            )
        ]
