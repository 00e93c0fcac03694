"""User-facing sentences for the reason codes of :class:`~herzstadt.decisions.voting.VotingError`
and :class:`~herzstadt.decisions.eligibility.NotEligible`."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

VOTING = {
    "not_open": _("Voting has not begun yet."),
    "closed": _("Voting has closed."),
    "channel_closed": _("This way of voting is not offered for this decision."),
    "no_elector": _("We could not tell who is voting."),
    "wrong_elector": _("This entitlement belongs to another decision."),
    "empty": _("Your ballot is empty: choose at least one."),
    "unknown": _("Your ballot names something that is not on it (number %(number)s)."),
    "too_many": _("You chose %(count)s proposals; at most %(limit)s are allowed."),
    "over_budget": _(
        "Your choice costs %(spent)s €, more than the budget of %(budget)s €. Remove a proposal."
    ),
    "bad_points": _("Please give whole numbers of points, zero or more."),
    "too_many_points": _("You gave %(total)s points; at most %(limit)s are allowed."),
    "one_option": _("Please choose exactly one answer."),
    "already_voted": _(
        "A ballot has already been cast with this entitlement. You can vote only once."
    ),
}

ELIGIBILITY = {
    "not_verified": _(
        "Your account is not verified for this vote yet. Use your voting code, or verify your "
        "account first."
    ),
    "unknown_code": _("This voting code is not valid. Please check it and type it again."),
    "not_on_census": _("You are not on the list of people entitled to vote in this decision."),
    "already_voted": VOTING["already_voted"],
    "channel_closed": VOTING["channel_closed"],
}


def message(table: dict[str, Any], code: str, params: dict[str, Any] | None = None) -> str:
    text = table.get(code)
    if text is None:
        return str(_("This ballot cannot be taken (%(code)s).")) % {"code": code}
    try:
        return str(text) % (params or {})
    except (KeyError, TypeError, ValueError):
        return str(text)
