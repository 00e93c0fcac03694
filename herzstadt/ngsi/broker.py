"""The broker object, request/result types and the request parameters shared by the use cases."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from . import model
from .config import NgsiConfig
from .errors import (
    BadRequestData,
    InvalidRequest,
    ResourceNotFound,
    TooManyResults,
)
from .jsonld import Context, ContextResolver
from .model import RenderOptions
from .projection import parse_projection
from .storage import Store, event_rows, open_store


@dataclass(slots=True)
class Req:
    tenant: str = ""
    ctx: Context | None = None
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    geo: bool = False  # application/geo+json requested
    base_url: str = ""  # scheme://host, for Location headers
    raw_context: Any = None  # the request's @context (Link URL or body @context)
    ld: bool = False  # application/ld+json array payload (batch): @context per entity


@dataclass(slots=True)
class Result:
    status: int
    body: Any = None
    kind: str = "raw"  # entity | entities | raw | none
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


NO_CONTENT = Result(204, None, "none")


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
        self.data: dict[tuple, bytes] = {}

    def get(self, key: tuple) -> bytes | None:
        return self.data.get(key)

    def put(self, key: tuple, value: bytes) -> None:
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
        self.store: Store = store or open_store(c.database, durable=c.durable_commits)
        self.resolver = resolver or ContextResolver(
            fetch_timeout=c.context_fetch_timeout,
            preload_dir=c.preload_dir,
            preload_files=c.preload_files,
            use_etsi_preload=c.etsi_preload,
            core_url=c.core_context_url,
            allow_remote=c.allow_remote_contexts,
        )
        self.fragments = FragmentCache()

    def close(self) -> None:
        self.store.close()


# ----------------------------------------------------------------------------- parameters
_OPTIONS = frozenset(
    (
        "keyValues",
        "simplified",
        "concise",
        "normalized",
        "sysAttrs",
        "noOverwrite",
        "update",
        "replace",
        "unique",
    )
)


def options(req: Req, allowed: frozenset[str] = _OPTIONS) -> set[str]:
    raw = req.params.get("options")
    out: set[str] = set()
    if raw is not None:
        for o in raw.split(","):
            o = o.strip()
            if o not in allowed:
                raise InvalidRequest(f"invalid option {o!r}")
            out.add(o)
    fmt = req.params.get("format")
    if fmt is not None:
        if fmt in ("keyValues", "simplified", "concise", "normalized"):
            # format wins over the representation given in options
            out -= {"keyValues", "simplified", "concise", "normalized"}
            out.add(fmt)
        elif fmt != "geojson":
            raise InvalidRequest(f"invalid format {fmt!r}")
    return out


def param_names(req: Req, key: str) -> list[str] | None:
    raw = req.params.get(key)
    if raw is None:
        return None
    names = [a.strip() for a in raw.split(",") if a.strip()]
    if not names:
        raise BadRequestData(f"empty {key} parameter")
    for a in names:
        model.check_name(a, f"{key} entry")
    return names


def render_options(req: Req, opts: set[str] | None = None) -> RenderOptions:
    if opts is None:
        opts = options(req)
    kv = "keyValues" in opts or "simplified" in opts
    concise = "concise" in opts
    if kv and ("normalized" in opts or concise):
        raise BadRequestData("keyValues/simplified cannot be combined with normalized or concise")
    if concise and "normalized" in opts:
        raise BadRequestData("concise cannot be combined with normalized")
    ctx = req.ctx
    assert ctx is not None
    ro = RenderOptions(key_values=kv, concise=concise, sys_attrs="sysAttrs" in opts)
    lang = req.params.get("lang")
    if lang is not None:
        if not lang.strip():
            raise BadRequestData("empty lang parameter")
        ro.lang = lang
    attrs = param_names(req, "attrs")
    pick = req.params.get("pick")
    omit = req.params.get("omit")
    if pick is not None and omit is not None:
        raise BadRequestData("pick and omit cannot be used together")
    if attrs is not None and (pick is not None or omit is not None):
        raise BadRequestData("attrs cannot be combined with pick or omit")
    if attrs is not None:
        keep = {ctx.expand(a) for a in attrs}
        if "scope" in attrs:
            keep.add("scope")
        ro.attrs = frozenset(keep)
    if pick is not None:
        ro.pick_tree = parse_projection(pick, "pick")
    if omit is not None:
        ro.omit_tree = parse_projection(omit, "omit")
    apply_projection(ro, ctx)
    ds = req.params.get("datasetId")
    if ds:
        ro.dataset_id = frozenset(d.strip() for d in ds.split(","))
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
        names = {a for a, sub in ro.omit_tree.items() if sub is None}
        ro.pick_id = "id" not in names
        ro.pick_type = "type" not in names
        ro.pick_scope = "scope" not in names
        ro.omit = frozenset(ctx.expand(a) for a in names if a not in ("id", "type", "scope"))


def check_entity_id(eid: str) -> str:
    if not model.is_uri(eid):
        raise BadRequestData(f"entity id is not a URI: {eid!r}")
    return eid


def location_header(req: Req, broker: Broker, path: str) -> list[tuple[bytes, bytes]]:
    return [(b"location", (broker.config.base_path + path).encode())]


def body_object(req: Req) -> dict:
    if not isinstance(req.body, dict):
        raise InvalidRequest("the payload must be a JSON object")
    return req.body


def check_fragment_id(body: dict, eid: str) -> None:
    bid = body.get("id", body.get("@id"))
    if bid is not None and bid != eid:
        raise BadRequestData(f"the payload id {bid!r} differs from the entity id {eid!r}")


def paging(broker: Broker, req: Req) -> tuple[int, int, bool]:
    c = broker.config
    p = req.params
    try:
        limit = int(p["limit"]) if "limit" in p else c.default_limit
        offset = int(p["offset"]) if "offset" in p else 0
    except ValueError:
        raise BadRequestData("limit and offset must be integers") from None
    count = p.get("count", "false")
    if count not in ("true", "false"):
        raise BadRequestData("count must be true or false")
    if limit < 0 or offset < 0:
        raise BadRequestData("limit and offset must not be negative")
    if limit > c.max_limit:
        raise TooManyResults(f"limit {limit} exceeds the maximum of {c.max_limit}")
    if limit == 0 and count != "true":
        raise BadRequestData("limit=0 is only allowed with count=true")
    return limit, offset, count == "true"


def edit_entity(
    broker: Broker, req: Req, eid: str, now: str, change: Callable[[dict], dict | None]
) -> None:
    """Read-modify-write of one existing entity in one transaction: ``change(stored doc)``
    returns the new document (None: nothing to write) or raises; 404 for an unknown entity."""
    broker.store.check_tenant(req.tenant)
    with broker.store.write(req.tenant) as tx:
        cur = tx.get(eid)
        if cur is None:
            raise ResourceNotFound(f"entity {eid} not found")
        pk, old = cur
        new = change(old)
        if new is not None:
            tx.update(pk, old, new)
            tx.events(event_rows(req.tenant, old, new, now))
