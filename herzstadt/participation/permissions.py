"""Participation's named permissions (django-rules, see ``herzstadt.core.permissions``), built from
the people-and-roles predicates of ``accounts.permissions``. One place for who may do what; use cases
``require`` them, views ``explain`` them, templates ask ``{% allowed %}``.

Object of each rule:

- ``participation.post_idea``, ``.comment``, ``.support`` (a process): a contributor of the process's
  city (signed in, not blocked, e-mail confirmed) while the active phase opens the feature
- ``participation.answer_survey`` (a survey): its phase is open; signed in, or anonymous when the
  survey allows it; not blocked; a signed-in person has confirmed their e-mail address
- ``participation.answer_survey`` also needs the survey and its process published (drafts cannot be
  answered)
- ``participation.moderate`` (a city, or anything of a city): moderators and up
- ``participation.manage`` (a city, or anything of a city): city staff and administrators run
  processes, phases, categories, surveys, answers, statistics and exports, and see drafts
"""

from __future__ import annotations

import rules
from django.utils.translation import gettext_lazy as _

from herzstadt.accounts.permissions import (
    CONTRIBUTE,
    has_confirmed_email,
    is_city_staff,
    is_moderator,
    is_not_blocked,
    is_signed_in,
)
from herzstadt.core import permissions
from herzstadt.participation.models import Idea
from herzstadt.participation.phases import Feature

#: The permission to ask for each feature a phase opens.
FEATURE_PERMISSIONS = {
    Feature.POST_IDEA: "participation.post_idea",
    Feature.COMMENT: "participation.comment",
    Feature.SUPPORT: "participation.support",
    Feature.ANSWER_SURVEY: "participation.answer_survey",
}


def _phase_opens(feature: str) -> rules.Predicate:
    def opens(user, process) -> bool:
        return process is not None and process.allows(feature)

    return rules.predicate(opens, name=f"phase_opens:{feature}")


PHASE_CLOSED = _("This is not possible in the current phase of the process.")
for _feature in (Feature.POST_IDEA, Feature.COMMENT, Feature.SUPPORT):
    permissions.define(
        FEATURE_PERMISSIONS[_feature],
        *CONTRIBUTE,
        permissions.check(_phase_opens(_feature), PHASE_CLOSED),
    )


@rules.predicate
def survey_is_open(user, survey) -> bool:
    return (
        survey is not None and survey.is_published and survey.process.allows(Feature.ANSWER_SURVEY)
    )


@rules.predicate
def may_answer_as_who_they_are(user, survey) -> bool:
    return is_signed_in(user) or bool(survey and survey.allow_anonymous)


SURVEY_OPEN = permissions.check(
    survey_is_open, _("This survey is not open in the current phase of the process.")
)
SURVEY_SIGN_IN = permissions.check(
    may_answer_as_who_they_are, _("Please sign in to answer this survey.")
)
permissions.define(
    "participation.answer_survey",
    SURVEY_OPEN,
    SURVEY_SIGN_IN,
    permissions.check(is_not_blocked, _("Your account is blocked from contributing in this city.")),
    permissions.check(
        ~is_signed_in | has_confirmed_email, _("Please confirm your e-mail address first.")
    ),
)
permissions.define(
    "participation.moderate",
    permissions.check(is_moderator, _("Only moderators of this city may do this.")),
)
permissions.define(
    "participation.manage",
    permissions.check(is_city_staff, _("Only staff of this city may do this.")),
)


# --- one's own ideas and comments -----------------------------------------------------------------
# ``participation.edit_own_idea`` (an idea), ``participation.edit_own_comment`` (a comment): its author,
# not blocked, while the phase of its process still opens posting ideas (commenting); not when the
# moderators have hidden it or the author has deleted it. ``participation.delete_own`` (an idea or a
# comment): its author, at any time (also when blocked or hidden: taking one's words back is always
# possible), once.
@rules.predicate
def is_author(user, contribution) -> bool:
    return (
        is_signed_in(user)
        and contribution is not None
        and contribution.author_id is not None
        and contribution.author_id == user.pk
    )


@rules.predicate
def is_not_deleted(user, contribution) -> bool:
    return contribution is not None and contribution.deleted_at is None


@rules.predicate
def is_not_hidden(user, contribution) -> bool:
    return contribution is not None and contribution.hidden_at is None


def _phase_still_opens(feature: str) -> rules.Predicate:
    def opens(user, contribution) -> bool:
        if contribution is None:
            return False
        process = (
            contribution.process if isinstance(contribution, Idea) else contribution.idea.process
        )
        return process.allows(feature)

    return rules.predicate(opens, name=f"contribution_phase_opens:{feature}")


OWN = permissions.check(is_author, _("Only the author can change this."))
NOT_DELETED = permissions.check(is_not_deleted, _("This has been deleted."))
NOT_HIDDEN = permissions.check(
    is_not_hidden, _("The moderators have hidden this; it can no longer be edited.")
)
NOT_BLOCKED = permissions.check(
    is_not_blocked, _("Your account is blocked from contributing in this city.")
)
EDIT_CLOSED = _("The phase in which this could be changed is over.")
permissions.define(
    "participation.edit_own_idea",
    OWN,
    NOT_DELETED,
    NOT_HIDDEN,
    NOT_BLOCKED,
    permissions.check(_phase_still_opens(Feature.POST_IDEA), EDIT_CLOSED),
)
permissions.define(
    "participation.edit_own_comment",
    OWN,
    NOT_DELETED,
    NOT_HIDDEN,
    NOT_BLOCKED,
    permissions.check(_phase_still_opens(Feature.COMMENT), EDIT_CLOSED),
)
permissions.define("participation.delete_own", OWN, NOT_DELETED)
