"""Citizen pages of urban data: one page per kind of data in a district (e.g. the air quality of
the Pfaff-Areal) with every sensor's current values and charts of the last 24 hours and 30 days."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from herzstadt.core.models import District
from herzstadt.core.templatetags.numbers import format_number
from herzstadt.urbandata import access, charts, history, plain
from herzstadt.urbandata.datasets import LICENCE
from herzstadt.urbandata.live import live_values, too_few_text
from herzstadt.urbandata.models import K_ANONYMITY


def _refs(q: plain.Quantity, when) -> list[tuple[float, str]]:
    refs = [
        (limit.value, f"{limit.label} ({format_number(limit.value)} µg/m³)") for limit in q.limits
    ]
    if q.noise:
        day = _("daytime limit for residential areas (16th BImSchV)")
        night = _("night-time limit for residential areas (16th BImSchV)")
        refs.append((plain.NOISE_DAY, f"{day} ({format_number(plain.NOISE_DAY)} dB(A))"))
        refs.append((plain.NOISE_NIGHT, f"{night} ({format_number(plain.NOISE_NIGHT)} dB(A))"))
    return refs


def type_page(request: HttpRequest, district: str, type_name: str) -> HttpResponse:
    city = getattr(request, "city", None)
    if not city:
        raise Http404(_("No city has been set up yet."))
    place = get_object_or_404(District, city=city, slug=district)
    open_types, personal = access.publication(city)
    wanted = request.GET.get("sensor", "")
    found = live_values(
        place, personal, readings=0, selected=wanted, name=type_name, open_types=open_types
    )
    live = next((t for t in found if t.name == type_name), None)
    if live is None:
        raise Http404(_("No such data in this district."))
    sensor = None
    ids: list[str] = []
    if live.sensors:
        sensor = next((s for s in live.sensors if s.id == wanted), live.sensors[0])
        ids = [sensor.id]
    elif live.personal and not live.suppressed:
        ids = live.source_ids  # only their mean, per period over at least K_ANONYMITY of them
    now = timezone.now()
    sections: list[dict[str, Any]] = []
    personal_quantities = [a.quantity for a in live.aggregates]
    for q in personal_quantities if live.personal else live.chartable:
        reading = next((r for r in sensor.readings if r.quantity is q), None) if sensor else None
        if sensor and reading is None:
            continue
        unit = reading.unit if reading else ("%" if q.share else "")
        if live.personal:
            unit = next(a.unit for a in live.aggregates if a.quantity is q)
        periods: list[dict[str, Any]] = []
        for daily in (False, True):
            start, points = history.history(city.ngsi_tenant, ids, live.iri_of(q.attr), now, daily)
            cid = f"chart-{q.attr}-{'30d' if daily else '24h'}"
            if points is None:
                periods.append({"cid": cid, "chart": None})
                continue
            if live.personal:
                # k-anonymity per period: a period with fewer sources is left out
                points = [p for p in points if p.sources >= K_ANONYMITY]
            if q.share:
                points = [
                    charts.Point(
                        p.start,
                        p.avg * 100,
                        None if p.min is None else p.min * 100,
                        None if p.max is None else p.max * 100,
                    )
                    for p in points
                ]
            title = (
                _("%(what)s: daily means of the last 30 days")
                if daily
                else _("%(what)s: hourly means of the last 24 hours")
            ) % {"what": q.label}
            periods.append(
                {
                    "cid": cid,
                    "chart": charts.line_chart(
                        points,
                        title=str(title),
                        unit=unit,
                        start=start,
                        end=now,
                        daily=daily,
                        refs=_refs(q, now),
                    ),
                }
            )
        sections.append({"quantity": q, "reading": reading, "periods": periods})
    context = {
        "district": place,
        "live": live,
        "sensor": sensor,
        "sections": sections,
        "too_few": too_few_text() if live.suppressed else "",
        "k": K_ANONYMITY,
        "licence": LICENCE,
    }
    return render(request, "urbandata/type.html", context)
