"""The network API under ``/api/v1/network/`` (namespace ``api``), documented in docs/network.md.

Reading is public: a city publishes the shared profiles of its public measures. Reporting a
replication (``POST …/reuses/``) needs a key the city issued to the partner (``PartnerKey``), sent
as ``Authorization: Bearer hzn_…``. Errors are RFC 7807 ProblemDetails. No cookies, so no CSRF.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any
from urllib.parse import urlencode

import orjson
from django.db import IntegrityError, transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import http_date, parse_http_date_safe, quote_etag
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from herzstadt.core.models import City, Measure, Milestone
from herzstadt.core.ttlcache import TTLCache
from herzstadt.knowledge.models import MeasureProfile, PartnerKey, Reuse
from herzstadt.knowledge.network import keys, records

PROBLEM = "https://herzstadt.org/problems/"
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_BODY = 16 * 1024


def problem(status: int, title: str, detail: str = "") -> HttpResponse:
    body: dict[str, Any] = {
        "type": PROBLEM + title.lower().replace(" ", "-"),
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    return HttpResponse(orjson.dumps(body), status=status, content_type="application/problem+json")


def _cors(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Expose-Headers"] = "ETag, Last-Modified"
    return response


def _conditional(
    request: HttpRequest, body: bytes, modified: dt.datetime | None, seed: bytes = b""
) -> HttpResponse:
    """200 with ETag/Last-Modified, or 304 when the client's copy is current (RFC 9110: with
    If-None-Match, If-Modified-Since is ignored)."""
    etag = quote_etag(hashlib.sha256(seed + body).hexdigest()[:32])
    last_modified = http_date(modified.timestamp()) if modified else None
    inm = request.headers.get("If-None-Match")
    ims = request.headers.get("If-Modified-Since")
    not_modified = False
    if inm is not None:
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        not_modified = "*" in tags or etag in tags
    elif ims and modified is not None:
        since = parse_http_date_safe(ims)
        not_modified = since is not None and int(modified.timestamp()) <= since
    response = (
        HttpResponse(status=304)
        if not_modified
        else HttpResponse(body, content_type="application/json")
    )
    response["ETag"] = etag
    if last_modified:
        response["Last-Modified"] = last_modified
    response["Cache-Control"] = "public, max-age=60"
    response["Vary"] = "Host"
    return _cors(response)


#: (city id, this site's address as the request names it) → (the serialised records of the city's
#: shared measures, a digest over all of them, the latest modification). Building a record costs a
#: few queries (its parts come from other pillars), so a catalogue page would cost queries in
#: proportion to the whole catalogue; each worker builds it once per ``CATALOGUE_TTL`` seconds (the
#: answers say ``max-age=60`` anyway) or when a measure, profile, milestone or reuse changes.
CATALOGUE_TTL = 60
catalogue_cache = TTLCache(ttl=CATALOGUE_TTL, max_entries=64)


def _changed(**kwargs: Any) -> None:
    catalogue_cache.clear()


for _model in (Measure, MeasureProfile, Milestone, Reuse):
    _name = _model.__name__.lower()
    post_save.connect(_changed, sender=_model, dispatch_uid=f"herzstadt-network-{_name}-save")
    post_delete.connect(_changed, sender=_model, dispatch_uid=f"herzstadt-network-{_name}-delete")


def _catalogue(request: HttpRequest, city: City) -> tuple[list[bytes], bytes, dt.datetime | None]:
    """The validators cover the whole catalogue (every record, not only a page's), so that an
    unchanged first page (the harvester's conditional request) means an unchanged catalogue."""

    def build() -> tuple[list[bytes], bytes, dt.datetime | None]:
        digest = hashlib.sha256()
        modified = None
        built = []
        for m in records.shared_measures(city):
            stamp = records.measure_modified(m)
            modified = stamp if modified is None or stamp > modified else modified
            rec = orjson.dumps(records.record(request, m))
            digest.update(rec)
            built.append(rec)
        return built, digest.digest(), modified

    return catalogue_cache.get_or_set((city.pk, records.city_base(request, city)), build)


def _city(slug: str) -> City | None:
    return records.hosted_cities().filter(slug=slug).first()


def _measure(city: City, slug: str) -> Measure | None:
    return records.shared_measures(city).filter(slug=slug).first()


def _positive(value: str | None, default: int) -> int | None:
    if value is None or value == "":
        return default
    if not value.isdigit() or int(value) < 1:
        return None
    return int(value)


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """The installation's hosted cities and where their catalogues are."""
    cities = []
    current = getattr(request, "city", None)
    current_pk = getattr(current, "pk", None) if current else None
    for city in records.hosted_cities():
        # the site (and its DCAT catalogue) of a city is served by host name: at its own domain,
        # or at this address when it is the city this address shows
        at_home = bool(city.domain) or city.pk == current_pk
        base = records.city_base(request, city)
        cities.append(
            {
                **records.city_info(request, city),
                "measures": records.api_url(request, "network-measures", city=city.slug),
                "dcat": base + "/dcat/catalog.jsonld" if at_home else None,
                "home": base + "/" if at_home else None,
            }
        )
    body = orjson.dumps({"apiVersion": records.API_VERSION, "cities": cities})
    return _conditional(request, body, None)


@require_safe
def measures(request: HttpRequest, city: str) -> HttpResponse:
    """One page of a city's shared measures; ``next``/``prev`` link the pages."""
    found = _city(city)
    if found is None:
        return problem(404, "Not found", f"No city {city!r} is hosted here.")
    page = _positive(request.GET.get("page"), 1)
    limit = _positive(request.GET.get("limit"), DEFAULT_LIMIT)
    if page is None or limit is None:
        return problem(400, "Bad request", "page and limit are positive whole numbers.")
    limit = min(limit, MAX_LIMIT)
    built, digest, modified = _catalogue(request, found)
    total = len(built)
    base = records.api_url(request, "network-measures", city=found.slug)

    def link(n: int) -> str:
        return f"{base}?{urlencode({'page': n, 'limit': limit})}"

    items = [orjson.Fragment(rec) for rec in built[(page - 1) * limit : page * limit]]
    body = orjson.dumps(
        {
            "apiVersion": records.API_VERSION,
            "city": records.city_info(request, found),
            "page": page,
            "limit": limit,
            "total": total,
            "next": link(page + 1) if page * limit < total else None,
            "prev": link(page - 1) if page > 1 else None,
            "items": items,
        }
    )
    return _conditional(request, body, modified, digest)


@require_safe
def measure(request: HttpRequest, city: str, measure: str) -> HttpResponse:
    found = _city(city)
    if found is None:
        return problem(404, "Not found", f"No city {city!r} is hosted here.")
    m = _measure(found, measure)
    if m is None:
        return problem(404, "Not found", f"{found.name} shares no measure {measure!r}.")
    body = orjson.dumps(records.record(request, m))
    return _conditional(request, body, records.measure_modified(m))


def _http_url(value: Any, field: str, *, required: bool) -> str:
    if value in (None, "") and not required:
        return ""
    if not isinstance(value, str) or len(value) > 500:
        raise ValueError(f"{field} must be an address (at most 500 characters).")
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator

    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        raise ValueError(f"{field} must be an http(s) address.") from None
    if "@" in value.split("//", 1)[-1].split("/", 1)[0]:
        raise ValueError(f"{field} must not contain credentials.")
    return value


def _text(value: Any, field: str, limit: int, *, required: bool) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise ValueError(f"{field} must be a text of at most {limit} characters.")
    return value.strip()


def parse_reuse(data: Any) -> dict[str, Any]:
    """The fields of a report, validated (ValueError with a plain message otherwise)."""
    if not isinstance(data, dict):
        raise ValueError("The body must be a JSON object.")
    version = data.get("origin_version")
    if version is not None and (
        not isinstance(version, int) or isinstance(version, bool) or version < 0
    ):
        raise ValueError("origin_version must be a whole number.")
    adopted_at = data.get("adopted_at")
    when = None
    if adopted_at is not None:
        if not isinstance(adopted_at, str):
            raise ValueError("adopted_at must be an ISO 8601 date-time.")
        try:
            when = dt.datetime.fromisoformat(adopted_at.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("adopted_at must be an ISO 8601 date-time.") from None
        if timezone.is_naive(when):
            when = timezone.make_aware(when, dt.UTC)
    return {
        "adopter_name": _text(data.get("city"), "city", 200, required=True),
        "adopter_uri": _http_url(data.get("installation"), "installation", required=False),
        "adopted_measure_url": _http_url(data.get("measure_url"), "measure_url", required=True),
        "adopted_title": _text(data.get("title"), "title", 200, required=False),
        "origin_version": version,
        "adopted_at": when,
    }


@csrf_exempt
@require_http_methods(["POST"])
def reuses(request: HttpRequest, city: str, measure: str) -> HttpResponse:
    """A partner reports that it replicated this measure (idempotent per adopted measure)."""
    found = _city(city)
    if found is None:
        return problem(404, "Not found", f"No city {city!r} is hosted here.")
    scheme, _sp, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        response = problem(
            401, "Unauthorized", "Send the key the city issued to you as a bearer token."
        )
        response["WWW-Authenticate"] = 'Bearer realm="herzstadt-network"'
        return response
    key: PartnerKey | None = keys.check(token.strip())
    if key is None:
        response = problem(401, "Unauthorized", "The key is unknown or revoked.")
        response["WWW-Authenticate"] = 'Bearer realm="herzstadt-network", error="invalid_token"'
        return response
    if key.city_id != found.pk:
        return problem(403, "Forbidden", f"The key was not issued by {found.name}.")
    m = _measure(found, measure)
    if m is None:
        return problem(404, "Not found", f"{found.name} shares no measure {measure!r}.")
    if request.content_type != "application/json":
        return problem(415, "Unsupported media type", "Send application/json.")
    if len(request.body) > MAX_BODY:
        return problem(413, "Payload too large", f"At most {MAX_BODY} bytes.")
    try:
        fields = parse_reuse(orjson.loads(request.body))
    except orjson.JSONDecodeError:
        return problem(400, "Bad request", "The body is not JSON.")
    except ValueError as e:
        return problem(400, "Bad request", str(e))
    url = fields.pop("adopted_measure_url")
    try:
        with transaction.atomic():
            reuse, created = Reuse.objects.update_or_create(
                measure=m, adopted_measure_url=url, defaults=fields
            )
    except IntegrityError:  # a concurrent report of the same adoption won the race
        reuse, created = Reuse.objects.get(measure=m, adopted_measure_url=url), False
    keys.touch(key)
    body = {
        "measure": records.api_url(request, "network-measure", city=found.slug, measure=m.slug),
        "measure_url": reuse.adopted_measure_url,
        "city": reuse.adopter_name,
        "created": created,
    }
    response = HttpResponse(
        orjson.dumps(body), status=201 if created else 200, content_type="application/json"
    )
    return response
