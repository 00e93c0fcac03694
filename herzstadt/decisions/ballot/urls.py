"""URL patterns of the ballot part: citizen pages (namespace ``decisions``, German under
``/entscheiden/``) and back-office pages (namespace ``backoffice``, names ``decisions-…``, under
``/verwaltung/entscheidungen/``)."""

from __future__ import annotations

from typing import Any

from django.urls import path
from django.utils.translation import gettext_lazy as _

from herzstadt.core import registry
from herzstadt.decisions.ballot import backoffice, views

urlpatterns: list[Any] = [
    path(_("decide/"), views.index, name="index"),
    path(_("decide/<slug:slug>/"), views.decision, name="decision"),
    path(_("decide/<slug:slug>/proposals/<int:number>/"), views.proposal, name="proposal"),
    path(_("decide/<slug:slug>/vote/"), views.vote, name="vote"),
    path(_("decide/<slug:slug>/log/"), views.ballot_log, name="log"),
    path(_("decide/<slug:slug>/log.json"), views.ballot_log_json, name="log-json"),
    path(_("decide/<slug:slug>/receipt/"), views.receipt_check, name="receipt"),
]

backoffice_urlpatterns: list[Any] = [
    path(_("decisions/"), backoffice.decisions, name="decisions"),
    path(_("decisions/new/"), backoffice.decision_edit, name="decisions-new"),
    path(_("decisions/<slug:slug>/"), backoffice.decision_edit, name="decisions-edit"),
    path(_("decisions/<slug:slug>/proposals/"), backoffice.proposals, name="decisions-proposals"),
    path(
        _("decisions/<slug:slug>/proposals/new/"),
        backoffice.proposal_edit,
        name="decisions-proposal-new",
    ),
    path(
        _("decisions/<slug:slug>/proposals/<int:number>/"),
        backoffice.proposal_edit,
        name="decisions-proposal-edit",
    ),
    path(_("decisions/<slug:slug>/options/"), backoffice.options, name="decisions-options"),
]

NAV: tuple[Any, ...] = (
    registry.NavEntry(
        key="decisions",
        label=_("Decide"),
        url_name="decisions:index",
        order=45,
        current=("decisions:*",),
    ),
)

SECTIONS: tuple[Any, ...] = (
    registry.BackofficeSection(
        key="decisions",
        label=_("Decisions"),
        url_name="backoffice:decisions",
        permission="decisions.manage",
        description=_(
            "Participatory budgets and polls: times, ways of voting, proposals with their "
            "feasibility check, poll answers."
        ),
        order=45,
        current=(
            "backoffice:decisions",
            "backoffice:decisions-new",
            "backoffice:decisions-edit",
            "backoffice:decisions-proposals",
            "backoffice:decisions-proposal-new",
            "backoffice:decisions-proposal-edit",
            "backoffice:decisions-options",
        ),
        summary=backoffice.summary,
    ),
)


def _flush_closed(stop: Any) -> None:
    """Append the pools of closed decisions to their logs, once a minute."""
    from django.db import close_old_connections

    from herzstadt.decisions import log

    while not stop.is_set():
        close_old_connections()
        log.flush_closed_decisions()
        close_old_connections()
        stop.wait(60)


TASKS: tuple[Any, ...] = (
    registry.BackgroundTask(
        key="decisions-mix", run=_flush_closed, label=_("Ballot pools after the close"), order=60
    ),
)
