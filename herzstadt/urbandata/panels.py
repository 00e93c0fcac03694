"""The urban-data sections of core pages: the district's live values (what is measured inside it)
and, on a measure's page, the current values of the entity types the measure produces."""

from __future__ import annotations

from django.template.loader import render_to_string

from herzstadt.urbandata import access
from herzstadt.urbandata.datasets import LICENCE
from herzstadt.urbandata.live import PANEL_SENSORS, live_values, too_few_text
from herzstadt.urbandata.models import MeasureEntityTypes


def _render(request, district, live, heading_id: str, measure=None) -> str:
    return render_to_string(
        "urbandata/_measured.html",
        {
            "district": district,
            "live": live,
            "measure": measure,
            "heading_id": heading_id,
            "panel_sensors": PANEL_SENSORS,
            "too_few": too_few_text(),
            "licence": LICENCE,
        },
        request,
    )


def district_panel(request, district) -> str:
    open_types, personal = access.publication(district.city)
    live = live_values(district, personal, open_types=open_types)
    return _render(request, district, live, "measured-title")


def measure_panel(request, measure) -> str:
    """The measure's data: only when it names entity types and lies in a district."""
    if measure.district_id is None:
        return ""
    linked = MeasureEntityTypes.objects.filter(measure=measure).first()
    if linked is None or not linked.entity_types:
        return ""
    district = measure.district
    open_types, personal = access.publication(measure.city)
    live = live_values(district, personal, set(linked.entity_types), open_types=open_types)
    if not live:
        return ""
    return _render(request, district, live, "measure-data-title", measure)
