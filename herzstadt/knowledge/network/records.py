"""The network record of a measure: what the network API serves and a follower stores
(``PartnerMeasure.data``). Its fields are documented in docs/network.md ("v1 only grows")."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from herzstadt.core import registry
from herzstadt.core.models import City, CityRole, Measure

log = logging.getLogger(__name__)

API_VERSION = "1"

#: the MeasureProfile fields every record carries (under the same names)
PROFILE_FIELDS = (
    "phase",
    "problem",
    "target_groups",
    "implementation_steps",
    "entity_types",
    "datasets",
    "software",
    "operator_model",
    "cost_investment_eur",
    "cost_operation_eur",
    "obstacles",
    "success_factors",
    "contact_name",
    "contact_email",
)


def hosted_cities() -> QuerySet[City]:
    return City.objects.filter(role=CityRole.HOSTED).order_by("slug")


def shared_measures(city: City) -> QuerySet[Measure]:
    """The measures ``city`` offers to the network: public, with a shared profile."""
    return (
        Measure.objects.filter(city=city, is_public=True, profile__shared=True)
        .select_related("field_of_action", "profile", "city")
        .prefetch_related("milestones", "reuses")
        .order_by("slug")
    )


def city_base(request: HttpRequest, city: City) -> str:
    """Where ``city``'s pages live: its own domain (same scheme and port as the request), else the
    address the request came to."""
    if city.domain:
        port = request.get_port()
        default = "443" if request.is_secure() else "80"
        return f"{request.scheme}://{city.domain}" + ("" if port == default else f":{port}")
    return f"{request.scheme}://{request.get_host()}"


def api_url(request: HttpRequest, name: str, **kwargs: str) -> str:
    return request.build_absolute_uri(reverse(f"api:{name}", kwargs=kwargs))


def city_info(request: HttpRequest, city: City) -> dict[str, Any]:
    return {
        "slug": city.slug,
        "name": city.name,
        "ags": city.ags,
        "state": city.state,
        "website": city.website,
    }


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    return value


def measure_modified(measure: Measure) -> dt.datetime:
    """When anything the record shows last changed (the measure, its profile, its reuses)."""
    stamps = [measure.updated_at]
    profile = getattr(measure, "profile", None)
    if profile is not None:
        stamps.append(profile.updated_at)
    stamps += [r.reported_at for r in measure.reuses.all()]
    return max(s for s in stamps if s is not None)


def page_url(request: HttpRequest, measure: Measure) -> str:
    try:
        path = reverse("knowledge:profile", kwargs={"slug": measure.slug})
    except NoReverseMatch:
        path = measure.get_absolute_url()
    return city_base(request, measure.city) + path


def export_parts(measure: Measure) -> dict[str, Any]:
    """``{part.key: part.export(measure)}`` for every registered part that has something."""
    parts: dict[str, Any] = {}
    for part in registry.transfer_parts():
        try:
            data = part.export(measure)
        except Exception:  # one pillar's broken export must not take the whole API down
            log.exception("transfer part %s failed to export measure %s", part.key, measure.pk)
            continue
        if data is not None:
            parts[part.key] = data
    return parts


def record(request: HttpRequest, measure: Measure) -> dict[str, Any]:
    """The network record of one shared measure (see docs/network.md)."""
    profile = measure.profile
    city = measure.city
    data: dict[str, Any] = {
        "id": api_url(request, "network-measure", city=city.slug, measure=measure.slug),
        "url": page_url(request, measure),
        "apiVersion": API_VERSION,
        "slug": measure.slug,
        "version": profile.version,
        "modified": _iso(measure_modified(measure)),
        "city": {"slug": city.slug, "name": city.name, "ags": city.ags},
        "title": measure.title,
        "summary": measure.summary,
        "description": measure.description,
        "goals": list(measure.goals or []),
        "status": measure.status,
        "field_of_action": measure.field_of_action.name,
        "start_date": _iso(measure.start_date),
        "end_date": _iso(measure.end_date),
        "results": measure.results,
        "lessons_learned": measure.lessons_learned,
        "funding": measure.funding,
        "budget_eur": _json(measure.budget_eur),
        "milestones": [
            {"date": _iso(m.date), "title": m.title, "done": m.done}
            for m in measure.milestones.all()
        ],
    }
    for name in PROFILE_FIELDS:
        data[name] = _json(getattr(profile, name))
    data["provenance"] = (
        {
            "origin_uri": profile.origin_uri,
            "origin_city": profile.origin_city,
            "origin_title": profile.origin_title,
            "origin_version": profile.origin_version,
            "adopted_at": _iso(profile.adopted_at),
            "adopted_parts": list(profile.adopted_parts or []),
        }
        if profile.origin_uri
        else None
    )
    data["reuses"] = [
        {
            "city": r.adopter_name,
            "installation": r.adopter_uri,
            "measure_url": r.adopted_measure_url,
            "title": r.adopted_title,
            "origin_version": r.origin_version,
            "adopted_at": _iso(r.adopted_at),
        }
        for r in measure.reuses.all()
    ]
    data["reuses_url"] = api_url(request, "network-reuses", city=city.slug, measure=measure.slug)
    data["parts"] = export_parts(measure)
    return data


def now_iso() -> str:
    return _iso(timezone.now()) or ""
