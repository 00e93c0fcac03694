"""The public catalogue "Wissen": the list with filters and search, a measure's profile page and a
partner measure's page (from the local copy of the partner's record)."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from herzstadt.core import permissions, registry
from herzstadt.core.models import City, Measure
from herzstadt.knowledge import search
from herzstadt.knowledge.forms import CatalogueFilterForm
from herzstadt.knowledge.models import (
    MaturityPhase,
    MeasureProfile,
    PartnerMeasure,
    Reuse,
    SyncStatus,
)

logger = logging.getLogger(__name__)

PAGE_SIZE = 20
#: The DCAT part's <link rel="alternate"> for a measure's RDF (included when that part is installed).
DCAT_ALTERNATE = "knowledge/dcat/_alternate.html"


def _has_template(name: str) -> bool:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


def _city(request: HttpRequest) -> City:
    city = request.city  # type: ignore[attr-defined]
    if not city:
        raise Http404(_("No city has been set up yet."))
    return getattr(city, "_wrapped", city)


@require_safe
def catalogue(request: HttpRequest) -> HttpResponse:
    city = _city(request)
    entries = search.catalogue(city)
    form = CatalogueFilterForm(city, entries, request.GET or None)
    query = ""
    if form.is_valid():
        query = form.cleaned_data.get("q") or ""
        entries = search.search(form.filter(entries), query)
    elif form.is_bound:
        entries = entries.none()
    page = Paginator(entries.select_related("partner", "profile__measure"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "form": form,
        "page": page,
        "total": page.paginator.count,
        "query": query,
    }
    return render(request, "knowledge/catalogue.html", context)


def open_data_links(city: City, type_names: list[str]) -> dict[str, str]:
    """``{type name: address}`` of the city's open data for the data models a profile names: a
    published dataset (any pillar's, through the registry) that has the type name among its
    keywords and an NGSI-LD distribution. Nothing when the data cannot be asked for now."""
    if not type_names:
        return {}
    wanted = set(type_names)
    links: dict[str, str] = {}
    try:
        found = registry.datasets(city)
    except Exception:  # the broker unreachable or the like: the page shows the names without links
        logger.warning(
            "open data of %s not available for the profile page", city.slug, exc_info=True
        )
        return {}
    for dataset in found:
        names = wanted.intersection(dataset.keywords) - set(links)
        ngsi = next((d for d in dataset.distributions if d.format == "NGSI-LD"), None)
        if names and ngsi is not None:
            for name in names:
                links[name] = ngsi.url
    return links


def reuse_chain(profile: MeasureProfile | None, reuses: list[Reuse]) -> bool:
    """Whether there is a graph to draw: an origin or adopters."""
    return bool((profile and (profile.origin_uri or profile.origin_city)) or reuses)


@require_safe
def profile(request: HttpRequest, slug: str) -> HttpResponse:
    city = _city(request)
    measure = get_object_or_404(
        Measure.objects.select_related("field_of_action", "district", "office"),
        city=city,
        slug=slug,
        is_public=True,
    )
    prof = MeasureProfile.objects.filter(measure=measure).first()
    may_manage = request.user.is_authenticated and permissions.allowed(
        request.user, "knowledge.manage", city
    )
    if prof is None or not (prof.shared or may_manage):
        raise Http404(_("This measure has no shared profile."))
    reuses = list(Reuse.objects.filter(measure=measure).order_by("adopted_at", "pk"))
    context = {
        "measure": measure,
        "profile": prof,
        "reuses": reuses,
        "milestones": measure.milestones.all(),
        "may_manage": may_manage,
        "graph": reuse_chain(prof, reuses),
        "profile_view": own_record(prof, measure),
        "dcat_alternate": _has_template(DCAT_ALTERNATE),
        "open_data": open_data_links(city, _strs(prof.entity_types)),
    }
    return render(request, "knowledge/profile.html", context)


# --- a partner's record, read defensively -----------------------------------------------------------
def _str(value: Any, limit: int = 5000) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _strs(value: Any, limit: int = 100) -> list[str]:
    if not isinstance(value, list):
        return []
    return [s for s in (_str(v, 1000) for v in value[:limit]) if s]


def _http(value: Any) -> str:
    """An http(s) address, or "" (never ``javascript:`` and the like)."""
    url = _str(value, 500)
    return url if url.lower().startswith(("http://", "https://")) else ""


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() and abs(number) < Decimal("1e15") else None


def _when(value: Any) -> dt.datetime | dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value) or parse_date(value)
    except ValueError:
        return None


def _dicts(value: Any, limit: int = 100) -> list[dict[str, Any]]:
    return [v for v in value[:limit] if isinstance(v, dict)] if isinstance(value, list) else []


def _datasets(value: Any) -> list[dict[str, str]]:
    return [
        {"title": _str(d.get("title"), 200), "url": _http(d.get("url"))}
        for d in _dicts(value)
        if _str(d.get("title"), 200)
    ]


def _software(value: Any) -> list[dict[str, str]]:
    return [
        {
            "name": _str(s.get("name"), 200),
            "url": _http(s.get("url")),
            "publiccode_url": _http(s.get("publiccode_url")),
            "licence": _str(s.get("licence"), 80),
        }
        for s in _dicts(value)
        if _str(s.get("name"), 200)
    ]


def partner_record(pm: PartnerMeasure) -> dict[str, Any]:
    """The fields of a partner's record (``pm.data``) that the page shows, each checked for its
    type; whatever is missing or odd is left out. Text is escaped by the template."""
    data = pm.data if isinstance(pm.data, dict) else {}
    city = data.get("city") if isinstance(data.get("city"), dict) else {}
    provenance = data.get("provenance") if isinstance(data.get("provenance"), dict) else {}
    phase = data.get("phase") if data.get("phase") in MaturityPhase.values else pm.phase
    return {
        "title": pm.title,
        "summary": pm.summary or _str(data.get("summary")),
        "description": _str(data.get("description"), 20000),
        "goals": _strs(data.get("goals")),
        "status": _str(data.get("status"), 50) or pm.status,
        "field_of_action": pm.field_of_action or _str(data.get("field_of_action"), 200),
        "phase": MaturityPhase(phase).label if phase in MaturityPhase.values else "",
        "city": _str(city.get("name"), 200) or pm.partner.name,
        "problem": _str(data.get("problem")),
        "target_groups": _str(data.get("target_groups")),
        "steps": _strs(data.get("implementation_steps")),
        "entity_types": _strs(pm.entity_types) or _strs(data.get("entity_types")),
        "datasets": _datasets(data.get("datasets")),
        "software": _software(data.get("software")),
        "operator_model": _str(data.get("operator_model")),
        "cost_investment_eur": _number(data.get("cost_investment_eur")),
        "cost_operation_eur": _number(data.get("cost_operation_eur")),
        "budget_eur": _number(data.get("budget_eur")),
        "funding": _str(data.get("funding"), 300),
        "obstacles": _str(data.get("obstacles")),
        "success_factors": _str(data.get("success_factors")),
        "results": _str(data.get("results")),
        "lessons_learned": _str(data.get("lessons_learned")),
        "milestones": [
            {
                "date": _when(m.get("date")),
                "title": _str(m.get("title"), 200),
                "done": bool(m.get("done") is True),
            }
            for m in _dicts(data.get("milestones"))
            if _str(m.get("title"), 200)
        ],
        "contact_name": _str(data.get("contact_name"), 200),
        "contact_email": _str(data.get("contact_email"), 254)
        if "@" in _str(data.get("contact_email"), 254)
        else "",
        "url": _http(pm.url) or _http(data.get("url")),
        "version": pm.version,
        "modified": pm.modified,
        "origin": {
            "uri": _http(provenance.get("origin_uri")),
            "city": _str(provenance.get("origin_city"), 200),
            "title": _str(provenance.get("origin_title"), 200),
            "version": _number(provenance.get("origin_version")),
        },
        "reuses": [
            {
                "name": _str(r.get("adopter_name"), 200),
                "title": _str(r.get("adopted_title"), 200),
                "url": _http(r.get("adopted_measure_url")),
            }
            for r in _dicts(data.get("reuses"))
            if _str(r.get("adopter_name"), 200)
        ],
    }


def own_record(prof: MeasureProfile, measure: Measure) -> dict[str, Any]:
    """A profile in the shape the page's sections read (the JSON lists checked like a partner's),
    its texts in the reader's language where the profile has a translation."""
    tr = prof.tr
    return {
        "problem": tr.problem,
        "target_groups": tr.target_groups,
        "steps": _strs(tr.implementation_steps),
        "entity_types": _strs(prof.entity_types),
        "datasets": _datasets(prof.datasets),
        "software": _software(prof.software),
        "operator_model": tr.operator_model,
        "cost_investment_eur": prof.cost_investment_eur,
        "cost_operation_eur": prof.cost_operation_eur,
        "budget_eur": measure.budget_eur,
        "funding": measure.funding,
        "obstacles": tr.obstacles,
        "success_factors": tr.success_factors,
        "results": measure.tr.results,
        "lessons_learned": measure.tr.lessons_learned,
        "contact_name": prof.contact_name,
        "contact_email": prof.contact_email,
    }


@require_safe
def partner_measure(request: HttpRequest, pk: int) -> HttpResponse:
    city = _city(request)
    pm = get_object_or_404(
        PartnerMeasure.objects.select_related("partner"), city=city, pk=pk, partner__enabled=True
    )
    partner = pm.partner
    context = {
        "pm": pm,
        "partner": partner,
        "record": partner_record(pm),
        "stale": partner.status == SyncStatus.ERROR,
        "may_manage": request.user.is_authenticated
        and permissions.allowed(request.user, "knowledge.manage", city),
    }
    return render(request, "knowledge/partner_measure.html", context)
