"""Keys a city issues to partner cities for reporting replications: ``hzn_`` + 32 random bytes
(URL-safe base64); only the key's SHA-256 is stored, and it is shown once when made."""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone

from herzstadt.core.models import City
from herzstadt.knowledge.models import PartnerKey


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue(city: City, name: str) -> tuple[PartnerKey, str]:
    """A new key for the partner ``name``: the row and the key (shown once, never stored)."""
    key = PartnerKey.PREFIX + secrets.token_urlsafe(32)
    row = PartnerKey.objects.create(
        city=city, name=name, key_prefix=key[:10], key_hash=_digest(key)
    )
    return row, key


def check(key: str) -> PartnerKey | None:
    """The active key row for ``key``, else ``None``."""
    if not key.startswith(PartnerKey.PREFIX) or len(key) > 200:
        return None
    return (
        PartnerKey.objects.filter(key_hash=_digest(key), revoked_at__isnull=True)
        .select_related("city")
        .first()
    )


def touch(row: PartnerKey) -> None:
    PartnerKey.objects.filter(pk=row.pk).update(last_used_at=timezone.now())


def revoke(row: PartnerKey) -> None:
    PartnerKey.objects.filter(pk=row.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
