"""Participation's registration: its pages and API, the main-menu entry, its sections on the core's
pages and in the back office, and its demo process."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from herzstadt.core import registry
from herzstadt.participation import (
    datasets,
    media,
    notifications,
    panels,
    personal_data,
    phases,
    transfer,
    urls,
)
from herzstadt.participation.backoffice import panels as backoffice_panels
from herzstadt.participation.backoffice import urls as backoffice_urls


def _reports_summary(city) -> str:
    n = backoffice_panels.open_reports(city)
    return ngettext("%(n)s open report", "%(n)s open reports", n) % {"n": n}


SECTIONS = (
    registry.BackofficeSection(
        key="reports",
        label=_("Reports"),
        url_name="backoffice:moderation",
        permission="participation.moderate",
        description=_(
            "Reported ideas and comments: hide them, dismiss the report or block the author."
        ),
        order=10,
        current=(
            "backoffice:moderation",
            "backoffice:report-dismiss",
            "backoffice:idea-block",
            "backoffice:comment-block",
        ),
        summary=_reports_summary,
    ),
    registry.BackofficeSection(
        key="hidden",
        label=_("Hidden content"),
        url_name="backoffice:hidden",
        permission="participation.moderate",
        description=_("Ideas and comments the moderators have hidden, with the reasons."),
        order=20,
        current=(
            "backoffice:hidden",
            "backoffice:idea-hide",
            "backoffice:comment-hide",
            "backoffice:idea-restore",
            "backoffice:comment-restore",
        ),
    ),
    registry.BackofficeSection(
        key="process-create",
        label=_("New process"),
        url_name="backoffice:process-create",
        permission="participation.manage",
        description=_(
            "Start a participation process; answer ideas, run surveys, see statistics and export "
            "from each process's page."
        ),
        order=50,
    ),
)


def _load_demo(context: registry.DemoContext) -> str:
    from herzstadt.participation.demo import demo_loader

    return demo_loader(context)


PILLAR = registry.Pillar(
    name="participation",
    label=_("Participation"),
    urls=urls.urlpatterns,
    api_urls=urls.api_urlpatterns,
    backoffice_urls=backoffice_urls.urlpatterns,
    url_order=20,
    nav=(
        registry.NavEntry(
            key="participation",
            label=_("Participation"),
            url_name="participation:processes",
            order=20,
            current=("participation:*",),
        ),
    ),
    panels=(
        registry.Panel(page="home", render=panels.home_panel, order=10),
        registry.Panel(page="district", render=panels.district_panel, order=20),
        registry.Panel(page="measure", render=panels.measure_panel, order=20),
        registry.Panel(page="backoffice", render=backoffice_panels.home_panel, order=10),
    ),
    backoffice_sections=SECTIONS,
    datasets=datasets.datasets,
    demo=registry.DemoLoader(load=_load_demo, order=30),
    notification_kinds=notifications.KINDS,
    features=phases.FEATURES,
    phase_kinds=phases.PHASE_KINDS,
    process_kinds=phases.PROCESS_KINDS,
    personal_data=registry.PersonalData(export=personal_data.export, erase=personal_data.erase),
    media=(registry.MediaFolder(prefix=media.FOLDER, visible=media.idea_image_access),),
    transfer_parts=(transfer.PART,),
)
