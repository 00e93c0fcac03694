"""The NGSI-LD broker's verifiers in herzstadt.

:class:`SiteVerifier` (the default ``settings.NGSI_VERIFIER``) answers from what cities manage in
their back office (section "API-Zugänge"):

- ``apikey``: an :class:`~herzstadt.urbandata.models.ApiClient` key (``hzk_…``) → the client's
  scopes and entity types in its city's tenant; a :class:`~herzstadt.urbandata.models.
  DeviceCredential` key (``hzd_…``) → kind ``device``, read and write of its entity types;
- ``bearer``: an OAuth2 access token (django-oauth-toolkit, client-credentials grant) of an
  application linked to an API client → that client's principal, its scopes narrowed to the
  token's;
- ``tenant_policy``: the hosted cities' tenants, with their open-data types (read by anyone) and
  CORS origins. A tenant exists only when a hosted city names it. Types a city marks as personal
  (``UrbanDataSettings.personal_types``) are never among the open-data types: anonymous readers
  get none of their entities.

Revoked or expired credentials, and credentials of a city that is not hosted, are refused. Only
digests are looked up (keys are stored as SHA-256, tokens by their SHA-256 checksum).

:class:`CityTenantVerifier` knows the tenants and nothing else (no credentials, no public types).

The broker calls verifiers in its worker threads (never on the event loop) and caches their
answers (``HERZSTADT_NGSI_AUTH_CACHE_TTL``, 30 s): a revoked key stops working within that time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, connection
from django.utils import timezone

from herzstadt.core.models import City, CityRole
from herzstadt.ngsi.auth import Principal, Scope, TenantPolicy, hash_key

log = logging.getLogger(__name__)

#: ``last_used_at`` is written at most this often per credential.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def _off_request[T](fn: Callable[[], T]) -> T:
    """Run ``fn`` and close this thread's connection afterwards: the broker's threads are outside
    Django's request cycle (unless a caller's transaction uses the connection)."""
    try:
        return fn()
    finally:
        if not connection.in_atomic_block:
            connection.close()


class CityTenantVerifier:
    """The hosted cities' tenants; no credentials, no public types."""

    def authenticate(self, scheme: str, credential: str) -> Principal | None:
        return None

    def tenant_policy(self, tenant: str) -> TenantPolicy | None:
        hosted = _off_request(
            lambda: City.objects.filter(role=CityRole.HOSTED, ngsi_tenant=tenant).exists()
        )
        return TenantPolicy(public_types=frozenset()) if hosted else None


def _touch(model, obj, now: dt.datetime) -> None:
    """Record when the credential was last used (bookkeeping: a busy database does not refuse a
    valid credential)."""
    if obj.last_used_at is None or now - obj.last_used_at >= LAST_USED_RESOLUTION:
        try:
            model.objects.filter(pk=obj.pk).update(last_used_at=now)
        except DatabaseError:
            if connection.in_atomic_block:
                raise
            log.warning("could not record the use of %s %s", model.__name__, obj.pk)


def client_principal(client, scopes: frozenset[Scope] | None = None) -> Principal:
    """The broker principal of an :class:`ApiClient` (``scopes``: narrowed, e.g. by a token)."""
    own = frozenset(Scope(s) for s in client.scopes if s in Scope._value2member_map_)
    types = client.entity_types
    return Principal(
        client.audit_id,
        client.city.ngsi_tenant,
        own if scopes is None else own & scopes,
        None if types is None else frozenset(types),
        "api_key",
    )


def device_principal(device) -> Principal:
    return Principal(
        device.audit_id,
        device.city.ngsi_tenant,
        frozenset({Scope.READ, Scope.WRITE}),
        frozenset(device.entity_types),
        "device",
    )


class SiteVerifier(CityTenantVerifier):
    """API clients, OAuth2 tokens, device keys and the cities' open data (see the module)."""

    def authenticate(self, scheme: str, credential: str) -> Principal | None:
        if scheme == "apikey":
            return _off_request(lambda: self._api_key(credential))
        if scheme == "bearer":
            return _off_request(lambda: self._bearer(credential))
        return None

    def _api_key(self, key: str) -> Principal | None:
        from herzstadt.urbandata.models import (
            CLIENT_KEY_PREFIX,
            DEVICE_KEY_PREFIX,
            ApiClient,
            DeviceCredential,
        )

        model: Any
        make: Any
        if key.startswith(CLIENT_KEY_PREFIX):
            model, make = ApiClient, client_principal
        elif key.startswith(DEVICE_KEY_PREFIX):
            model, make = DeviceCredential, device_principal
        else:
            return None
        obj = (
            model.objects.select_related("city")
            .filter(key_hash=hash_key(key), city__role=CityRole.HOSTED)
            .first()
        )
        if obj is None or not obj.active:
            return None
        _touch(model, obj, timezone.now())
        return make(obj)

    def _bearer(self, token: str) -> Principal | None:
        from oauth2_provider.models import AccessToken

        from herzstadt.urbandata.models import ApiClient

        checksum = hashlib.sha256(token.encode()).hexdigest()
        found = (
            AccessToken.objects.filter(token_checksum=checksum)
            .only("expires", "scope", "application_id")
            .first()
        )
        now = timezone.now()
        if found is None or found.application_id is None or found.expires <= now:
            return None
        client = (
            ApiClient.objects.select_related("city")
            .filter(application_id=found.application_id, city__role=CityRole.HOSTED)
            .first()
        )
        if client is None or not client.active:
            return None
        _touch(ApiClient, client, now)
        granted = frozenset(Scope(s) for s in found.scope.split() if s in Scope._value2member_map_)
        p = client_principal(client, granted)
        return Principal(p.client_id, p.tenant, p.scopes, p.entity_types, "oauth")

    def tenant_policy(self, tenant: str) -> TenantPolicy | None:
        def policy() -> TenantPolicy | None:
            from herzstadt.urbandata.models import UrbanDataSettings

            cities = list(
                City.objects.filter(role=CityRole.HOSTED, ngsi_tenant=tenant).values_list(
                    "pk", flat=True
                )
            )
            if not cities:
                return None
            types: set[str] = set()
            personal: set[str] = set()
            origins: set[str] = set()
            for s in UrbanDataSettings.objects.filter(city_id__in=cities):
                types.update(s.open_data_types or ())
                personal.update(s.personal_types or ())
                origins.update(s.cors_origins or ())
            # Privacy by design: a type marked personal is never open data, whatever else says so.
            return TenantPolicy(frozenset(types - personal), frozenset(origins))

        return _off_request(policy)
