"""A published entity type's current entities as a CSV download (open data, for the DCAT-AP.de
catalogue): one row per entity, one column per attribute (short names, key-values), ``longitude`` and
``latitude`` for a point location. Only the types the city publishes as open data (its verifier's
public types; personal types never are); no credentials, like the NGSI-LD API for those types."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from herzstadt.core.ttlcache import TTLCache
from herzstadt.ngsi.auth import system_principal
from herzstadt.ngsi.errors import NgsiError
from herzstadt.ngsi.params import EntityQuery, Paging, QueryParams, RetrieveOptions
from herzstadt.ngsi.service import Req, query_entities
from herzstadt.urbandata.api import problem
from herzstadt.urbandata.broker import get_broker
from herzstadt.urbandata.datasets import entity_types
from herzstadt.urbandata.measured import _short

#: entities per broker query, and at most in one file
PAGE = 500
MAX_ROWS = 10_000
#: per worker: (city, type) → (ETag, body); 30 s
csv_cache = TTLCache(ttl=30.0, max_entries=128)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str | int | float | bool):
        return str(value).lower() if isinstance(value, bool) else str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _entities(tenant: str, iri: str) -> list[dict[str, Any]]:
    broker = get_broker()
    req = Req(
        principal=system_principal(tenant, "open-data-csv"),
        tenant=tenant,
        ctx=broker.resolver.get(None),
    )
    found: list[dict[str, Any]] = []
    while len(found) < MAX_ROWS:
        params = QueryParams(
            query=EntityQuery(type=iri),
            paging=Paging(limit=PAGE, offset=len(found)),
            render=RetrieveOptions(options=frozenset({"keyValues"})),
            order_by=None,
        )
        body = query_entities(broker, req, params).body
        if isinstance(body, bytes | str):  # the store may hand over the rendered JSON …
            body = json.loads(body)
        # … or each entity's (Kind.FRAGMENTS)
        items = [json.loads(e) if isinstance(e, bytes | str) else e for e in body]
        found.extend(e for e in items if isinstance(e, dict))
        if len(items) < PAGE:
            break
    return found[:MAX_ROWS]


def type_csv_body(tenant: str, iri: str) -> tuple[str, bytes]:
    rows: list[dict[str, str]] = []
    columns: dict[str, None] = {"id": None, "type": None, "longitude": None, "latitude": None}
    for entity in sorted(_entities(tenant, iri), key=lambda e: str(e.get("id"))):
        row = {"id": str(entity.get("id", "")), "type": _short(str(entity.get("type", "")))}
        for key, value in entity.items():
            if key in ("id", "type", "@context"):
                continue
            name = _short(key)
            if name == "location" and isinstance(value, dict) and value.get("type") == "Point":
                coordinates = value.get("coordinates") or []
                if len(coordinates) >= 2:
                    row["longitude"], row["latitude"] = str(coordinates[0]), str(coordinates[1])
                    continue
            columns.setdefault(name, None)
            row[name] = _cell(value)
        rows.append(row)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    body = out.getvalue().encode("utf-8")
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"', body


@require_safe
def type_csv(request: HttpRequest) -> HttpResponse:
    """``/api/v1/open-data/entities.csv?type=<expanded type>``."""
    city = getattr(request, "city", None)
    if not city:
        raise Http404(_("No city has been set up yet."))
    iri = request.GET.get("type", "")
    missing = problem(404, "Not found", "This city publishes no open data of that type.")
    if not iri or iri not in entity_types(city):
        return missing
    try:
        etag, body = csv_cache.get_or_set(
            (city.pk, iri), lambda: type_csv_body(city.ngsi_tenant, iri)
        )
    except NgsiError:
        return missing
    wanted = request.headers.get("If-None-Match", "")
    if etag in {t.strip().removeprefix("W/") for t in wanted.split(",")}:
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{_short(iri)}.csv"'
    response["ETag"] = etag
    response["Cache-Control"] = "public, max-age=30"
    response["Access-Control-Allow-Origin"] = "*"
    return response
