"""The compass's pages (namespace ``compass``, under /kompass/), back office (namespace
``backoffice``, names start with ``compass``), navigation, panels and back-office section."""

from __future__ import annotations

from typing import Any

from django.urls import path
from django.utils.translation import gettext_lazy as _

from herzstadt.compass import backoffice, panels, rating, views
from herzstadt.core import registry

urlpatterns: list[Any] = [
    path(_("compass/"), views.compass, name="home"),
    path(_("compass/compass.csv"), views.compass_export, {"fmt": "csv"}, name="export-csv"),
    path(_("compass/compass.json"), views.compass_export, {"fmt": "json"}, name="export-json"),
    path(
        _("compass/indicators/<slug:slug>.csv"),
        views.indicator_export,
        {"fmt": "csv"},
        name="indicator-csv",
    ),
    path(
        _("compass/indicators/<slug:slug>.json"),
        views.indicator_export,
        {"fmt": "json"},
        name="indicator-json",
    ),
    path(_("compass/indicators/<slug:slug>/"), views.indicator, name="indicator"),
    path(_("compass/goals/<slug:slug>/"), views.goal, name="goal"),
    path(_("compass/measures/"), views.portfolio, name="portfolio"),
    path(_("compass/measures/<slug:slug>/"), views.measure, name="measure"),
    path(_("compass/districts/"), views.districts, name="districts"),
    path(_("compass/rate/<slug:slug>/"), rating.rate_list, name="rate-list"),
    path(_("compass/rate/<slug:slug>/<slug:measure>/"), rating.rate, name="rate"),
]
backoffice_urlpatterns: list[Any] = [
    path(_("compass/"), backoffice.home, name="compass"),
    path(_("compass/values/new/"), backoffice.value_edit, name="compass-value-create"),
    path(_("compass/values/<int:pk>/"), backoffice.value_edit, name="compass-value"),
    path(_("compass/goals/new/"), backoffice.goal_edit, name="compass-goal-create"),
    path(_("compass/goals/<int:pk>/"), backoffice.goal_edit, name="compass-goal"),
    path(_("compass/indicators/new/"), backoffice.indicator_edit, name="compass-indicator-create"),
    path(_("compass/indicators/<int:pk>/"), backoffice.indicator_edit, name="compass-indicator"),
    path(
        _("compass/indicators/<int:pk>/compute/"),
        backoffice.indicator_compute,
        name="compass-indicator-compute",
    ),
    path(_("compass/measures/<slug:slug>/"), backoffice.measure_assess, name="compass-assess"),
]
NAV: tuple[Any, ...] = (
    registry.NavEntry(
        key="compass",
        label=_("Compass"),
        url_name="compass:home",
        order=70,
        current=("compass:*",),
    ),
)
PANELS: tuple[Any, ...] = (
    registry.Panel(page="measure", render=panels.measure_panel, order=50),
    registry.Panel(page="idea", render=panels.idea_panel, order=50),
)
SECTIONS: tuple[Any, ...] = (
    registry.BackofficeSection(
        key="compass",
        label=_("Values compass"),
        url_name="backoffice:compass",
        permission="compass.manage",
        description=_(
            "The city's values and goals, the indicators that measure them, and each measure's "
            "expected effect on the goals."
        ),
        order=80,
        current=(
            "backoffice:compass",
            "backoffice:compass-value",
            "backoffice:compass-value-create",
            "backoffice:compass-goal",
            "backoffice:compass-goal-create",
            "backoffice:compass-indicator",
            "backoffice:compass-indicator-create",
            "backoffice:compass-assess",
        ),
        summary=backoffice.summary,
    ),
)
