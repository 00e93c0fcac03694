"""The results part of the decisions pillar: public results pages and downloads, the back-office
results page, the measure page's panel and the worker task that publishes due results."""

from __future__ import annotations

from typing import Any

from django.urls import path
from django.utils.translation import gettext_lazy as _

from herzstadt.core import registry
from herzstadt.decisions import results, results_views

#: citizen pages, namespace ``decisions`` (under /entscheiden/<slug>/)
urlpatterns: list[Any] = [
    path(_("decide/<slug:slug>/results/"), results_views.results_page, name="results"),
    path(_("decide/<slug:slug>/results.pb"), results_views.results_pb, name="results-pb"),
]
#: back-office pages (namespace ``backoffice``; names start with ``decisions-``)
backoffice_urlpatterns: list[Any] = [
    path(
        _("decisions/<slug:slug>/results/"),
        results_views.backoffice_results,
        name="decisions-results",
    ),
]
PANELS: tuple[Any, ...] = (
    registry.Panel(page="measure", render=results_views.measure_panel, order=40),
)
TASKS: tuple[Any, ...] = (
    registry.BackgroundTask(
        key="decisions-results",
        run=results.run,
        label=_("Publishes the results of decisions when they are due"),
        order=80,
    ),
)
