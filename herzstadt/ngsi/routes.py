"""The broker's route table: one declaration per path and method.

Each route is a pattern relative to the API base path (``entities/{entityId}/attrs/{attrId}``;
``{name:path}`` takes the rest of the path, slashes included) with, per HTTP method, an
:class:`Op`: the use case, the query parameters it accepts (every route/method lists its own; any
other parameter is a 400), the parser that turns them into a typed object (``params``), whether it
takes a body, the access scope it needs (None: anyone, even without credentials) and whether it
can answer ``application/geo+json``. The ``Allow`` header of a 405 is derived from the table.

A use case is called as ``handler(broker, req, parsed_params, *path_arguments)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import contexts_api, openapi, ops_temporal, params, service, subscriptions
from .auth import Scope
from .config import NgsiConfig
from .csource import api as ca
from .csource import subs as cs
from .federation.writes import distributed, distributed_batch, distributed_purge
from .params import Params

Parser = Callable[[Params, NgsiConfig], Any]


@dataclass(frozen=True, slots=True)
class Op:
    handler: Callable[..., Any]
    params: frozenset[str]
    parse: Parser | None = None
    body: bool = False
    scope: Scope | None = Scope.READ
    geo: bool = False


@dataclass(slots=True)
class Route:
    pattern: str
    methods: dict[str, Op]
    #: PUT/PATCH/DELETE without the identifier the route lacks: 400 instead of 405
    missing_id: bool = False
    segments: tuple[str | None, ...] = field(init=False)  # literal, or None for a parameter
    names: tuple[str, ...] = field(init=False)
    tail: bool = field(init=False)  # the last parameter takes the rest of the path
    allow: bytes = field(init=False)

    def __post_init__(self) -> None:
        segs: list[str | None] = []
        names: list[str] = []
        tail = False
        parts = self.pattern.split("/")
        for n, part in enumerate(parts):
            if part.startswith("{") and part.endswith("}"):
                name, _, conv = part[1:-1].partition(":")
                if conv not in ("", "path") or (conv == "path" and n != len(parts) - 1):
                    raise ValueError(f"{self.pattern}: bad parameter {part}")
                tail = conv == "path"
                segs.append(None)
                names.append(name)
            else:
                segs.append(part)
        self.segments = tuple(segs)
        self.names = tuple(names)
        self.tail = tail
        self.allow = ", ".join(sorted(self.methods)).encode()

    def match(self, parts: list[str]) -> list[str] | None:
        segs = self.segments
        n = len(segs)
        if len(parts) != n and not (self.tail and len(parts) > n):
            return None
        args: list[str] = []
        for i, s in enumerate(segs):
            if s is None:
                if self.tail and i == n - 1:
                    rest = "/".join(parts[i:])
                    if not rest:
                        return None
                    args.append(rest)
                else:
                    args.append(parts[i])
            elif parts[i] != s:
                return None
        return args


class Router:
    """Matches a path (relative to the base path) against the routes, by first segment."""

    def __init__(self, routes: list[Route]):
        self.routes = routes
        self.by_head: dict[str, list[Route]] = {}
        for r in routes:
            head = r.segments[0]
            if head is None:
                raise ValueError(f"{r.pattern}: a route starts with a literal")
            self.by_head.setdefault(head, []).append(r)

    def match(self, rest: str) -> tuple[Route, list[str]] | None:
        parts = rest.split("/")
        for r in self.by_head.get(parts[0], ()):
            args = r.match(parts)
            if args is not None:
                return r, args
        return None


# --------------------------------------------------------------------------- parameter sets
_Q = frozenset(
    {
        "type",
        "id",
        "idPattern",
        "attrs",
        "q",
        "georel",
        "geometry",
        "coordinates",
        "geoproperty",
        "scopeQ",
        "local",
        "datasetId",
        "csf",
        "lang",
    }
)
_OUT = frozenset(
    {
        "options",
        "format",
        "lang",
        "geometryProperty",
        "pick",
        "omit",
        "attrs",
        "join",
        "joinLevel",
        "collation",
        "expandValues",
        "entityMap",
        "jsonKeys",
        "containedBy",
        "datasetId",
        "local",
        "sysAttrs",
        "doNotCompact",
    }
)
_PAGE = frozenset({"limit", "offset", "count", "orderBy"})
_TEMPORAL = frozenset(
    {"timerel", "timeAt", "endTimeAt", "timeproperty", "lastN", "aggrMethods", "aggrPeriodDuration"}
)
_WRITE = frozenset({"options", "local"})
_ENTITY_WRITE = frozenset({"options", "type", "local"})
#: batch operations take the representation and paging parameters too (the ETSI suite sends
#: them along); only ``options`` has a meaning for them
_BATCH = _WRITE | _OUT | _PAGE
#: context source discovery (5.10): entity filters, the registrations' own filters (q, csf,
#: geo-query, time interval)
_CSR_Q = (
    (_Q - {"local", "datasetId", "lang", "scopeQ"})
    | _PAGE
    | frozenset({"timerel", "timeAt", "endTimeAt", "timeproperty", "options"})
)


def _f(*names: str) -> frozenset[str]:
    return frozenset(names)


def _table() -> list[Route]:
    s, c, sb, p, t = service, contexts_api, subscriptions, params, ops_temporal
    d, db = distributed, distributed_batch
    R, W, S, A = Scope.READ, Scope.WRITE, Scope.SUBSCRIPTIONS, Scope.ADMIN
    return [
        Route(
            "entities",
            {
                "GET": Op(s.query_entities, _Q | _OUT | _PAGE, p.QueryParams.parse, geo=True),
                "POST": Op(
                    d("createEntity", "POST", "create")(s.create_entity), _WRITE, body=True, scope=W
                ),
                "DELETE": Op(
                    distributed_purge(s.purge_entities),
                    _Q | _f("keep", "drop"),
                    p.PurgeParams.parse,
                    scope=A,
                ),
            },
            missing_id=True,
        ),
        Route(
            "entities/{entityId}",
            {
                "GET": Op(s.retrieve_entity, _OUT | _f("type"), p.parse_retrieve, geo=True),
                "PUT": Op(
                    d("replaceEntity", "PUT", "entity")(s.replace_entity),
                    _ENTITY_WRITE,
                    body=True,
                    scope=W,
                ),
                "PATCH": Op(
                    d("mergeEntity", "PATCH", "entity")(s.merge_entity),
                    _ENTITY_WRITE | _f("format"),
                    body=True,
                    scope=W,
                ),
                "DELETE": Op(
                    d("deleteEntity", "DELETE", "entity")(s.delete_entity),
                    _f("type", "local"),
                    p.TypeFilter.parse,
                    scope=W,
                ),
            },
        ),
        Route(
            "entities/{entityId}/attrs",
            {
                "POST": Op(
                    d("appendAttrs", "POST", "attrs")(s.append_attrs),
                    _ENTITY_WRITE,
                    p.WriteOptions.parse,
                    True,
                    W,
                ),
                "PATCH": Op(
                    d("updateAttrs", "PATCH", "attrs")(s.update_attrs),
                    _ENTITY_WRITE,
                    body=True,
                    scope=W,
                ),
            },
        ),
        Route(
            "entities/{entityId}/attrs/{attrId}",
            {
                "PATCH": Op(
                    d("updateAttrs", "PATCH", "attr")(s.partial_attr_update),
                    _ENTITY_WRITE,
                    body=True,
                    scope=W,
                ),
                "PUT": Op(
                    d("replaceAttrs", "PUT", "attr")(s.replace_attr),
                    _ENTITY_WRITE,
                    body=True,
                    scope=W,
                ),
                "DELETE": Op(
                    d("deleteAttrs", "DELETE", "attr")(s.delete_attr),
                    _f("datasetId", "deleteAll", "lang", "type", "local"),
                    p.DeleteAttrParams.parse,
                    scope=W,
                ),
            },
        ),
        Route(
            "entityOperations/create",
            {"POST": Op(db("createBatch", "create")(s.batch_create), _BATCH, body=True, scope=W)},
        ),
        Route(
            "entityOperations/upsert",
            {
                "POST": Op(
                    db("upsertBatch", "upsert")(s.batch_upsert),
                    _BATCH,
                    p.WriteOptions.parse,
                    True,
                    W,
                )
            },
        ),
        Route(
            "entityOperations/update",
            {
                "POST": Op(
                    db("updateBatch", "update")(s.batch_update),
                    _BATCH,
                    p.WriteOptions.parse,
                    True,
                    W,
                )
            },
        ),
        Route(
            "entityOperations/delete",
            {"POST": Op(db("deleteBatch", "delete")(s.batch_delete), _BATCH, body=True, scope=W)},
        ),
        Route(
            "entityOperations/merge",
            {"POST": Op(db("mergeBatch", "merge")(s.batch_merge), _BATCH, body=True, scope=W)},
        ),
        Route(
            "entityOperations/query",
            {"POST": Op(s.query_entities_post, _BATCH, p.QueryPostParams.parse, True, R, geo=True)},
        ),
        Route("types", {"GET": Op(s.list_types, _f("details", "local"), p.Details.parse)}, True),
        Route("types/{type:path}", {"GET": Op(s.retrieve_type, _f("local"))}),
        Route(
            "attributes",
            {"GET": Op(s.list_attributes, _f("details", "local"), p.Details.parse)},
            missing_id=True,
        ),
        Route("attributes/{attrId:path}", {"GET": Op(s.retrieve_attribute, _f("local"))}),
        Route(
            "jsonldContexts",
            {
                "GET": Op(
                    c.list_contexts, _f("details", "kind"), p.ContextListParams.parse, scope=None
                ),
                "POST": Op(c.add_context, frozenset(), body=True, scope=W),
            },
        ),
        Route(
            "jsonldContexts/{contextId:path}",
            {
                "GET": Op(c.serve_context, _f("details"), p.Details.parse_strict, scope=None),
                "DELETE": Op(c.delete_context, _f("reload"), p.ReloadParams.parse, scope=A),
            },
        ),
        Route(
            "subscriptions",
            {
                "GET": Op(sb.query_subscriptions, _PAGE | _f("local"), p.parse_paging, scope=S),
                "POST": Op(sb.create_subscription, frozenset(), body=True, scope=S),
            },
        ),
        Route(
            "subscriptions/{subscriptionId}",
            {
                "GET": Op(
                    sb.retrieve_subscription, _f("options"), p.SubscriptionOptions.parse, scope=S
                ),
                "PATCH": Op(sb.update_subscription, frozenset(), body=True, scope=S),
                "DELETE": Op(sb.delete_subscription, frozenset(), scope=S),
            },
        ),
        Route(
            "temporal/entities",
            {
                "GET": Op(
                    t.query_temporal, _Q | _OUT | _PAGE | _TEMPORAL, t.TemporalParams.parse_query
                ),
                "POST": Op(t.create_temporal, _f("local"), body=True, scope=W),
            },
        ),
        Route(
            "temporal/entityOperations/query",
            {
                "POST": Op(
                    t.query_temporal_post,
                    _BATCH | _TEMPORAL,
                    t.TemporalParams.parse_post,
                    True,
                    R,
                )
            },
        ),
        Route(
            "temporal/entities/{entityId}",
            {
                "GET": Op(
                    t.retrieve_temporal,
                    _OUT | _TEMPORAL | _f("type"),
                    t.TemporalParams.parse_retrieve,
                ),
                "DELETE": Op(t.delete_temporal, _f("type", "local"), scope=W),
            },
        ),
        Route(
            "temporal/entities/{entityId}/attrs",
            {"POST": Op(t.append_temporal_attrs, _f("local"), body=True, scope=W)},
        ),
        Route(
            "temporal/entities/{entityId}/attrs/{attrId}",
            {
                "DELETE": Op(
                    t.delete_temporal_attr,
                    _f("datasetId", "deleteAll", "local"),
                    t.TemporalAttrDelete.parse,
                    scope=W,
                )
            },
        ),
        Route(
            "temporal/entities/{entityId}/attrs/{attrId}/{instanceId}",
            {
                "PATCH": Op(t.modify_instance, _f("local"), body=True, scope=W),
                "DELETE": Op(t.delete_instance, _f("local"), scope=W),
            },
        ),
        Route(
            "csourceRegistrations",
            {
                "GET": Op(
                    ca.query_registrations,
                    _CSR_Q,
                    ca.CsrQuery.parse,
                    scope=A,
                ),
                "POST": Op(ca.create_registration, frozenset(), body=True, scope=A),
            },
        ),
        Route(
            "csourceRegistrations/{registrationId}",
            {
                "GET": Op(ca.retrieve_registration, _f("options"), ca.CsrOptions.parse, scope=A),
                "PATCH": Op(ca.update_registration, frozenset(), body=True, scope=A),
                "DELETE": Op(ca.delete_registration, frozenset(), scope=A),
            },
        ),
        Route(
            "csourceSubscriptions",
            {
                "GET": Op(cs.query_subscriptions, _PAGE, p.parse_paging, scope=A),
                "POST": Op(cs.create_subscription, frozenset(), body=True, scope=A),
            },
        ),
        Route("openapi.json", {"GET": Op(openapi.serve_openapi, frozenset(), scope=None)}),
        Route(
            "csourceSubscriptions/{subscriptionId}",
            {
                "GET": Op(
                    cs.retrieve_subscription, _f("options"), p.SubscriptionOptions.parse, scope=A
                ),
                "PATCH": Op(cs.update_subscription, frozenset(), body=True, scope=A),
                "DELETE": Op(cs.delete_subscription, frozenset(), scope=A),
            },
        ),
    ]


ROUTES: list[Route] = _table()
ROUTER = Router(ROUTES)
