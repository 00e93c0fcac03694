"""URL patterns of the eligibility part (helper "eligible"); wired into ``decisions/pillar.py``."""

from __future__ import annotations

from typing import Any

from django.urls import path
from django.utils.translation import gettext_lazy as _

from herzstadt.core import registry
from herzstadt.decisions.eligible import views

#: citizen pages, namespace ``decisions`` (under /entscheiden/)
urlpatterns: list[Any] = [
    path(_("decide/<slug:slug>/verify/"), views.verify, name="eligible-verify"),
]
#: back-office pages (namespace ``backoffice``; names start with ``decisions-``)
backoffice_urlpatterns: list[Any] = [
    path(_("decisions/eligibility/"), views.decisions, name="decisions-eligibility"),
    path(_("decisions/<slug:slug>/electors/"), views.electors, name="decisions-electors"),
    path(_("decisions/<slug:slug>/census/"), views.census_import, name="decisions-census"),
    path(_("decisions/<slug:slug>/codes/"), views.code_letters, name="decisions-codes"),
    path(_("decisions/<slug:slug>/booth/"), views.booth_entry, name="decisions-booth"),
    path(
        _("decisions/<slug:slug>/postal/cards/"), views.postal_cards, name="decisions-postal-cards"
    ),
    path(
        _("decisions/<slug:slug>/postal/sheets/"),
        views.postal_sheets,
        name="decisions-postal-sheets",
    ),
]
SECTIONS: tuple[Any, ...] = (
    registry.BackofficeSection(
        key="decisions-eligibility",
        label=_("Electors and paper ballots"),
        url_name="backoffice:decisions-eligibility",
        permission="decisions.count",
        description=_(
            "Census import, letters with voting codes, the polling station and the postal count "
            "(double entry)."
        ),
        order=56,
        current=tuple(f"backoffice:{p.name}" for p in backoffice_urlpatterns),
        summary=views.summary,
    ),
)
