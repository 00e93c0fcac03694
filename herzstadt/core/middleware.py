"""Resolve the city (tenant) a request is for: by host name, else the configured default city.

The answer is cached in the worker process (:mod:`herzstadt.core.ttlcache`, 30 s), so a request costs no
query for it; saving or deleting a city clears the cache of the worker that saved it (signals below),
the other workers follow within the 30 s. Each request gets its own copy of the cached city.
"""

from __future__ import annotations

import copy

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from herzstadt.core.models import City, CityRole
from herzstadt.core.ttlcache import TTLCache

#: host name → City or None (the database alias and the default city are part of the key)
city_cache = TTLCache(ttl=30.0, max_entries=1024)


def _lookup(host: str) -> City | None:
    hosted = City.objects.filter(role=CityRole.HOSTED)
    if host:
        by_domain = hosted.filter(domain__iexact=host).first()
        if by_domain is not None:
            return by_domain
    if settings.HERZSTADT_DEFAULT_CITY:
        return hosted.filter(slug=settings.HERZSTADT_DEFAULT_CITY).first()
    return hosted.order_by("id").first()


def city_for_host(host: str) -> City | None:
    key = (settings.DATABASES["default"]["NAME"], settings.HERZSTADT_DEFAULT_CITY, host)
    city = city_cache.get_or_set(key, lambda: _lookup(host))
    return copy.deepcopy(city) if city is not None else None


@receiver(post_save, sender=City, dispatch_uid="herzstadt-city-cache-save")
@receiver(post_delete, sender=City, dispatch_uid="herzstadt-city-cache-delete")
def _city_changed(**kwargs) -> None:
    city_cache.clear()


class CityMiddleware:
    """Sets ``request.city``, looked up lazily so requests that do not need it cost nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        host = request.get_host().rsplit(":", 1)[0].lower() if request.META.get("HTTP_HOST") else ""
        request.city = SimpleLazyObject(lambda: city_for_host(host))  # type: ignore[attr-defined]
        return self.get_response(request)
