"""The compass pillar's one registration (its parts fill it in as they are built): the pages, back
office, panels and participation link (``urls``, ``rating``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from herzstadt.compass import permissions as _permissions  # noqa: F401 - defines the rules
from herzstadt.compass import rating
from herzstadt.compass import urls as pages
from herzstadt.core import registry

PILLAR = registry.Pillar(
    name="compass",
    label=_("Values compass"),
    url_order=70,
    urls=[*pages.urlpatterns],
    backoffice_urls=[*pages.backoffice_urlpatterns],
    nav=(*pages.NAV,),
    panels=(*pages.PANELS,),
    backoffice_sections=(*pages.SECTIONS,),
    features=rating.FEATURES,
    phase_kinds=rating.PHASE_KINDS,
    process_kinds=rating.PROCESS_KINDS,
    personal_data=registry.PersonalData(
        export=rating.export_personal_data, erase=rating.erase_personal_data
    ),
)
