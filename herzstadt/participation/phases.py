"""The phase registry: what a process's active phase allows.

A process runs through phases (information, ideas, discussion, evaluation, results). Each phase kind
declares the features it opens; views and commands ask ``process.allows(Feature.X)`` instead of
checking phase names, so adding a kind of phase means adding one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Feature(models.TextChoices):
    POST_IDEA = "idea.create", _("post ideas")
    COMMENT = "comment", _("comment")
    SUPPORT = "support", _("support ideas")
    ANSWER_SURVEY = "survey.answer", _("answer the survey")


class PhaseKind(models.TextChoices):
    INFORMATION = "information", _("information")
    IDEAS = "ideas", _("ideas")
    DISCUSSION = "discussion", _("discussion")
    EVALUATION = "evaluation", _("evaluation")
    RESULTS = "results", _("results")


@dataclass(frozen=True)
class PhaseSpec:
    kind: PhaseKind
    features: frozenset[Feature]
    #: What a citizen can do in this phase, in one sentence for the process page.
    invitation: str


REGISTRY: dict[str, PhaseSpec] = {
    spec.kind.value: spec
    for spec in (
        PhaseSpec(
            PhaseKind.INFORMATION,
            frozenset(),
            _("Find out about the project. Contributions open in the next phase."),
        ),
        PhaseSpec(
            PhaseKind.IDEAS,
            frozenset({Feature.POST_IDEA, Feature.COMMENT, Feature.SUPPORT, Feature.ANSWER_SURVEY}),
            _(
                "Post your ideas, place them on the map, comment on and support the ideas of others."
            ),
        ),
        PhaseSpec(
            PhaseKind.DISCUSSION,
            frozenset({Feature.COMMENT, Feature.SUPPORT, Feature.ANSWER_SURVEY}),
            _("Discuss and support the ideas collected. New ideas are closed."),
        ),
        PhaseSpec(
            PhaseKind.EVALUATION,
            frozenset(),
            _("The city is reviewing the ideas and will answer each one."),
        ),
        PhaseSpec(
            PhaseKind.RESULTS,
            frozenset(),
            _("See what became of every idea, with the city's reasons."),
        ),
    )
}


def spec(kind: str) -> PhaseSpec:
    return REGISTRY[kind]
