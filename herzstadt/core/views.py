"""Public pages of a city: home, districts, measures. Server-rendered; the map only enhances."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from herzstadt.core import geojson, panels
from herzstadt.core.forms import MeasureFilterForm
from herzstadt.core.geo import rings, svg_path
from herzstadt.core.models import City, District, Measure, MeasureStatus

PAGE_SIZE = 20


def _city(request: HttpRequest) -> City:
    city = request.city
    if not city:
        raise Http404(_("No city has been set up yet."))
    return city


def _public_measures(city: City):
    return (
        Measure.objects.filter(city=city, is_public=True)
        .select_related("field_of_action", "district", "office")
        .order_by("title")
    )


def home(request: HttpRequest) -> HttpResponse:
    city = request.city
    if not city:
        return render(request, "core/no_city.html", status=200)
    measures = _public_measures(city)
    districts = list(
        District.objects.filter(city=city).annotate(
            measure_count=Count("measure", filter=Q(measure__is_public=True))
        )
    )
    by_status = dict(measures.order_by().values_list("status").annotate(n=Count("id")))
    status_counts = [
        (label, by_status.get(value, 0), value) for value, label in MeasureStatus.choices
    ]
    context = {
        "districts": districts,
        "measures": measures.filter(status=MeasureStatus.IN_PROGRESS)[:6],
        "measure_total": sum(by_status.values()),
        "status_counts": status_counts,
        "fields": city.fieldofaction_set.annotate(
            measure_count=Count("measure", filter=Q(measure__is_public=True))
        ),
        "partners": city.partners.all(),
        "map_data": geojson.city_map(districts, measures),
        "map_legend": MeasureStatus.choices,
        "panels": panels.render(request, "home", city),
    }
    return render(request, "core/home.html", context)


def district_detail(request: HttpRequest, slug: str) -> HttpResponse:
    city = _city(request)
    district = get_object_or_404(District, city=city, slug=slug)
    geom = district.geometry
    measures = _public_measures(city).filter(district=district)
    context = {
        "district": district,
        "measures": measures,
        "outline_path": svg_path(geom),
        "rings": rings(geom),
        "area_ha": geojson.area_hectares(geom),
        "map_data": geojson.city_map([district], measures),
        "map_legend": MeasureStatus.choices,
        "panels": panels.render(request, "district", district),
    }
    return render(request, "core/district_detail.html", context)


def district_geojson(request: HttpRequest, slug: str) -> JsonResponse:
    city = _city(request)
    district = get_object_or_404(District, city=city, slug=slug)
    response = JsonResponse(geojson.district_feature(district), content_type="application/geo+json")
    response["Content-Disposition"] = f'inline; filename="{district.slug}.geojson"'
    return response


def measure_list(request: HttpRequest) -> HttpResponse:
    city = _city(request)
    form = MeasureFilterForm(city, request.GET or None)
    measures = _public_measures(city)
    if form.is_valid():
        measures = form.filter(measures)
    elif form.is_bound:
        # e.g. a search longer than allowed: say so and show nothing, never silently everything
        measures = measures.none()
    page = Paginator(measures, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "total": page.paginator.count,
    }
    return render(request, "core/measure_list.html", context)


def measure_detail(request: HttpRequest, slug: str) -> HttpResponse:
    city = _city(request)
    measure = get_object_or_404(_public_measures(city), slug=slug)
    context = {
        "measure": measure,
        "milestones": measure.milestones.all(),
        "links": measure.links.all(),
        "map_data": geojson.city_map([measure.district] if measure.district else [], [measure]),
        "map_legend": [(measure.status, measure.get_status_display())],
        "panels": panels.render(request, "measure", measure),
    }
    return render(request, "core/measure_detail.html", context)
