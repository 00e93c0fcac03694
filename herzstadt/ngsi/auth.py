"""Access control of the broker core (no Django): principals, scopes, tenant policies, verifiers.

The HTTP layer (``asgi``) asks a :class:`Verifier` who sent a request (``authenticate``) and what a
tenant allows (``tenant_policy``); herzstadt's Django side implements the verifier (API clients,
OAuth2 tokens, device keys, the city's open-data types), the standalone broker can use
:class:`KeyFileVerifier`. Both answers are cached per worker by :class:`CachingVerifier` (bounded
LRU, short TTL): a revoked credential stops working within the TTL.

In-process callers (the demo loader, district pages) pass a principal explicitly, usually
:func:`system_principal` of the city's tenant; there is no implicit bypass.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, cast

import orjson


class Scope(StrEnum):
    READ = "read"  # read entities, types, attributes, (temporal) queries
    WRITE = "write"  # create/update/delete entities and attributes, batch ops, host @contexts
    SUBSCRIPTIONS = "subscriptions"  # manage (csource) subscriptions
    ADMIN = "admin"  # purge, delete hosted @contexts, csource registrations, the audit trail


ALL_SCOPES = frozenset(Scope)


@dataclass(frozen=True, slots=True)
class Principal:
    client_id: str  # stable id for the audit trail
    tenant: str  # NGSI-LD tenant the credential belongs to ('' = default)
    scopes: frozenset[Scope]
    entity_types: frozenset[str] | None = None  # expanded type IRIs it may touch; None = all
    kind: str = "api_key"  # api_key | oauth | device | anonymous | open | system

    @property
    def anonymous(self) -> bool:
        return self.kind == "anonymous"

    def may_touch(self, types: list[str] | tuple[str, ...] | None) -> bool:
        """Whether an entity of these (expanded) types is within the principal's types: all of
        them must be allowed (an entity without types is never within a restriction)."""
        allowed = self.entity_types
        if allowed is None:
            return True
        return bool(types) and all(t in allowed for t in types or ())


@dataclass(frozen=True, slots=True)
class TenantPolicy:
    public_types: frozenset[str]  # expanded type IRIs anyone may read (the city's open data)
    cors_origins: frozenset[str] = frozenset()  # origins allowed by CORS (empty: CORS off)


class Verifier(Protocol):
    """Checks credentials; implementations may block (database): they are called off the loop."""

    def authenticate(self, scheme: str, credential: str) -> Principal | None:
        """``scheme``: ``"apikey"`` (``X-API-Key: …`` or ``Authorization: ApiKey …``) or
        ``"bearer"`` (``Authorization: Bearer …``); None: unknown, revoked or expired."""
        ...

    def tenant_policy(self, tenant: str) -> TenantPolicy | None:
        """None: the tenant does not exist (was not created by a city or an admin)."""
        ...


def system_principal(tenant: str = "", client_id: str = "system") -> Principal:
    """All scopes in one tenant, for in-process callers (demo loader, back office)."""
    return Principal(client_id, tenant, ALL_SCOPES, None, "system")


def open_principal(tenant: str) -> Principal:
    """The principal of every request under open access (conformance runs, experiments)."""
    return Principal("open", tenant, ALL_SCOPES, None, "open")


def anonymous_principal(tenant: str, policy: TenantPolicy) -> Principal:
    """No credentials: read the tenant's public types, nothing else."""
    return Principal("anonymous", tenant, frozenset({Scope.READ}), policy.public_types, "anonymous")


class DenyAllVerifier:
    """No credential is valid and no tenant exists: only anonymous @context reads work."""

    def authenticate(self, scheme: str, credential: str) -> Principal | None:
        return None

    def tenant_policy(self, tenant: str) -> TenantPolicy | None:
        return None


def hash_key(key: str) -> str:
    """How API keys are stored: hex SHA-256 (keys are long random strings, so a fast hash is
    enough; the key itself is never stored)."""
    return hashlib.sha256(key.encode()).hexdigest()


class KeyFileVerifier:
    """A small verifier for the standalone broker: API keys and tenants from a JSON file.

    ``HERZSTADT_NGSI_API_KEYS_FILE``::

        {
          "tenants": {"": {"public_types": ["https://…/OffStreetParking"], "cors_origins": []},
                      "city2": {}},
          "keys": [
            {"sha256": "<hex sha256 of the key>", "client_id": "dashboard", "tenant": "",
             "scopes": ["read"], "entity_types": null}
          ]
        }

    Make a hash with ``python -m herzstadt.ngsi hash-key``. Every tenant a key names exists too.
    The file is read once (restart to change it).
    """

    def __init__(self, path: str | Path):
        data = orjson.loads(Path(path).read_bytes())
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a JSON object with 'keys' and 'tenants'")
        self.keys: dict[str, Principal] = {}
        self.policies: dict[str, TenantPolicy] = {}
        for name, spec in (data.get("tenants") or {}).items():
            spec = spec or {}
            self.policies[name] = TenantPolicy(
                frozenset(spec.get("public_types") or ()), frozenset(spec.get("cors_origins") or ())
            )
        for n, k in enumerate(data.get("keys") or []):
            try:
                digest = str(k["sha256"]).lower()
                scopes = frozenset(Scope(s) for s in k.get("scopes") or ())
                types = k.get("entity_types")
                p = Principal(
                    str(k.get("client_id") or f"key-{n}"),
                    str(k.get("tenant") or ""),
                    scopes,
                    None if types is None else frozenset(types),
                    "api_key",
                )
            except (KeyError, ValueError, TypeError) as e:
                raise ValueError(f"{path}: key #{n} is invalid ({e})") from None
            self.keys[digest] = p
            self.policies.setdefault(p.tenant, TenantPolicy(frozenset()))

    def authenticate(self, scheme: str, credential: str) -> Principal | None:
        if scheme != "apikey":
            return None
        digest = hash_key(credential)
        for known, p in self.keys.items():  # constant time per comparison
            if hmac.compare_digest(known, digest):
                return p
        return None

    def tenant_policy(self, tenant: str) -> TenantPolicy | None:
        return self.policies.get(tenant)


class ChainedVerifier:
    """Asks several verifiers in order: the first principal / the first policy found wins
    (e.g. a keys file in front of the site's own verifier)."""

    def __init__(self, *verifiers: Verifier):
        self.verifiers = verifiers

    def authenticate(self, scheme: str, credential: str) -> Principal | None:
        for v in self.verifiers:
            p = v.authenticate(scheme, credential)
            if p is not None:
                return p
        return None

    def tenant_policy(self, tenant: str) -> TenantPolicy | None:
        for v in self.verifiers:
            policy = v.tenant_policy(tenant)
            if policy is not None:
                return policy
        return None


_MISS = object()


class _TtlLru:
    """A bounded LRU map whose entries expire ``ttl`` seconds after they were stored."""

    def __init__(self, max_entries: int, ttl: float, clock: Callable[[], float]):
        self.max_entries = max_entries
        self.ttl = ttl
        self.clock = clock
        self.data: OrderedDict[Any, tuple[float, Any]] = OrderedDict()

    def get(self, key: Any) -> Any:
        hit = self.data.get(key)
        if hit is None:
            return _MISS
        if hit[0] <= self.clock():
            self.data.pop(key, None)
            return _MISS
        self.data.move_to_end(key)
        return hit[1]

    def put(self, key: Any, value: Any) -> None:
        self.data[key] = (self.clock() + self.ttl, value)
        self.data.move_to_end(key)
        while len(self.data) > self.max_entries:
            self.data.popitem(last=False)


class CachingVerifier:
    """Caches ``authenticate`` and ``tenant_policy`` of another verifier per worker.

    Bounded LRU with a TTL (``NgsiConfig.auth_cache_ttl``, default 30 s): a revoked key or a
    changed policy takes effect within the TTL. Keys are SHA-256 digests of scheme and credential,
    never the secret itself. Negative answers are cached as well (a flood of bad keys does not
    reach the database more than once per key and TTL). Thread-safe.
    """

    def __init__(
        self,
        inner: Verifier,
        *,
        ttl: float = 30.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.inner = inner
        self.lock = threading.Lock()
        self.principals = _TtlLru(max_entries, ttl, clock)
        self.policies = _TtlLru(max_entries, ttl, clock)

    def authenticate(self, scheme: str, credential: str) -> Principal | None:
        key = hashlib.sha256(f"{scheme}\0{credential}".encode()).digest()
        with self.lock:
            hit = self.principals.get(key)
        if hit is not _MISS:
            return cast("Principal | None", hit)
        p = self.inner.authenticate(scheme, credential)
        with self.lock:
            self.principals.put(key, p)
        return p

    def tenant_policy(self, tenant: str) -> TenantPolicy | None:
        with self.lock:
            hit = self.policies.get(tenant)
        if hit is not _MISS:
            return cast("TenantPolicy | None", hit)
        policy = self.inner.tenant_policy(tenant)
        with self.lock:
            self.policies.put(tenant, policy)
        return policy

    def clear(self) -> None:
        with self.lock:
            self.principals.data.clear()
            self.policies.data.clear()
