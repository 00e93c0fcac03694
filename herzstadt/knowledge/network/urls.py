"""Network pages, API and back office (helper: network)."""

from __future__ import annotations

from typing import Any

from django.urls import path
from django.utils.translation import gettext_lazy as _

from herzstadt.core import registry
from herzstadt.knowledge.network import api, backoffice


def _harvest(stop: Any) -> None:
    from herzstadt.knowledge.network.harvest import run

    run(stop)


def _summary(city: Any) -> str:
    from django.utils.translation import ngettext

    from herzstadt.knowledge.models import Partner, SyncStatus

    partners = Partner.objects.filter(city=city, enabled=True)
    n = partners.count()
    failing = partners.filter(status=SyncStatus.ERROR).count()
    text = ngettext("%(n)s partner city followed", "%(n)s partner cities followed", n) % {"n": n}
    if failing:
        text += " · " + ngettext("%(n)s cannot be reached", "%(n)s cannot be reached", failing) % {
            "n": failing
        }
    return text


#: citizen pages, namespace ``knowledge``
urlpatterns: list[Any] = []
#: the network API under /api/v1/ (shared namespace ``api``; names start with ``network-``)
api_urlpatterns: list[Any] = [
    path("network/", api.index, name="network-index"),
    path("network/<slug:city>/measures/", api.measures, name="network-measures"),
    path("network/<slug:city>/measures/<slug:measure>/", api.measure, name="network-measure"),
    path("network/<slug:city>/measures/<slug:measure>/reuses/", api.reuses, name="network-reuses"),
]
#: back-office pages (namespace ``backoffice``; names start with ``network-``)
backoffice_urlpatterns: list[Any] = [
    path(_("network/"), backoffice.partners, name="network-partners"),
    path(_("network/<int:pk>/"), backoffice.partner, name="network-partner"),
    path(_("network/<int:pk>/sync/"), backoffice.partner_sync, name="network-partner-sync"),
    path(_("network/<int:pk>/remove/"), backoffice.partner_delete, name="network-partner-delete"),
    path(_("network/keys/"), backoffice.partner_keys, name="network-keys"),
    path(
        _("network/keys/<int:pk>/revoke/"),
        backoffice.partner_key_revoke,
        name="network-key-revoke",
    ),
    path(_("network/adopt/<int:pk>/"), backoffice.adopt_view, name="network-adopt"),
]
NAV: tuple[Any, ...] = ()
SECTIONS: tuple[Any, ...] = (
    registry.BackofficeSection(
        key="network",
        label=_("City network"),
        url_name="backoffice:network-partners",
        permission="accounts.city_staff",
        description=_(
            "Partner cities this city follows: their measures are harvested for the knowledge "
            "catalogue and can be taken over; keys for partners' reports."
        ),
        order=75,
        current=tuple(f"backoffice:{p.name}" for p in backoffice_urlpatterns),
        summary=_summary,
    ),
)
PANELS: tuple[Any, ...] = ()
TASKS: tuple[Any, ...] = (
    registry.BackgroundTask(
        key="knowledge-harvest",
        run=_harvest,
        label=_("Harvests the catalogues of partner cities"),
        order=70,
    ),
)
