"""/dcat/catalog and /dcat/measures[/<slug>]: RDF in Turtle, RDF/XML or JSON-LD, by suffix or by
content negotiation (``Accept``; Turtle when the client accepts anything), with an ETag
(``If-None-Match`` → 304) and a short cache per worker (the catalogue reads every pillar's datasets,
the urban data's from the NGSI-LD store)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from herzstadt.core import registry
from herzstadt.core.ttlcache import TTLCache
from herzstadt.knowledge.dcat import graph as rdf
from herzstadt.knowledge.dcat import measures as measure_links

#: media type → (rdflib format, file suffix)
FORMATS = {
    "text/turtle": ("turtle", "ttl"),
    "application/rdf+xml": ("pretty-xml", "rdf"),
    "application/ld+json": ("json-ld", "jsonld"),
}
SUFFIXES = {suffix: media for media, (_fmt, suffix) in FORMATS.items()}
DEFAULT = "text/turtle"
#: seconds a serialised catalogue is kept per worker (and may be cached by clients)
MAX_AGE = 60

#: (kind, city id, base, slug, media type) → (ETag, body)
rdf_cache = TTLCache(ttl=MAX_AGE, max_entries=128)


def _changed(**kwargs) -> None:
    rdf_cache.clear()


def _connect() -> None:
    from herzstadt.core.models import Measure
    from herzstadt.knowledge.models import MeasureProfile, Reuse

    for model in (Measure, MeasureProfile, Reuse):
        name = model.__name__.lower()
        receiver(post_save, sender=model, dispatch_uid=f"herzstadt-dcat-{name}-save")(_changed)
        receiver(post_delete, sender=model, dispatch_uid=f"herzstadt-dcat-{name}-delete")(_changed)


_connect()


HTML = "text/html"


def wants_html(accept: str) -> bool:
    """A browser: ``text/html`` named explicitly and preferred to every RDF format (a harvester that
    accepts anything, ``*/*``, gets Turtle)."""
    best_rdf = 0.0
    html = 0.0
    for item in accept.split(","):
        parts = [p.strip() for p in item.split(";")]
        media = parts[0].lower()
        q = 1.0
        for param in parts[1:]:
            key, _sep, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media == HTML:
            html = max(html, q)
        elif media in FORMATS:
            best_rdf = max(best_rdf, q)
    return html > 0 and html > best_rdf


def negotiate(accept: str) -> str | None:
    """The RDF media type the ``Accept`` header prefers (``None``: it accepts none of them).

    Each format gets the quality of the most specific range that matches it (RFC 9110: the exact
    type before ``type/*`` before ``*/*``); the highest quality wins, among equals the order of
    ``FORMATS`` (Turtle first). No header: Turtle."""
    if not accept.strip():
        return DEFAULT
    ranges: dict[str, float] = {}
    for item in accept.split(","):
        parts = [p.strip() for p in item.split(";")]
        media = parts[0].lower()
        if not media:
            continue
        q = 1.0
        for param in parts[1:]:
            key, _sep, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges[media] = max(q, ranges.get(media, 0.0)) if media in ranges else q
    best: tuple[float, str] | None = None
    for media in FORMATS:
        kind = media.split("/")[0]
        for candidate in (media, f"{kind}/*", "*/*"):
            if candidate in ranges:
                q = ranges[candidate]
                if q > 0 and (best is None or q > best[0]):
                    best = (q, media)
                break
    return best[1] if best else None


def _etags(header: str) -> set[str]:
    return {t.strip().removeprefix("W/") for t in header.split(",") if t.strip()}


def _base(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _city(request: Any) -> Any:
    if not request.city:
        raise Http404(_("No city has been set up yet."))
    return request.city


def _respond(request: HttpRequest, media: str | None, key: tuple, build, filename: str):
    if media is None:
        response = HttpResponse(
            _("Not acceptable: ask for text/turtle, application/rdf+xml or application/ld+json."),
            status=406,
            content_type="text/plain; charset=utf-8",
        )
        patch_vary_headers(response, ("Accept",))
        return response

    def render() -> tuple[str, bytes]:
        body = build().serialize(format=FORMATS[media][0], encoding="utf-8")
        return f'"{hashlib.sha256(body).hexdigest()[:32]}"', body

    etag, body = rdf_cache.get_or_set((*key, media), render)
    if etag in _etags(request.headers.get("If-None-Match", "")):
        response = HttpResponseNotModified()
    else:
        charset = "" if media == "application/ld+json" else "; charset=utf-8"
        response = HttpResponse(body, content_type=media + charset)
        response["Content-Disposition"] = f'inline; filename="{filename}.{FORMATS[media][1]}"'
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={MAX_AGE}"
    patch_vary_headers(response, ("Accept",))
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _media(request: HttpRequest, suffix: str) -> str | None:
    if suffix:
        return SUFFIXES[suffix]
    return negotiate(request.headers.get("Accept", ""))


@require_safe
def catalog(request: HttpRequest, suffix: str = "") -> HttpResponse:
    """The city's DCAT-AP.de catalogue (a browser gets a short page linking its formats)."""
    city = _city(request)
    base = _base(request)
    if not suffix and wants_html(request.headers.get("Accept", "")):
        with translation.override("de"):
            catalog_url = reverse("knowledge:dcat-catalog")
        response = render(
            request,
            "knowledge/dcat/catalog.html",
            {"city": city, "catalog_url": catalog_url, "datasets": registry.datasets(city)},
        )
        patch_vary_headers(response, ("Accept",))
        return response
    return _respond(
        request,
        _media(request, suffix),
        ("catalog", city.pk, base, ""),
        lambda: rdf.catalogue_graph(city, base),
        f"{city.slug}-catalog",
    )


@require_safe
def measures(request: HttpRequest, suffix: str = "") -> HttpResponse:
    """Every measure the city shares, with provenance and reuses."""
    city = _city(request)
    base = _base(request)
    return _respond(
        request,
        _media(request, suffix),
        ("measures", city.pk, base, ""),
        lambda: rdf.measures_graph(city, base),
        f"{city.slug}-measures",
    )


@require_safe
def measure(request: HttpRequest, slug: str, suffix: str = "") -> HttpResponse:
    """One shared measure with its provenance (PROV) and the cities that took it over."""
    city = _city(request)
    found = measure_links.shared_measure(city, slug)
    if found is None:
        raise Http404(_("No such measure."))
    base = _base(request)
    if not suffix and wants_html(request.headers.get("Accept", "")):
        # a browser: the measure's page (its profile)
        response = HttpResponseRedirect(measure_links.profile_path(found), status=303)
        patch_vary_headers(response, ("Accept",))
        return response
    return _respond(
        request,
        _media(request, suffix),
        ("measure", city.pk, base, slug),
        lambda: rdf.measures_graph(city, base, [found]),
        f"{city.slug}-{slug}",
    )
