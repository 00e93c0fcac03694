"""The phase registry: what a process's active phase allows.

A process runs through phases (information, ideas, discussion, evaluation, results …). Each *phase
kind* declares the *features* it opens; views and use cases ask ``process.allows(Feature.X)`` instead
of checking phase names. A *process kind* names the phase kinds a process of that kind may run through.

The registry is open: features, phase kinds and process kinds are plain data in the pillar registry
(``herzstadt.core.registry``: ``Feature``, ``PhaseKind``, ``ProcessKind``), contributed by any pillar
through its manifest (``Pillar.features``, ``Pillar.phase_kinds``, ``Pillar.process_kinds``). So a
pillar adds a kind of phase — e.g. the compass's "Kompass-Bewertung" that opens ``compass.rate`` — or a
kind of process — e.g. a participatory budget with proposals, feasibility check and voting — without
importing participation; its views then ask ``process.allows("compass.rate")`` on a process they get
through participation's public API. This module only reads the registry and defines participation's
own kinds (registered in ``pillar.py``). The ``Process`` and ``Phase`` models stay in participation.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from herzstadt.core import registry


class Feature(models.TextChoices):
    POST_IDEA = "idea.create", _("post ideas")
    # "comment" is also the noun (a comment); German needs the verb here: kommentieren
    COMMENT = "comment", pgettext_lazy("phase feature", "comment")
    SUPPORT = "support", _("support ideas")
    ANSWER_SURVEY = "survey.answer", _("answer the survey")


class PhaseKind(models.TextChoices):
    INFORMATION = "information", _("information")
    IDEAS = "ideas", _("ideas")
    DISCUSSION = "discussion", _("discussion")
    EVALUATION = "evaluation", _("evaluation")
    RESULTS = "results", _("results")


#: The kind of process every process had before kinds existed (and the default).
DEFAULT_PROCESS_KIND = "ideas"

FEATURES = tuple(registry.Feature(key=f.value, label=f.label) for f in Feature)

PHASE_KINDS = (
    registry.PhaseKind(
        key=PhaseKind.INFORMATION,
        label=PhaseKind.INFORMATION.label,
        features=frozenset(),
        invitation=_("Find out about the project. Contributions open in the next phase."),
        order=10,
    ),
    registry.PhaseKind(
        key=PhaseKind.IDEAS,
        label=PhaseKind.IDEAS.label,
        features=frozenset(
            {Feature.POST_IDEA, Feature.COMMENT, Feature.SUPPORT, Feature.ANSWER_SURVEY}
        ),
        invitation=_(
            "Post your ideas, place them on the map, comment on and support the ideas of others."
        ),
        order=20,
    ),
    registry.PhaseKind(
        key=PhaseKind.DISCUSSION,
        label=PhaseKind.DISCUSSION.label,
        features=frozenset({Feature.COMMENT, Feature.SUPPORT, Feature.ANSWER_SURVEY}),
        invitation=_("Discuss and support the ideas collected. New ideas are closed."),
        order=30,
    ),
    registry.PhaseKind(
        key=PhaseKind.EVALUATION,
        label=PhaseKind.EVALUATION.label,
        features=frozenset(),
        invitation=_("The city is reviewing the ideas and will answer each one."),
        order=40,
    ),
    registry.PhaseKind(
        key=PhaseKind.RESULTS,
        label=PhaseKind.RESULTS.label,
        features=frozenset(),
        invitation=_("See what became of every idea, with the city's reasons."),
        order=50,
    ),
)

PROCESS_KINDS = (
    registry.ProcessKind(
        key=DEFAULT_PROCESS_KIND,
        label=_("Ideas and discussion"),
        phase_kinds=tuple(PhaseKind.values),
        description=_("Collect ideas on the map, discuss and support them; the city answers each."),
        order=10,
    ),
)


def spec(kind: str) -> registry.PhaseKind:
    """The registered phase kind; a kind no pillar registers (any more) opens nothing."""
    found = registry.phase_kinds().get(kind)
    return found or registry.PhaseKind(key=kind, label=kind, features=frozenset())


def process_kind(kind: str) -> registry.ProcessKind | None:
    return registry.process_kinds().get(kind)


def phase_kind_choices(process_kind_key: str | None = None) -> list[tuple[str, str]]:
    """``(key, label)`` of the phase kinds a process of this kind may use (all, for an unknown kind)."""
    kinds = registry.phase_kinds()
    pkind = process_kind(process_kind_key) if process_kind_key else None
    keys = pkind.phase_kinds if pkind else tuple(kinds)
    return [(k, kinds[k].label) for k in keys if k in kinds]


def process_kind_choices() -> list[tuple[str, str]]:
    return [(k.key, k.label) for k in registry.process_kinds().values()]
