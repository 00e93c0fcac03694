"""Exports of a process's contributions: the internal one for staff (with personal data) and the
public open-data download of a published process (no sign-in)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from herzstadt.accounts.backoffice.access import staff_required
from herzstadt.core.models import City
from herzstadt.participation.backoffice import exports as downloads
from herzstadt.participation.backoffice.views.common import get_process
from herzstadt.participation.models import Process


@require_safe
@staff_required
def exports(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    process = get_process(city, slug)
    return render(
        request,
        "participation/backoffice/exports.html",
        {"process": process, "formats": list(downloads.FORMATS)},
    )


@require_safe
@staff_required
def export(request: HttpRequest, city: City, slug: str, fmt: str) -> HttpResponse:
    process = get_process(city, slug)
    if fmt not in downloads.FORMATS:
        raise Http404(_("Unknown format."))
    return downloads.export_response(
        process, fmt, open_data=False, absolute=request.build_absolute_uri
    )


@require_safe
def open_data(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    """Public: a published process's contributions without personal data (dl-de/by-2-0)."""
    city = request.city
    if not city or fmt not in downloads.FORMATS:
        raise Http404(_("There is no such participation process."))
    process = get_object_or_404(
        Process.objects.select_related("city"), city=city, slug=slug, is_published=True
    )
    return downloads.export_response(
        process, fmt, open_data=True, absolute=request.build_absolute_uri
    )
