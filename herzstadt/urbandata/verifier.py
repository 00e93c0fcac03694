"""The NGSI-LD broker's default verifier in herzstadt: closed unless configured otherwise.

It knows the hosted cities' tenants (``City.ngsi_tenant``) and nothing else: no API clients
(every credential is refused) and no public entity types (anonymous reads find nothing). The
API clients, OAuth2 tokens, device keys, the cities' open-data types and CORS origins come with a
fuller verifier set by ``settings.NGSI_VERIFIER`` (dotted path of a callable returning a
``herzstadt.ngsi.auth.Verifier``).

The broker calls verifiers in its worker threads (never on the event loop) and caches their
answers (``HERZSTADT_NGSI_AUTH_CACHE_TTL``).
"""

from __future__ import annotations

from django.db import connection

from herzstadt.core.models import City, CityRole
from herzstadt.ngsi.auth import Principal, TenantPolicy


class CityTenantVerifier:
    def authenticate(self, scheme: str, credential: str) -> Principal | None:
        return None

    def tenant_policy(self, tenant: str) -> TenantPolicy | None:
        try:
            hosted = City.objects.filter(role=CityRole.HOSTED, ngsi_tenant=tenant).exists()
        finally:
            # called from the broker's threads, outside Django's request cycle: do not keep
            # the connection of this thread open (unless a caller's transaction uses it)
            if not connection.in_atomic_block:
                connection.close()
        return TenantPolicy(public_types=frozenset()) if hosted else None
