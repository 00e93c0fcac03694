"""The urban-data section of the district page: what is measured inside the district."""

from __future__ import annotations

from django.template.loader import render_to_string

from herzstadt.urbandata.measured import measured_in


def district_panel(request, district) -> str:
    return render_to_string(
        "urbandata/_measured.html",
        {"district": district, "measured": measured_in(district)},
        request,
    )
