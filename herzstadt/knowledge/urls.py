"""The knowledge catalogue ("Wissen") and the back office of measure profiles (helper: knowledge)."""

from __future__ import annotations

from typing import Any

from django.urls import path
from django.utils.translation import gettext_lazy as _

from herzstadt.core import registry
from herzstadt.knowledge import backoffice, panels, views

#: citizen pages, namespace ``knowledge`` (under /wissen/)
urlpatterns: list[Any] = [
    path(_("knowledge/"), views.catalogue, name="catalogue"),
    path(_("knowledge/network/<int:pk>/"), views.partner_measure, name="partner-measure"),
    path(_("knowledge/<slug:slug>/"), views.profile, name="profile"),
]
#: back-office pages (namespace ``backoffice``; names start with ``knowledge-``)
backoffice_urlpatterns: list[Any] = [
    path(_("knowledge/"), backoffice.profiles, name="knowledge-profiles"),
    path(_("knowledge/<slug:slug>/"), backoffice.profile_edit, name="knowledge-profile-edit"),
]
NAV: tuple[Any, ...] = (
    registry.NavEntry(
        key="knowledge",
        label=_("Knowledge"),
        url_name="knowledge:catalogue",
        order=60,
        current=("knowledge:*",),
    ),
)
PANELS: tuple[Any, ...] = (registry.Panel(page="measure", render=panels.measure_panel, order=60),)
SECTIONS: tuple[Any, ...] = (
    registry.BackofficeSection(
        key="knowledge",
        label=_("Knowledge transfer"),
        url_name="backoffice:knowledge-profiles",
        permission="knowledge.manage",
        description=_(
            "Profiles of the city's measures for other cities: phase, steps, data models, "
            "software, costs, contact — and whether a profile is shared."
        ),
        order=70,
        current=("backoffice:knowledge-profiles", "backoffice:knowledge-profile-edit"),
        summary=backoffice.summary,
    ),
)
