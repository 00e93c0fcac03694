"""Raw ASGI 3 application serving the NGSI-LD API (no framework).

``make_app(config)`` returns the app; herzstadt's main ASGI app mounts it at ``/ngsi-ld/`` and passes
the full path. Standalone: ``granian --interface asgi --factory herzstadt.ngsi.asgi:app_from_env``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote

import orjson

from . import contexts_api, service, subscriptions
from .config import NgsiConfig
from .errors import (
    BadRequestData,
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    NgsiError,
    NotAcceptable,
    PayloadTooLarge,
    ResourceNotFound,
    UnsupportedMediaType,
)
from .jsonld import check_context_value, link_header, parse_link_header
from .model import weighted_items
from .service import Broker, Req, Result

log = logging.getLogger("herzstadt.ngsi")

JSON = "application/json"
LD = "application/ld+json"
GEO = "application/geo+json"
MERGE = "application/merge-patch+json"

CT_JSON = (b"content-type", b"application/json")
CT_LD = (b"content-type", b"application/ld+json")
CT_GEO = (b"content-type", b"application/geo+json")
CT_PROBLEM = (b"content-type", b"application/json")

_TENANT_RE = re.compile(r"^[A-Za-z0-9_\-.:/]{1,128}$")

# (method, route) -> (handler, body kind); route segments with {x} are parameters
Handler = Callable[..., Result]


def _routes() -> dict[str, dict[str, tuple[Handler, bool]]]:
    s = service
    c = contexts_api
    sb = subscriptions
    ni = subscriptions.not_implemented
    return {
        "subscriptions": {
            "GET": (sb.query_subscriptions, False),
            "POST": (sb.create_subscription, True),
        },
        "subscriptions/*": {
            "GET": (sb.retrieve_subscription, False),
            "PATCH": (sb.update_subscription, True),
            "DELETE": (sb.delete_subscription, False),
        },
        "temporal/entities": {"GET": (ni, False), "POST": (ni, True)},
        "temporal/entities/*": {"GET": (ni, False), "DELETE": (ni, False)},
        "temporal/entities/*/attrs": {"POST": (ni, True)},
        "temporal/entities/*/attrs/*": {"DELETE": (ni, False)},
        "csourceRegistrations": {"GET": (ni, False), "POST": (ni, True)},
        "csourceRegistrations/*": {"GET": (ni, False), "PATCH": (ni, True), "DELETE": (ni, False)},
        "csourceSubscriptions": {"GET": (ni, False), "POST": (ni, True)},
        "csourceSubscriptions/*": {"GET": (ni, False), "PATCH": (ni, True), "DELETE": (ni, False)},
        "entities": {
            "GET": (s.query_entities, False),
            "POST": (s.create_entity, True),
            "DELETE": (s.purge_entities, False),
        },
        "entities/*": {
            "GET": (s.retrieve_entity, False),
            "PUT": (s.replace_entity, True),
            "PATCH": (s.merge_entity, True),
            "DELETE": (s.delete_entity, False),
        },
        "entities/*/attrs": {"POST": (s.append_attrs, True), "PATCH": (s.update_attrs, True)},
        "entities/*/attrs/*": {
            "PATCH": (s.partial_attr_update, True),
            "PUT": (s.replace_attr, True),
            "DELETE": (s.delete_attr, False),
        },
        "entityOperations/create": {"POST": (s.batch_create, True)},
        "entityOperations/upsert": {"POST": (s.batch_upsert, True)},
        "entityOperations/update": {"POST": (s.batch_update, True)},
        "entityOperations/delete": {"POST": (s.batch_delete, True)},
        "entityOperations/merge": {"POST": (s.batch_merge, True)},
        "entityOperations/query": {"POST": (s.query_entities_post, True)},
        "types": {"GET": (s.list_types, False)},
        "types/*": {"GET": (s.retrieve_type, False)},
        "attributes": {"GET": (s.list_attributes, False)},
        "attributes/*": {"GET": (s.retrieve_attribute, False)},
        "jsonldContexts": {"GET": (c.list_contexts, False), "POST": (c.add_context, True)},
        "jsonldContexts/*": {"GET": (c.serve_context, False), "DELETE": (c.delete_context, False)},
    }


ROUTES = _routes()

_Q = {
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
_OUT = {
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
_PAGE = {"limit", "offset", "count", "orderBy"}
#: query parameters each (route, method) accepts; anything else is a 400 InvalidRequest
ALLOWED_PARAMS: dict[tuple[str, str], frozenset[str]] = {
    ("entities", "GET"): frozenset(_Q | _OUT | _PAGE),
    ("entities", "POST"): frozenset({"options", "local"}),
    ("entities", "DELETE"): frozenset(_Q | {"keep", "drop"}),
    ("entities/*", "GET"): frozenset(_OUT | {"type"}),
    ("entities/*", "PUT"): frozenset({"options", "type", "local"}),
    ("entities/*", "PATCH"): frozenset({"options", "type", "local", "format"}),
    ("entities/*", "DELETE"): frozenset({"type", "local"}),
    ("entities/*/attrs", "POST"): frozenset({"options", "type", "local"}),
    ("entities/*/attrs", "PATCH"): frozenset({"options", "type", "local"}),
    ("entities/*/attrs/*", "PATCH"): frozenset({"options", "type", "local"}),
    ("entities/*/attrs/*", "PUT"): frozenset({"options", "type", "local"}),
    ("entities/*/attrs/*", "DELETE"): frozenset(
        {"datasetId", "deleteAll", "lang", "type", "local"}
    ),
    ("types", "GET"): frozenset({"details", "local"}),
    ("types/*", "GET"): frozenset({"local"}),
    ("attributes", "GET"): frozenset({"details", "local"}),
    ("attributes/*", "GET"): frozenset({"local"}),
    ("jsonldContexts", "GET"): frozenset({"details", "kind"}),
    ("jsonldContexts", "POST"): frozenset(),
    ("jsonldContexts/*", "GET"): frozenset({"details"}),
    ("jsonldContexts/*", "DELETE"): frozenset({"reload"}),
    ("subscriptions", "GET"): frozenset(_PAGE | {"local"}),
    ("subscriptions", "POST"): frozenset(),
    ("subscriptions/*", "GET"): frozenset({"options"}),
    ("subscriptions/*", "PATCH"): frozenset(),
    ("subscriptions/*", "DELETE"): frozenset(),
    ("temporal/entities", "GET"): frozenset(
        _Q
        | _OUT
        | _PAGE
        | {
            "timerel",
            "timeAt",
            "endTimeAt",
            "timeproperty",
            "lastN",
            "aggrMethods",
            "aggrPeriodDuration",
        }
    ),
    ("temporal/entities", "POST"): frozenset(),
    ("csourceRegistrations", "GET"): frozenset(
        _Q | _PAGE | {"timerel", "timeAt", "endTimeAt", "options"}
    ),
    ("csourceRegistrations", "POST"): frozenset(),
}
#: routes that can answer application/geo+json
GEO_ROUTES = frozenset({"entities", "entities/*", "entityOperations/query"})
_BATCH_PARAMS = frozenset({"options", "local"} | _OUT | _PAGE)


def _match(rest: str) -> tuple[str, list[str]] | None:
    parts = rest.split("/")
    n = len(parts)
    if n == 1:
        key = parts[0]
        return (key, []) if key in ROUTES else None
    head = parts[0]
    if head == "entities":
        if n == 2 and parts[1]:
            return "entities/*", [parts[1]]
        if n == 3 and parts[2] == "attrs":
            return "entities/*/attrs", [parts[1]]
        if n == 4 and parts[2] == "attrs":
            return "entities/*/attrs/*", [parts[1], parts[3]]
        return None
    if head == "entityOperations" and n == 2:
        key = "entityOperations/" + parts[1]
        return (key, []) if key in ROUTES else None
    if head == "temporal" and n >= 2 and parts[1] == "entities":
        if n == 2:
            return "temporal/entities", []
        if n == 3:
            return "temporal/entities/*", [parts[2]]
        if n == 4 and parts[3] == "attrs":
            return "temporal/entities/*/attrs", [parts[2]]
        if n >= 5 and parts[3] == "attrs":
            return "temporal/entities/*/attrs/*", [parts[2], parts[4]]
        return None
    if head in ("subscriptions", "csourceRegistrations", "csourceSubscriptions") and n == 2:
        return (head + "/*", [parts[1]]) if parts[1] else (head, [])
    if head in ("types", "attributes", "jsonldContexts") and n >= 2:
        arg = "/".join(parts[1:])
        return (head + "/*", [arg]) if arg else None
    return None


def _media(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def _negotiate(accept: str | None) -> str:
    """Pick the response media type from the Accept header (406 if none fits)."""
    if not accept:
        return JSON
    best: tuple[float, int, str] | None = None
    for n, (item, q) in enumerate(weighted_items(accept)):
        mt = item.lower()
        if q <= 0:
            continue
        if mt in (JSON, LD, GEO):
            chosen = mt
        elif mt in ("*/*", "application/*"):
            chosen = JSON
        else:
            continue
        cand = (q, -n, chosen)
        if best is None or cand[:2] > best[:2]:
            best = cand
    if best is None:
        raise NotAcceptable(f"none of the accepted media types ({accept}) can be produced")
    return best[2]


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_KEEP_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")


def _max_depth(brackets: bytes, limit: int) -> bool:
    depth = 0
    for c in brackets:
        if c == 123 or c == 91:
            depth += 1
            if depth > limit:
                return False
        else:
            depth -= 1
    return True


def _json_depth_ok(body: bytes, limit: int) -> bool:
    """Whether the JSON text nests at most ``limit`` levels.

    Fast path: brackets counted without looking at strings; only when that says "too deep" are
    strings removed and the exact depth computed. (A payload that hides its depth behind closing
    brackets inside strings is still stopped: see the RecursionError handling in the app.)
    """
    if body.count(b"{") + body.count(b"[") <= limit:
        return True
    if _max_depth(body.translate(None, _KEEP_BRACKETS), limit):
        return True
    return _max_depth(_JSON_STRING.sub(b"", body).translate(None, _KEEP_BRACKETS), limit)


class NgsiApp:
    """The ASGI callable; one per process (it owns a store connection)."""

    def __init__(self, config: NgsiConfig | None = None, broker: Broker | None = None):
        self.config = config or NgsiConfig()
        self.broker = broker or Broker(self.config)
        self.base = self.config.base_path.rstrip("/") + "/"

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        typ = scope["type"]
        if typ == "http":
            await self._http(scope, receive, send)
        elif typ == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    self.broker.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    async def _http(self, scope: dict, receive: Callable, send: Callable) -> None:
        method = scope["method"]
        headers: dict[str, str] = {}
        for k, v in scope["headers"]:
            headers[k.decode("latin-1").lower()] = v.decode("latin-1")
        out_type = JSON
        try:
            try:
                out_type = _negotiate(headers.get("accept"))
            except NotAcceptable:
                if method in ("GET",):
                    raise
                out_type = JSON
            res, out_type, req = await self._dispatch(scope, method, headers, receive, out_type)
        except NgsiError as e:
            await self._problem(send, e)
            return
        except RecursionError:
            await self._problem(send, BadRequestData("the payload is nested too deeply"))
            return
        except Exception:
            log.exception("internal error in %s %s", method, scope.get("path"))
            await self._problem(send, InternalError("an internal error occurred; see the logs"))
            return
        await self._respond(send, res, out_type, req)

    async def _read_body(self, receive: Callable, headers: dict[str, str]) -> bytes:
        limit = self.config.max_body_bytes
        cl = headers.get("content-length")
        if cl is not None:
            try:
                if int(cl) > limit:
                    raise PayloadTooLarge(f"the payload exceeds {limit} bytes")
            except ValueError:
                raise InvalidRequest("invalid Content-Length") from None
        chunks: list[bytes] = []
        size = 0
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                break
            b = msg.get("body", b"")
            if b:
                size += len(b)
                if size > limit:
                    raise PayloadTooLarge(f"the payload exceeds {limit} bytes")
                chunks.append(b)
            if not msg.get("more_body"):
                break
        return b"".join(chunks)

    async def _dispatch(
        self, scope: dict, method: str, headers: dict[str, str], receive: Callable, out_type: str
    ) -> tuple[Result, str, Req]:
        path: str = scope["path"]
        if not path.startswith(self.base):
            raise ResourceNotFound(f"no such resource: {path}")
        rest = path[len(self.base) :]
        if rest.endswith("/") and rest.count("/") >= 1:
            rest = rest.rstrip("/")
        m = _match(rest)
        if m is None:
            raise ResourceNotFound(f"no such resource: {path}")
        key, args = m
        methods = ROUTES[key]
        entry = methods.get(method)
        if entry is None:
            if key in ("entities", "types", "attributes") and method in ("PUT", "PATCH", "DELETE"):
                raise BadRequestData(f"{method} {path}: missing identifier")
            raise MethodNotAllowed(f"method {method} not allowed on {path}")
        handler, with_body = entry
        if out_type == GEO and key not in GEO_ROUTES:
            raise NotAcceptable("application/geo+json is only available for entities")
        args = [unquote(a) if "%" in a else a for a in args]
        qs = scope.get("query_string", b"")
        params: dict[str, str] = (
            dict(parse_qsl(qs.decode("latin-1"), keep_blank_values=True)) if qs else {}
        )
        allowed = ALLOWED_PARAMS.get((key, method), _BATCH_PARAMS)
        for k in params:
            if k not in allowed:
                raise InvalidRequest(f"unknown query parameter {k!r}")
        tenant = headers.get("ngsild-tenant", "")
        if tenant and not _TENANT_RE.match(tenant):
            raise BadRequestData(f"invalid tenant name {tenant!r}")
        req = Req(tenant=tenant, params=params)
        req.geo = out_type == GEO
        host = headers.get("host", "localhost")
        req.base_url = self.config.public_url or f"{scope.get('scheme', 'http')}://{host}"
        resolver = self.broker.resolver
        link = headers.get("link")
        link_url = parse_link_header(link) if link else None
        raw_ctx: Any = link_url
        if with_body:
            body = await self._read_body(receive, headers)
            ctype = headers.get("content-type")
            mt = _media(ctype) if ctype else ""
            if mt not in (JSON, LD) and not (mt == MERGE and method == "PATCH"):
                if not body and not ctype:
                    raise UnsupportedMediaType("missing Content-Type")
                raise UnsupportedMediaType(f"unsupported Content-Type {ctype!r}")
            if not body:
                raise InvalidRequest("empty payload")
            try:
                data = orjson.loads(body)
            except orjson.JSONDecodeError as e:
                raise InvalidRequest(f"the payload is not valid JSON: {e}") from None
            if not _json_depth_ok(body, self.config.max_json_depth):
                raise BadRequestData("the payload is nested too deeply")
            if mt == LD:
                if link_url is not None:
                    raise BadRequestData(
                        "a Link @context header is not allowed with application/ld+json"
                    )
                if isinstance(data, dict):
                    if "@context" not in data and key not in ("jsonldContexts",):
                        raise BadRequestData("application/ld+json payload without @context")
                    raw_ctx = data.pop("@context", None) if key != "jsonldContexts" else None
                    if raw_ctx is not None:
                        check_context_value(raw_ctx)
                elif isinstance(data, list):
                    # batch: each entity carries its own @context (checked per entity)
                    req.ld = True
            else:
                if key != "jsonldContexts" and isinstance(data, dict) and "@context" in data:
                    raise BadRequestData(
                        "@context in an application/json payload; use"
                        " application/ld+json or a Link header"
                    )
            req.body = data
        req.raw_context = raw_ctx
        req.ctx = resolver.get(raw_ctx)
        if self.config.offload_db:
            res = await asyncio.to_thread(handler, self.broker, req, *args)
        else:
            res = handler(self.broker, req, *args)
        return res, out_type, req

    async def _problem(self, send: Callable, e: NgsiError) -> None:
        body = e.body()
        hdrs = [CT_PROBLEM, (b"content-length", str(len(body)).encode())]
        if e.status == 405:
            hdrs.append((b"allow", b"GET, POST, PUT, PATCH, DELETE"))
        await send({"type": "http.response.start", "status": e.status, "headers": hdrs})
        await send({"type": "http.response.body", "body": body})

    async def _respond(self, send: Callable, res: Result, out_type: str, req: Req) -> None:
        headers = list(res.headers)
        body = b""
        if res.kind in ("entity", "entities", "feature", "features"):
            data = res.body
            link_url: str | None = None
            if res.kind in ("feature", "features"):
                # GeoJSON carries the @context in the body (ETSI 018_05)
                data["@context"] = self._context_value(req)
                headers.append(CT_GEO if out_type == GEO else CT_JSON)
                link_url = self._link_url(req) if out_type != LD else None
            elif out_type == LD:
                ctxval = self._context_value(req)
                if res.kind == "entities":
                    for ent in data:
                        ent["@context"] = ctxval
                else:
                    data["@context"] = ctxval
                headers.append(CT_LD)
            else:
                headers.append(CT_JSON)
                link_url = self._link_url(req)
            if link_url:
                headers.append((b"link", link_header(link_url)))
            body = orjson.dumps(data)
        elif res.kind == "fragments":
            # pre-rendered entities (JSON bytes) of a query
            frags = res.body
            if out_type == LD:
                ctxb = b',"@context":' + orjson.dumps(self._context_value(req)) + b"}"
                frags = [f[:-1] + ctxb if len(f) > 2 else b"{" + ctxb[1:] for f in frags]
                headers.append(CT_LD)
            else:
                headers.append(CT_JSON)
                headers.append((b"link", link_header(self._link_url(req))))
            body = b"[" + b",".join(frags) + b"]"
        elif res.kind == "raw":
            headers.append(CT_JSON)
            body = orjson.dumps(res.body)
        elif res.kind == "document":
            headers.append(CT_LD if out_type == LD else CT_JSON)
            body = orjson.dumps(res.body)
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": res.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _context_value(self, req: Req) -> Any:
        """``@context`` of an ld+json response: the request's context, else the core URL."""
        raw = req.raw_context
        return self.config.core_context_url if raw is None else raw

    def _link_url(self, req: Req) -> str:
        raw = req.raw_context
        if raw is None:
            return self.config.core_context_url
        if isinstance(raw, str):
            return raw
        sc = self.broker.resolver.implicit(
            raw, req.base_url + self.config.base_path + "/jsonldContexts"
        )
        return sc.url


def make_app(config: NgsiConfig | None = None) -> NgsiApp:
    """The ASGI application for a configuration (one per worker process)."""
    return NgsiApp(config)


def app_from_env() -> NgsiApp:
    """Factory for granian/uvicorn: configuration from ``HERZSTADT_*`` / ``DATABASE_URL``."""
    logging.basicConfig(level=logging.INFO)
    return NgsiApp(NgsiConfig.from_env())
