"""Use cases of the back-office section "API-Zugänge": API clients, their keys and OAuth2
credentials, device keys, the city's open-data types and CORS origins, and the audit trail.

Each function works within one city; callers have checked ``urbandata.manage_access``. Keys and
secrets are returned once, to be shown once, and never stored.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from django.db import transaction

from herzstadt.core.models import City
from herzstadt.ngsi.errors import NgsiError
from herzstadt.ngsi.tenants import audit_log
from herzstadt.urbandata.broker import get_broker
from herzstadt.urbandata.models import ApiClient, DeviceCredential, UrbanDataSettings

#: How many audit-trail entries the back office shows per client.
AUDIT_ENTRIES = 50


def settings_of(city: City) -> UrbanDataSettings:
    found, _created = UrbanDataSettings.objects.get_or_create(city=city)
    return found


class PersonalDataError(ValueError):
    """A type marked as personal was to be published as open data."""


def save_settings(
    city: City,
    open_data_types: Iterable[str],
    cors_origins: Iterable[str],
    personal_types: Iterable[str] | None = None,
):
    """Save what the city publishes. ``personal_types`` None keeps the current ones; a personal
    type can't be open data (:class:`PersonalDataError`, nothing saved)."""
    s = settings_of(city)
    personal = set(s.personal_types if personal_types is None else personal_types)
    open_types = set(open_data_types)
    if both := open_types & personal:
        raise PersonalDataError(sorted(both))
    s.open_data_types = sorted(open_types)
    s.personal_types = sorted(personal)
    s.cors_origins = sorted(set(cors_origins))
    s.save()
    return s


def publication(city: City) -> tuple[frozenset[str], frozenset[str]]:
    """The city's open-data types (without personal ones) and its personal types, in one query."""
    open_types: set[str] = set()
    personal: set[str] = set()
    for row in UrbanDataSettings.objects.filter(city=city).values(
        "open_data_types", "personal_types"
    ):
        open_types.update(row["open_data_types"] or ())
        personal.update(row["personal_types"] or ())
    return frozenset(open_types - personal), frozenset(personal)


def personal_types(city: City) -> frozenset[str]:
    """The city's entity types (expanded IRIs) that hold personal data."""
    return frozenset(
        t
        for types in UrbanDataSettings.objects.filter(city=city).values_list(
            "personal_types", flat=True
        )
        for t in types or ()
    )


def known_types(city: City) -> list[str]:
    """Expanded type IRIs worth offering: those in the city's tenant, its open-data types and
    those its clients and devices name."""
    current = settings_of(city)
    found: set[str] = set(current.open_data_types) | set(current.personal_types)
    store = get_broker().store
    try:
        if city.ngsi_tenant:
            store.check_tenant(city.ngsi_tenant)
        found.update(store.entity_types(city.ngsi_tenant))
    except NgsiError:
        pass  # the tenant has no data yet
    for types in ApiClient.objects.filter(city=city).values_list("entity_types", flat=True):
        found.update(types or ())
    for types in DeviceCredential.objects.filter(city=city).values_list("entity_types", flat=True):
        found.update(types or ())
    return sorted(found)


def create_client(city: City, user, client: ApiClient) -> tuple[ApiClient, str]:
    """Save a new (unsaved) client of ``city`` with a fresh key; returns it and the key."""
    client.city = city
    client.created_by = user if getattr(user, "is_authenticated", False) else None
    key = client.set_new_key()
    client.save()
    return client, key


def new_key(client: ApiClient | DeviceCredential) -> str:
    """A new key for the credential; the old key stops working (within the verifier's cache TTL)."""
    key = client.set_new_key()
    client.save(update_fields=["key_hash", "key_prefix"])
    return key


@transaction.atomic
def revoke_client(client: ApiClient) -> None:
    """The client's key and OAuth2 tokens stop working (within the cache TTL) and its OAuth2
    application is deleted (no new tokens); its audit trail stays."""
    from oauth2_provider.models import Application

    client.revoke()
    if client.application_id is not None:
        Application.objects.filter(pk=client.application_id).delete()  # and its tokens
        client.application = None


@transaction.atomic
def create_oauth_credentials(client: ApiClient) -> tuple[str, str]:
    """An OAuth2 application (client-credentials grant) for the client; returns its client id and
    secret (stored hashed). Replaces earlier credentials and their tokens."""
    from oauth2_provider.models import AccessToken, Application

    if client.application_id is not None:
        AccessToken.objects.filter(application_id=client.application_id).delete()
        Application.objects.filter(pk=client.application_id).delete()
    secret = secrets.token_urlsafe(40)
    app = Application.objects.create(
        name=f"{client.city.slug}: {client.name}"[:255],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
        hash_client_secret=True,
        redirect_uris="",
    )
    client.application = app
    client.save(update_fields=["application"])
    return app.client_id, secret


def create_device(city: City, user, device: DeviceCredential) -> tuple[DeviceCredential, str]:
    device.city = city
    device.created_by = user if getattr(user, "is_authenticated", False) else None
    key = device.set_new_key()
    device.save()
    return device, key


def audit_trail(obj: ApiClient | DeviceCredential, limit: int = AUDIT_ENTRIES) -> list[dict]:
    """The newest writes of the client or device in its city's tenant (the broker's audit trail,
    read through its public API)."""
    try:
        return audit_log(get_broker(), obj.city.ngsi_tenant, obj.audit_id, limit)
    except NgsiError:
        return []
