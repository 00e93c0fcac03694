"""Participation's open data as datasets (for the coming DCAT-AP.de catalogue): one per published
process, distributed as the open-data downloads (CSV, JSON, GeoJSON; no personal data, no hidden
contributions; dl-de/by-2-0) and the GeoJSON of its ideas on the map."""

from __future__ import annotations

from django.db.models import Max
from django.urls import reverse
from django.utils.translation import gettext as _

from herzstadt.core.registry import Dataset, Distribution
from herzstadt.participation.backoffice.exports import FORMATS
from herzstadt.participation.models import Comment, Idea, Process

#: Datenlizenz Deutschland – Namensnennung – 2.0, as a DCAT-AP.de licence URI (the exports' licence).
LICENCE = "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
FORMAT_NAMES = {"csv": "CSV", "json": "JSON", "geojson": "GeoJSON"}


def datasets(city) -> list[Dataset]:
    found = []
    processes = (
        Process.objects.filter(city=city, is_published=True)
        .select_related("district")
        .prefetch_related("phases")
        .order_by("created_at", "id")
    )
    for process in processes:
        phases = list(process.phases.all())
        latest = [
            process.created_at,
            Idea.objects.filter(
                process=process, hidden_at__isnull=True, deleted_at__isnull=True
            ).aggregate(m=Max("created_at"))["m"],
            Comment.objects.filter(
                idea__process=process,
                hidden_at__isnull=True,
                idea__hidden_at__isnull=True,
                deleted_at__isnull=True,
                idea__deleted_at__isnull=True,
            ).aggregate(m=Max("created_at"))["m"],
        ]
        downloads = tuple(
            Distribution(
                url=reverse("api:process-open-data", kwargs={"slug": process.slug, "fmt": fmt}),
                media_type=media_type.split(";")[0],
                title=_("Ideas and comments (%(format)s)") % {"format": FORMAT_NAMES[fmt]},
                format=FORMAT_NAMES[fmt],
            )
            for fmt, media_type in FORMATS.items()
        )
        ideas_map = Distribution(
            url=reverse("api:ideas-geojson", kwargs={"slug": process.slug}),
            media_type="application/geo+json",
            title=_("Ideas on the map (GeoJSON)"),
            format="GeoJSON",
        )
        found.append(
            Dataset(
                identifier=f"participation-{process.slug}",
                title=_("Citizen participation: %(title)s") % {"title": process.title},
                description=process.summary,
                distributions=(*downloads, ideas_map),
                licence=LICENCE,
                keywords=("Bürgerbeteiligung", "Ideen", "Kommentare"),
                themes=("GOVE", "SOCI"),
                landing_page=process.get_absolute_url(),
                spatial=process.district.boundary if process.district_id else None,
                temporal=(phases[0].start, phases[-1].end) if phases else None,
                modified=max(d for d in latest if d is not None),
            )
        )
    return found
