"""Raw ASGI 3 application serving the NGSI-LD API (no framework).

``make_app(config)`` returns the app; herzstadt's main ASGI app mounts it at ``/ngsi-ld/`` and passes
the full path. Standalone: ``granian --interface asgi --factory herzstadt.ngsi.asgi:app_from_env``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import re
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote

import orjson

from .auth import (
    CachingVerifier,
    DenyAllVerifier,
    KeyFileVerifier,
    Principal,
    TenantPolicy,
    Verifier,
    anonymous_principal,
    open_principal,
)
from .config import NgsiConfig, parse_bool
from .errors import (
    BadRequestData,
    Forbidden,
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    NgsiError,
    NonexistentTenant,
    NotAcceptable,
    PayloadTooLarge,
    ResourceNotFound,
    Unauthorized,
    UnsupportedMediaType,
)
from .jsonld import check_context_value, link_header, parse_link_header
from .model import weighted_items
from .routes import ROUTER, Op, Route, Router
from .service import Broker, Kind, Req, Result
from .tenants import ensure_tenant

log = logging.getLogger("herzstadt.ngsi")

JSON = "application/json"
LD = "application/ld+json"
GEO = "application/geo+json"
MERGE = "application/merge-patch+json"

CT_JSON = (b"content-type", b"application/json")
CT_LD = (b"content-type", b"application/ld+json")
CT_GEO = (b"content-type", b"application/geo+json")
CT_PROBLEM = (b"content-type", b"application/json")
NOSNIFF = (b"x-content-type-options", b"nosniff")
#: RFC 7235 challenges of a 401: OAuth2 bearer tokens or API keys
WWW_AUTHENTICATE = (
    b"www-authenticate",
    b'Bearer realm="herzstadt NGSI-LD", ApiKey realm="herzstadt NGSI-LD"',
)
CORS_HEADERS = "Accept, Content-Type, Link, NGSILD-Tenant, Authorization, X-API-Key"
CORS_EXPOSE = b"Location, Link, NGSILD-Results-Count, NGSILD-Tenant, Content-Type"

_TENANT_RE = re.compile(r"^[A-Za-z0-9_\-.:/]{1,128}$")


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


def _json_depth_ok(body: bytes, data: Any, limit: int) -> bool:
    """Whether the parsed JSON ``data`` (of the text ``body``) nests at most ``limit`` levels.

    Fast path: a text with at most ``limit`` opening brackets cannot nest deeper. Otherwise the
    parsed value is walked (iteratively; brackets inside strings cannot fool it).
    """
    if body.count(b"{") + body.count(b"[") <= limit:
        return True
    stack: list[tuple[Any, int]] = [(data, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        v, d = pop()
        if d > limit:
            return False
        for x in v.values() if type(v) is dict else v:
            t = type(x)
            if t is dict or t is list:
                push((x, d + 1))
    return True


def _host_matcher(allowed: list[str]) -> Callable[[str], bool]:
    """Django's ``ALLOWED_HOSTS`` semantics: exact names, ``.example.org`` (it and its
    subdomains), ``*`` (any)."""
    exact = {h.lower() for h in allowed if not h.startswith(".") and h != "*"}
    suffixes = tuple(h.lower() for h in allowed if h.startswith("."))
    if "*" in allowed:
        return lambda host: True

    def ok(host: str) -> bool:
        return host in exact or (
            bool(suffixes) and (host.endswith(suffixes) or "." + host in suffixes)
        )

    return ok


def _host_name(host: str) -> str:
    """The host of a Host header, without the port, lower case (``[::1]`` stays bracketed)."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end > 0 else ""
    return host.rsplit(":", 1)[0] if ":" in host else host


def _credentials(headers: dict[str, str]) -> tuple[str, str] | None:
    """(scheme, credential) of the request: ``X-API-Key``, ``Authorization: ApiKey …`` or
    ``Authorization: Bearer …``; ("", "") for an Authorization header of another form."""
    key = headers.get("x-api-key")
    if key is not None:
        return "apikey", key.strip()
    auth = headers.get("authorization")
    if auth is None:
        return None
    scheme, _, cred = auth.strip().partition(" ")
    scheme = scheme.lower()
    if scheme in ("bearer", "apikey") and cred.strip():
        return scheme, cred.strip()
    return "", ""


class Workers:
    """The threads that run use cases off the event loop (a lean executor: one queue, results
    handed back with ``call_soon_threadsafe``; a thread starts whenever more tasks are
    outstanding than threads exist, up to ``size``)."""

    def __init__(self, size: int, name: str = "ngsi"):
        self.size = max(1, size)
        self.name = name
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.threads: list[threading.Thread] = []
        self.outstanding = 0  # queued or running
        self.lock = threading.Lock()
        self.closed = False

    def run(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """Run ``fn(*args)`` in a worker thread; await the returned future for its result."""
        if self.closed:
            raise RuntimeError("the workers are shut down")
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        with self.lock:
            self.outstanding += 1
            spawn = self.outstanding > len(self.threads) and len(self.threads) < self.size
            if spawn:
                t = threading.Thread(
                    target=self._work, name=f"{self.name}-{len(self.threads)}", daemon=True
                )
                self.threads.append(t)
        if spawn:
            t.start()
        self.queue.put((loop, fut, fn, args))
        return fut

    def _work(self) -> None:
        get = self.queue.get
        while True:
            item = get()
            if item is None:
                return
            loop, fut, fn, args = item
            try:
                result, exc = fn(*args), None
            except BaseException as e:  # handed to the awaiting coroutine
                result, exc = None, e
            with self.lock:
                self.outstanding -= 1
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(_resolve, fut, result, exc)
            del item, fut, result, exc

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop taking tasks and let the running ones finish (waits up to ``timeout`` s): a
        use case must not be cut off while the interpreter exits."""
        self.closed = True
        for _ in self.threads:
            self.queue.put(None)
        deadline = time.monotonic() + timeout
        for t in self.threads:
            if t is not threading.current_thread():
                t.join(max(0.0, deadline - time.monotonic()))


def _resolve(fut: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if fut.cancelled():
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result)


class _State:
    """What the HTTP layer learns while a request runs (for the response headers)."""

    __slots__ = ("allow_origin",)

    def __init__(self) -> None:
        self.allow_origin: str | None = None


class NgsiApp:
    """The ASGI callable; one per worker process (it owns a store connection).

    Every use case runs in a thread of the app's pool, never on the event loop: authentication
    (the verifier may ask a database), @context resolution (may fetch), parsing and the store.
    """

    def __init__(
        self,
        config: NgsiConfig | None = None,
        broker: Broker | None = None,
        *,
        verifier: Verifier | None = None,
        router: Router = ROUTER,
    ):
        self.config = config or NgsiConfig()
        c = self.config
        self.broker = broker or Broker(c)
        self.base = c.base_path.rstrip("/") + "/"
        self.router = router
        self.public_url = self.broker.public_url
        self.host_ok = _host_matcher(c.allowed_hosts)
        self.workers = Workers(c.handler_threads)
        self.verifier: CachingVerifier | None = None
        if not c.open_access:
            if verifier is None:
                if c.api_keys_file:
                    verifier = KeyFileVerifier(c.api_keys_file)
                else:
                    verifier = DenyAllVerifier()
                    log.warning(
                        "NGSI-LD broker without a verifier and without open access: every"
                        " request but reading @contexts is refused (set"
                        " HERZSTADT_NGSI_API_KEYS_FILE, or HERZSTADT_NGSI_OPEN_ACCESS=1 for"
                        " experiments)"
                    )
            self.verifier = CachingVerifier(
                verifier, ttl=c.auth_cache_ttl, max_entries=c.auth_cache_entries
            )

    async def __call__(
        self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
    ) -> None:
        typ = scope["type"]
        if typ == "http":
            await self._http(scope, receive, send)
        elif typ == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    self.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    def close(self) -> None:
        self.workers.shutdown()
        self.broker.close()

    async def _http(
        self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
    ) -> None:
        method = scope["method"]
        headers: dict[str, str] = {}
        for k, v in scope["headers"]:
            headers[k.decode("latin-1").lower()] = v.decode("latin-1")
        state = _State()
        try:
            if not self.host_ok(_host_name(headers.get("host", ""))):
                raise BadRequestData("invalid Host header")
            route, args = self._route(scope)
            if method == "OPTIONS" and "access-control-request-method" in headers:
                hdrs = await self.workers.run(self._preflight, route, headers)
                await self._send(send, 204, hdrs, b"")
                return
            op = route.methods.get(method)
            if op is None:
                if route.missing_id and method in ("PUT", "PATCH", "DELETE"):
                    raise BadRequestData(f"{method} {scope['path']}: missing identifier")
                raise MethodNotAllowed(
                    f"method {method} not allowed on {scope['path']}", allow=route.allow
                )
            try:
                out_type = _negotiate(headers.get("accept"))
            except NotAcceptable:
                if method != "GET":
                    out_type = JSON
                else:
                    raise
            if out_type == GEO and not op.geo:
                raise NotAcceptable("application/geo+json is only available for entities")
            body = await self._read_body(receive, headers) if op.body else None
            res, req = await self.workers.run(
                self._execute, scope, route, op, args, headers, body, out_type, state
            )
        except NgsiError as e:
            await self._problem(send, e, state)
            return
        except RecursionError:
            await self._problem(send, BadRequestData("the payload is nested too deeply"), state)
            return
        except Exception:
            log.exception("internal error in %s %s", method, scope.get("path"))
            await self._problem(
                send, InternalError("an internal error occurred; see the logs"), state
            )
            return
        await self._respond(send, res, out_type, req, state)

    def _route(self, scope: dict[str, Any]) -> tuple[Route, list[str]]:
        path: str = scope["path"]
        if not path.startswith(self.base):
            raise ResourceNotFound(f"no such resource: {path}")
        rest = path[len(self.base) :]
        if rest.endswith("/") and rest.count("/") >= 1:
            rest = rest.rstrip("/")
        m = self.router.match(rest)
        if m is None:
            raise ResourceNotFound(f"no such resource: {path}")
        route, args = m
        return route, [unquote(a) if "%" in a else a for a in args]

    async def _read_body(self, receive: Callable[..., Any], headers: dict[str, str]) -> bytes:
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

    # ------------------------------------------------------------------ off the event loop
    def _tenant_header(self, headers: dict[str, str]) -> str | None:
        tenant = headers.get("ngsild-tenant")
        if tenant and not _TENANT_RE.match(tenant):
            raise BadRequestData(f"invalid tenant name {tenant!r}")
        return tenant or None

    def _principal(
        self, op: Op, headers: dict[str, str]
    ) -> tuple[Principal, str, TenantPolicy | None]:
        """Who acts in which tenant (401/403/404 as the rules of docs/ngsi-ld.md say)."""
        tenant = self._tenant_header(headers)
        verifier = self.verifier
        if verifier is None:  # open access
            return open_principal(tenant or ""), tenant or "", None
        creds = _credentials(headers)
        principal: Principal | None = None
        if creds is not None:
            scheme, cred = creds
            principal = verifier.authenticate(scheme, cred) if scheme else None
            if principal is None:
                raise Unauthorized("the credentials are not valid")
        elif op.scope is not None and op.scope != "read":
            raise Unauthorized("this operation needs credentials")
        if tenant is None:
            tenant = principal.tenant if principal is not None else ""
        policy = verifier.tenant_policy(tenant)
        if op.scope is None:  # public: anyone, any tenant
            return (
                principal or Principal("anonymous", tenant, frozenset(), frozenset(), "anonymous"),
                tenant,
                policy,
            )
        if policy is None:
            raise NonexistentTenant(f"tenant {tenant!r} does not exist")
        if principal is None:
            return anonymous_principal(tenant, policy), tenant, policy
        if principal.tenant != tenant:
            raise Forbidden("these credentials are not valid for this tenant")
        if op.scope not in principal.scopes:
            raise Forbidden(f"this operation needs the {op.scope} scope")
        return principal, tenant, policy

    def _cors(self, policy: TenantPolicy | None, headers: dict[str, str], state: _State) -> None:
        origin = headers.get("origin")
        if origin and policy is not None and origin in policy.cors_origins:
            state.allow_origin = origin

    def _preflight(self, route: Route, headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
        """CORS preflight: allowed for the origins of the tenant's policy (the tenant of the
        ``NGSILD-Tenant`` header when given, else the default tenant)."""
        tenant = self._tenant_header(headers) or ""
        policy = self.verifier.tenant_policy(tenant) if self.verifier is not None else None
        origin = headers.get("origin", "")
        hdrs: list[tuple[bytes, bytes]] = [(b"vary", b"Origin")]
        if policy is not None and origin in policy.cors_origins:
            hdrs += [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-allow-methods", route.allow),
                (b"access-control-allow-headers", CORS_HEADERS.encode()),
                (b"access-control-max-age", b"600"),
            ]
        return hdrs

    def _execute(
        self,
        scope: dict[str, Any],
        route: Route,
        op: Op,
        args: list[str],
        headers: dict[str, str],
        body: bytes | None,
        out_type: str,
        state: _State,
    ) -> tuple[Result, Req]:
        if "origin" in headers and self.verifier is not None:
            # CORS headers on errors too (so a dashboard can read why it was refused)
            self._cors(
                self.verifier.tenant_policy(self._tenant_header(headers) or ""), headers, state
            )
        principal, tenant, policy = self._principal(op, headers)
        state.allow_origin = None
        self._cors(policy, headers, state)
        if policy is not None:
            ensure_tenant(self.broker, tenant)
        qs = scope.get("query_string", b"")
        raw: dict[str, str] = (
            dict(parse_qsl(qs.decode("latin-1"), keep_blank_values=True)) if qs else {}
        )
        allowed = op.params
        for k in raw:
            if k not in allowed:
                raise InvalidRequest(f"unknown query parameter {k!r}")
        req = Req(principal=principal, tenant=tenant, base_url=self.public_url)
        req.via = headers.get("via", "")
        req.query = raw
        self.broker.forwarder.check_loop(req.via)
        req.geo = out_type == GEO
        link = headers.get("link")
        link_url = parse_link_header(link) if link else None
        raw_ctx: Any = link_url
        if body is not None:
            contexts = route.pattern == "jsonldContexts"
            raw_ctx = self._body(req, scope["method"], contexts, headers, body, link_url)
        req.raw_context = raw_ctx
        req.ctx = self.broker.resolver.get(raw_ctx, tenant)
        params = op.parse(raw, self.config) if op.parse is not None else None
        return op.handler(self.broker, req, params, *args), req

    def _body(
        self,
        req: Req,
        method: str,
        contexts: bool,
        headers: dict[str, str],
        body: bytes,
        link_url: str | None,
    ) -> Any:
        """Parse and check the payload into ``req.body``; returns the request's @context
        (``contexts``: a ``POST /jsonldContexts`` payload, whose @context is the content)."""
        ctype = headers.get("content-type")
        mt = _media(ctype) if ctype else ""
        if mt not in (JSON, LD) and not (mt == MERGE and method == "PATCH"):
            if not ctype:
                # no media type named: a payload that is not even JSON is a malformed request
                # (400 InvalidRequest); JSON without its media type is unsupported (415)
                if body:
                    try:
                        orjson.loads(body)
                    except orjson.JSONDecodeError as e:
                        raise InvalidRequest(f"the payload is not valid JSON: {e}") from None
                raise UnsupportedMediaType("missing Content-Type")
            raise UnsupportedMediaType(f"unsupported Content-Type {ctype!r}")
        if not body:
            raise InvalidRequest("empty payload")
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as e:
            raise InvalidRequest(f"the payload is not valid JSON: {e}") from None
        if not _json_depth_ok(body, data, self.config.max_json_depth):
            raise BadRequestData("the payload is nested too deeply")
        raw_ctx: Any = link_url
        if mt == LD:
            if link_url is not None:
                raise BadRequestData(
                    "a Link @context header is not allowed with application/ld+json"
                )
            if isinstance(data, dict):
                if "@context" not in data and not contexts:
                    raise BadRequestData("application/ld+json payload without @context")
                raw_ctx = data.pop("@context", None) if not contexts else None
                if raw_ctx is not None:
                    check_context_value(raw_ctx)
            elif isinstance(data, list):
                # batch: each entity carries its own @context (checked per entity)
                req.ld = True
        elif not contexts and isinstance(data, dict) and "@context" in data:
            raise BadRequestData(
                "@context in an application/json payload; use application/ld+json or a Link header"
            )
        req.body = data
        return raw_ctx

    # ---------------------------------------------------------------------------- responses
    async def _send(
        self, send: Callable[..., Any], status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        headers.append(NOSNIFF)
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _cors_headers(self, state: _State, hdrs: list[tuple[bytes, bytes]]) -> None:
        if state.allow_origin is not None:
            hdrs.append((b"access-control-allow-origin", state.allow_origin.encode("latin-1")))
            hdrs.append((b"access-control-expose-headers", CORS_EXPOSE))
            hdrs.append((b"vary", b"Origin"))

    async def _problem(self, send: Callable[..., Any], e: NgsiError, state: _State) -> None:
        hdrs = [CT_PROBLEM]
        if isinstance(e, MethodNotAllowed):
            hdrs.append((b"allow", e.allow))
        elif isinstance(e, Unauthorized):
            hdrs.append(WWW_AUTHENTICATE)
        self._cors_headers(state, hdrs)
        await self._send(send, e.status, hdrs, e.body())

    async def _respond(
        self, send: Callable[..., Any], res: Result, out_type: str, req: Req, state: _State
    ) -> None:
        headers = list(res.headers)
        body = b""
        kind = res.kind
        if (
            kind is Kind.ENTITY
            or kind is Kind.ENTITIES
            or kind is Kind.FEATURE
            or kind is Kind.FEATURES
        ):
            data = res.body
            link_url: str | None = None
            if kind is Kind.FEATURE or kind is Kind.FEATURES:
                # GeoJSON carries the @context in the body (ETSI 018_05)
                data["@context"] = self._context_value(req)
                headers.append(CT_GEO if out_type == GEO else CT_JSON)
                link_url = self._link_url(req) if out_type != LD else None
            elif out_type == LD:
                ctxval = self._context_value(req)
                if kind is Kind.ENTITIES:
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
        elif kind is Kind.FRAGMENTS:
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
        elif kind is Kind.RAW:
            headers.append(CT_JSON)
            body = orjson.dumps(res.body)
        elif kind is Kind.BYTES:
            headers.append(CT_JSON)
            body = res.body
        elif kind is Kind.DOCUMENT:
            headers.append(CT_LD if out_type == LD else CT_JSON)
            body = orjson.dumps(res.body)
        self._cors_headers(state, headers)
        await self._send(send, res.status, headers, body)

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
            raw, req.base_url + self.config.base_path + "/jsonldContexts", req.tenant
        )
        return sc.url


def make_app(config: NgsiConfig | None = None, *, verifier: Verifier | None = None) -> NgsiApp:
    """The ASGI application for a configuration (one per worker process). Without a verifier
    and without ``open_access`` only anonymous @context reads work (see ``auth``)."""
    return NgsiApp(config, verifier=verifier)


def app_from_env() -> NgsiApp:
    """Factory for granian/uvicorn: configuration from ``HERZSTADT_*`` / ``DATABASE_URL``."""
    logging.basicConfig(level=logging.INFO)
    config = NgsiConfig.from_env()
    app = NgsiApp(config)
    if parse_bool("HERZSTADT_NGSI_NOTIFIER", os.environ.get("HERZSTADT_NGSI_NOTIFIER", "1")):
        # the standalone broker sends notifications itself (one notifier per worker process;
        # they share the work through the database)
        from .notify.runner import start_thread

        start_thread(config)
    from .retention import start_retention

    start_retention(app.broker)  # the temporal API's retention (storage/temporal.py)
    return app
