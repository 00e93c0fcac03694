"""The broker object, request/result types and the request parameters shared by the use cases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import orjson

from . import model
from .audit import AuditedTx, AuditTrail
from .auth import Principal
from .config import NgsiConfig
from .errors import BadRequestData, Forbidden, InvalidRequest, ResourceNotFound
from .jsonld import Context, ContextResolver, StoredContext
from .model import RenderOptions
from .params import RetrieveOptions
from .storage import Store, event_rows, open_store


@dataclass(slots=True, kw_only=True)
class Req:
    """One request to a use case: who (``principal``), which tenant, the active @context and the
    body. Query parameters are not here: they arrive parsed (``params``), as the use case's own
    argument."""

    principal: Principal  # who acts; in-process callers pass one too (e.g. system_principal)
    tenant: str = ""
    ctx: Context | None = None
    body: Any = None
    geo: bool = False  # application/geo+json requested
    base_url: str = ""  # the configured public URL (scheme://host), for context URLs
    raw_context: Any = None  # the request's @context (Link URL or body @context)
    ld: bool = False  # application/ld+json array payload (batch): @context per entity
    via: str = ""  # the incoming Via header (distributed operations: loop detection)
    query: dict[str, str] = field(default_factory=dict)  # the raw query parameters

    @property
    def types(self) -> frozenset[str] | None:
        """The expanded entity types the principal may read and write (None: all)."""
        return self.principal.entity_types


class Kind(Enum):
    """What a result's body is; the HTTP layer renders each kind its own way."""

    NONE = "none"  # no body
    RAW = "raw"  # JSON as is
    DOCUMENT = "document"  # a JSON-LD document (ld+json when asked for)
    ENTITY = "entity"  # one entity (gets @context / Link)
    ENTITIES = "entities"  # a list of entities
    FEATURE = "feature"  # one GeoJSON Feature
    FEATURES = "features"  # a GeoJSON FeatureCollection
    FRAGMENTS = "fragments"  # pre-rendered entities (JSON bytes) of a query
    BYTES = "bytes"  # a JSON document already serialised (cached bytes, sent as they are)


@dataclass(slots=True)
class Result:
    status: int
    body: Any = None
    kind: Kind = Kind.RAW
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


NO_CONTENT = Result(204, None, Kind.NONE)


def clone_json(doc: Any) -> Any:
    """Deep copy of JSON data (much faster than copy.deepcopy)."""
    return orjson.loads(orjson.dumps(doc))


class FragmentCache:
    """Rendered entities (JSON bytes) keyed by (context, options, stored JSON text).

    The stored text is part of the key, so a changed entity can never be served stale; the
    cache only saves decoding, rendering and encoding of unchanged entities. Bounded in entries.
    """

    def __init__(self, max_entries: int = 10_000):
        self.max_entries = max_entries
        self.data: dict[tuple[Any, ...], bytes] = {}

    def get(self, key: tuple[Any, ...]) -> bytes | None:
        return self.data.get(key)

    def put(self, key: tuple[Any, ...], value: bytes) -> None:
        if len(self.data) >= self.max_entries:
            self.data.clear()
        self.data[key] = value


class Broker:
    """The broker core: configuration, @context resolver and store."""

    def __init__(
        self,
        config: NgsiConfig | None = None,
        *,
        store: Store | None = None,
        resolver: ContextResolver | None = None,
    ):
        self.config = config or NgsiConfig()
        c = self.config
        self.store: Store = store or open_store(
            c.database,
            durable=c.durable_commits,
            pool_size=c.db_pool_size,
            pool_timeout=c.db_pool_timeout,
        )
        self.resolver = resolver or ContextResolver(
            fetch_timeout=c.context_fetch_timeout,
            preload_dir=c.preload_dir,
            preload_files=cast("list[str | Path]", c.preload_files),
            use_etsi_preload=c.etsi_preload,
            core_url=c.core_context_url,
            allow_remote=c.allow_remote_contexts,
            context_hosts=c.context_hosts,
            allow_private=c.context_allow_private,
            max_bytes=c.context_max_bytes,
            cache_bytes=c.context_cache_bytes,
            own_prefix=self.public_url + c.base_path + "/jsonldContexts/",
        )
        from .notify import schema as notify_schema

        notify_schema.ensure(self.store)  # the notifier's tables (outbox, counters)
        from .csource import schema as csource_schema

        csource_schema.ensure(self.store)  # context source registrations, csource subscriptions
        if self.resolver.hosted_lookup is None:
            self.resolver.hosted_lookup = self.hosted_context
        self.fragments = FragmentCache()
        from .federation.forward import Forwarder

        self.forwarder = Forwarder(
            hosts=c.csource_hosts,
            allow_private=c.csource_allow_private,
            timeout=c.csource_timeout,
            max_bytes=c.csource_max_bytes,
            pool_size=c.csource_pool,
            self_name=(urlsplit(self.public_url).netloc or "localhost").lower(),
            base_path=c.base_path,
        )
        self.audit = AuditTrail(
            self.store,
            max_rows=c.audit_max_rows,
            max_days=c.audit_max_days,
            prune_every=c.audit_prune_every,
        )

    @property
    def public_url(self) -> str:
        """The configured public base URL (``scheme://host``), never a request's ``Host``."""
        return (self.config.public_url or "http://localhost").rstrip("/")

    def hosted_context(self, tenant: str, cid: str) -> StoredContext | None:
        """A hosted @context of the tenant, from the store (every worker sees the same)."""
        row = self.store.context_get(tenant, cid)
        if row is None:
            return None
        url, kind, doc, created_at = row
        return StoredContext(
            id=cid,
            url=url,
            kind=kind,
            doc=doc,
            created_at=created_at,
            last_used=created_at,
            origin="UserCreated",
            tenant=tenant,
        )

    @contextmanager
    def write(self, req: Req, operation: str) -> Iterator[AuditedTx]:
        """A write transaction in the request's tenant that records the change in the audit
        trail (who, what, which entities) before it commits; nothing when nothing changed."""
        with self.store.write(req.tenant) as tx:
            atx = AuditedTx(tx)
            yield atx
            if atx.ids:
                self.audit.record(tx.cur, req.tenant, req.principal.client_id, operation, atx.ids)

    def close(self) -> None:
        self.forwarder.close()
        self.store.close()


def check_types(req: Req, types: list[str] | None, eid: str) -> None:
    """403 unless the principal may write entities of these (expanded) types."""
    if not req.principal.may_touch(types):
        raise Forbidden(f"entity {eid}: its type is not one this client may write")


def visible(req: Req, doc: dict[str, Any] | None) -> bool:
    """Whether the principal may read this stored entity (its types are within its types)."""
    return doc is not None and req.principal.may_touch(doc.get("type"))


# ----------------------------------------------------------------------------- parameters
def render_options(opts: RetrieveOptions, ctx: Context) -> RenderOptions:
    """The model's rendering options for typed retrieve options in an @context."""
    o = opts.options
    ro = RenderOptions(
        key_values=opts.key_values, concise="concise" in o, sys_attrs="sysAttrs" in o
    )
    if opts.lang is not None:
        ro.lang = opts.lang
    if opts.attrs is not None:
        keep = {ctx.expand(a) for a in opts.attrs}
        if "scope" in opts.attrs:
            keep.add("scope")
        ro.attrs = frozenset(keep)
    ro.pick_tree = opts.pick
    ro.omit_tree = opts.omit
    apply_projection(ro, ctx)
    ro.dataset_id = opts.dataset_id
    return ro


def apply_projection(ro: RenderOptions, ctx: Context) -> None:
    """Set the entity-level pick/omit fields of ``ro`` from its trees."""
    if ro.pick_tree is not None:
        names = ro.pick_tree
        ro.pick_id = "id" in names
        ro.pick_type = "type" in names
        ro.pick_scope = "scope" in names
        keep = {ctx.expand(a) for a in names if a not in ("id", "type", "scope")}
        if ro.pick_scope:
            keep.add("scope")
        ro.attrs = frozenset(keep)
    if ro.omit_tree is not None:
        # a name with a sub-tree is not omitted here: the sub-tree applies to linked entities
        omitted = {a for a, sub in ro.omit_tree.items() if sub is None}
        ro.pick_id = "id" not in omitted
        ro.pick_type = "type" not in omitted
        ro.pick_scope = "scope" not in omitted
        ro.omit = frozenset(ctx.expand(a) for a in omitted if a not in ("id", "type", "scope"))


def check_entity_id(eid: str) -> str:
    if not model.is_uri(eid):
        raise BadRequestData(f"entity id is not a URI: {eid!r}")
    return eid


def location_header(req: Req, broker: Broker, path: str) -> list[tuple[bytes, bytes]]:
    return [(b"location", (broker.config.base_path + path).encode())]


def body_object(req: Req) -> dict[str, Any]:
    if not isinstance(req.body, dict):
        raise InvalidRequest("the payload must be a JSON object")
    return req.body


def check_fragment_id(body: dict[str, Any], eid: str) -> None:
    bid = body.get("id", body.get("@id"))
    if bid is not None and bid != eid:
        raise BadRequestData(f"the payload id {bid!r} differs from the entity id {eid!r}")


def edit_entity(
    broker: Broker,
    req: Req,
    eid: str,
    now: str,
    change: Callable[[dict[str, Any]], dict[str, Any] | None],
    operation: str,
) -> None:
    """Read-modify-write of one existing entity in one transaction: ``change(stored doc)``
    returns the new document (None: nothing to write) or raises; 404 for an unknown entity."""
    broker.store.check_tenant(req.tenant)
    with broker.write(req, operation) as tx:
        cur = tx.get(eid)
        if cur is None:
            raise ResourceNotFound(f"entity {eid} not found")
        pk, old = cur
        check_types(req, old.get("type"), eid)
        new = change(old)
        if new is not None:
            check_types(req, new.get("type"), eid)
            tx.update(pk, old, new)
            tx.events(event_rows(req.tenant, old, new, now))
