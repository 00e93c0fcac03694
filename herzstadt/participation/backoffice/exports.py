"""Exports of a process's contributions (ideas and their comments) as CSV, JSON and GeoJSON.

Two flavours:

- **internal** (city staff only): everything, including hidden contributions, the author's display
  name, the hidden flag and reason and the number of reports. Contains personal data: not for
  publication.
- **open data** (public, published processes only): no authors, no hidden contributions (neither
  their text nor that they exist), no reports; licensed under dl-de/by-2-0.

CSV: comma-separated, UTF-8 with a byte order mark (so spreadsheet programs detect the encoding),
CRLF line ends, one row per contribution (``type`` is ``idea`` or ``comment``; a comment names its
idea in ``idea_id``). Text cells that a spreadsheet would read as a formula (starting with ``=``, ``+``,
``-``, ``@``, a tab, a carriage return or a line feed) get a leading single quote (OWASP, CSV
injection); numbers are written as numbers.

GeoJSON (RFC 7946): one Point feature per idea, coordinates in the order longitude, latitude (WGS 84);
ideas without a point have ``"geometry": null``. Comments are counted in the properties.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count
from django.http import HttpResponse
from django.utils import timezone

from herzstadt.accounts.people import display_name
from herzstadt.participation.models import Comment, Idea, Process, Report

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "geojson": "application/geo+json",
}

LICENCE = {
    "id": "dl-de/by-2-0",
    "name": "Datenlizenz Deutschland – Namensnennung – Version 2.0",
    "url": "https://www.govdata.de/dl-de/by-2-0",
}

COLUMNS = [
    "type",
    "id",
    "idea_id",
    "parent_id",
    "title",
    "text",
    "category",
    "status",
    "status_reason",
    "measure",
    "lon",
    "lat",
    "place",
    "supports",
    "comments",
    "created",
    "url",
]
INTERNAL_COLUMNS = ["author", "hidden", "hidden_reason", "reports"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_safe(value) -> str | int | float:
    """One CSV cell: text that starts like a formula is prefixed with ``'`` so spreadsheets show it as
    text; ``None`` is empty; booleans are ``true``/``false``; numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    text = value.isoformat() if isinstance(value, dt.datetime | dt.date) else str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def _iso(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def collect(process: Process, *, open_data: bool, absolute: Callable[[str], str]) -> list[dict]:
    """The process's ideas (newest first), each a dict in column order with a ``comments_list`` of its
    comments (oldest first). ``absolute`` turns a path into a full URL."""
    ideas = Idea.objects.filter(process=process).select_related(
        "category", "measure", "author__profile"
    )
    comments = Comment.objects.filter(idea__process=process).select_related("author__profile")
    if open_data:
        ideas = ideas.filter(hidden_at__isnull=True, deleted_at__isnull=True)
        comments = comments.filter(
            hidden_at__isnull=True,
            idea__hidden_at__isnull=True,
            deleted_at__isnull=True,
            idea__deleted_at__isnull=True,
        )
    idea_reports: dict[int, int] = {}
    comment_reports: dict[int, int] = {}
    if not open_data:
        reports = Report.objects.filter(city_id=process.city_id).order_by()
        idea_reports = dict(
            reports.filter(idea__process=process).values_list("idea_id").annotate(n=Count("id"))
        )
        comment_reports = dict(
            reports.filter(comment__idea__process=process)
            .values_list("comment_id")
            .annotate(n=Count("id"))
        )
    by_idea: dict[int, list[dict]] = defaultdict(list)
    for c in comments.order_by("created_at", "id"):
        row = {
            "type": "comment",
            "id": c.pk,
            "idea_id": c.idea_id,
            "parent_id": c.parent_id,
            "title": "",
            "text": c.body,
            "category": "",
            "status": "",
            "status_reason": "",
            "measure": "",
            "lon": None,
            "lat": None,
            "place": "",
            "supports": None,
            "comments": None,
            "created": _iso(c.created_at),
            "url": None,  # set below, from the idea's address
        }
        if not open_data:
            row |= {
                "author": display_name(c.author),
                "hidden": c.is_hidden,
                "hidden_reason": c.hidden_reason,
                "reports": comment_reports.get(c.pk, 0),
            }
        by_idea[c.idea_id].append(row)
    records = []
    for idea in ideas.order_by("-created_at", "-id"):
        url = absolute(idea.get_absolute_url())
        idea_comments = by_idea.get(idea.pk, [])
        for row in idea_comments:
            row["url"] = f"{url}#comment-{row['id']}"
        row = {
            "type": "idea",
            "id": idea.pk,
            "idea_id": None,
            "parent_id": None,
            "title": idea.title,
            "text": idea.body,
            "category": idea.category.name if idea.category_id else "",
            "status": idea.status,
            "status_reason": idea.status_reason,
            "measure": idea.measure.slug if idea.measure_id else "",
            "lon": idea.lon,
            "lat": idea.lat,
            "place": idea.location_text,
            "supports": idea.support_count,
            "comments": len(idea_comments),
            "created": _iso(idea.created_at),
            "url": url,
        }
        if not open_data:
            row |= {
                "author": display_name(idea.author),
                "hidden": idea.is_hidden,
                "hidden_reason": idea.hidden_reason,
                "reports": idea_reports.get(idea.pk, 0),
            }
        row["comments_list"] = idea_comments
        records.append(row)
    return records


def metadata(process: Process, *, open_data: bool, absolute: Callable[[str], str]) -> dict:
    city = process.city
    meta: dict[str, Any] = {
        "title": process.title,
        "process": process.slug,
        "url": absolute(process.get_absolute_url()),
        "publisher": city.official_name or city.name,
        "generated": _iso(timezone.now()),
        "flavour": "open-data" if open_data else "internal",
    }
    if open_data:
        meta["licence"] = LICENCE
        meta["attribution"] = f"{meta['publisher']}, herzstadt ({LICENCE['id']})"
    else:
        meta["note"] = "Internal export with personal data (display names). Not for publication."
    return meta


def to_csv(records: list[dict], *, open_data: bool) -> bytes:
    columns = COLUMNS if open_data else COLUMNS + INTERNAL_COLUMNS
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=",", lineterminator="\r\n")
    writer.writerow(columns)
    for idea in records:
        for row in (idea, *idea["comments_list"]):
            writer.writerow([csv_safe(row.get(c)) for c in columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _public(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "comments_list"}


def to_json(records: list[dict], meta: dict) -> bytes:
    data = {
        "metadata": meta,
        "ideas": [
            {
                **{
                    k: v for k, v in _public(r).items() if k not in ("type", "idea_id", "parent_id")
                },
                "comments": [
                    {
                        k: v
                        for k, v in c.items()
                        if k in ("id", "parent_id", "text", "created", "url", *INTERNAL_COLUMNS)
                    }
                    for c in r["comments_list"]
                ],
                "comment_count": r["comments"],
            }
            for r in records
        ],
    }
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode("utf-8")


def to_geojson(records: list[dict], meta: dict) -> bytes:
    features = []
    for r in records:
        has_point = r["lon"] is not None and r["lat"] is not None
        properties = {
            k: v
            for k, v in _public(r).items()
            if k not in ("type", "idea_id", "parent_id", "lon", "lat", "id")
        }
        features.append(
            {
                "type": "Feature",
                "id": r["id"],
                "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]}
                if has_point
                else None,
                "properties": properties,
            }
        )
    data = {"type": "FeatureCollection", "metadata": meta, "features": features}
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode("utf-8")


def export_response(
    process: Process, fmt: str, *, open_data: bool, absolute: Callable[[str], str]
) -> HttpResponse:
    """The download of ``process`` in ``fmt`` (csv, json or geojson) as an attachment."""
    records = collect(process, open_data=open_data, absolute=absolute)
    meta = metadata(process, open_data=open_data, absolute=absolute)
    if fmt == "csv":
        body = to_csv(records, open_data=open_data)
    elif fmt == "json":
        body = to_json(records, meta)
    else:
        body = to_geojson(records, meta)
    suffix = "open-data" if open_data else "contributions-internal"
    response = HttpResponse(body, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{process.slug}-{suffix}.{fmt}"'
    response["X-Content-Type-Options"] = "nosniff"
    if open_data:
        response["Access-Control-Allow-Origin"] = "*"
    else:
        response["Cache-Control"] = "private, no-store"
    return response
