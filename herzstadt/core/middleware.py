"""Resolve the city (tenant) a request is for: by host name, else the configured default city."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from herzstadt.core.models import City, CityRole


def city_for_host(host: str) -> City | None:
    hosted = City.objects.filter(role=CityRole.HOSTED)
    if host:
        by_domain = hosted.filter(domain__iexact=host).first()
        if by_domain is not None:
            return by_domain
    if settings.HERZSTADT_DEFAULT_CITY:
        return hosted.filter(slug=settings.HERZSTADT_DEFAULT_CITY).first()
    return hosted.order_by("id").first()


class CityMiddleware:
    """Sets ``request.city``, looked up lazily so requests that do not need it cost nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        host = request.get_host().rsplit(":", 1)[0].lower() if request.META.get("HTTP_HOST") else ""
        request.city = SimpleLazyObject(lambda: city_for_host(host))  # type: ignore[attr-defined]
        return self.get_response(request)
