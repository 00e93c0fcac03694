"""Distributed provision: writes of one entity forwarded to the sources of matching
registrations (ETSI GS CIM 009 4.3.6.3).

``inclusive`` sources get the whole request and it is done here too; ``exclusive`` ones get
the attributes they are registered for, which are then not written here; ``redirect`` ones get
the request and, when registered for the whole entity (no attribute names), nothing is written
here; ``auxiliary`` ones are never written to. If every part succeeds the answer is the
operation's usual one; if a part fails (here or at a source), 207 with ``success`` and
``errors`` (each error with ``entityId`` and, for a source, its ``registrationId``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, wraps
from typing import Any
from urllib.parse import quote

from .. import model
from ..broker import NO_CONTENT, Kind, Result
from ..errors import NgsiError, ResourceNotFound
from .client import Answer
from .forward import AUXILIARY, EXCLUSIVE, INCLUSIVE, REDIRECT, Source, problem_of
from .reads import is_local

_RESERVED = frozenset({"id", "@id", "type", "@type", "@context", "scope"})
Handler = Callable[..., Result]


def _body_attrs(body: Any, ctx: Any) -> list[str]:
    if not isinstance(body, dict):
        return []
    return [ctx.expand(k) for k in body if k not in _RESERVED]


def _restrict(body: Any, names: set[str], ctx: Any, keep: bool) -> Any:
    """The body with only (keep) / without (not keep) the attributes ``names``."""
    if not isinstance(body, dict):
        return body
    return {k: v for k, v in body.items() if k in _RESERVED or ((ctx.expand(k) in names) == keep)}


#: query parameters with their default value: not sent on (the source applies the default)
_DEFAULTS = frozenset({("deleteAll", "false"), ("local", "false")})


def passed_on(req: Any, path: str = "") -> dict[str, str]:
    """The write's query parameters for a source: without ``local`` and default values
    (``options=replace`` of an upsert is its default)."""
    out: dict[str, str] = {}
    for k, v in (req.query or {}).items():
        if (
            k == "local"
            or (k, v) in _DEFAULTS
            or (path == "upsert" and (k, v) == ("options", "replace"))
        ):
            continue
        out[k] = v
    return out


def _may_forward(broker: Any, req: Any, eid: str, types: list[str] | None) -> bool:
    """A client restricted to some entity types writes at a source only entities whose types
    are known (in the payload, else of the local copy) and within its types: forwarding is no
    way around the restriction."""
    if req.principal.entity_types is None:
        return True
    if not types:
        doc = broker.store.get(req.tenant, eid)
        types = doc.get("type") if doc is not None else None
    return bool(types) and bool(req.principal.may_touch(types))


def distributed(operation: str, method: str, kind: str) -> Callable[[Handler], Handler]:
    """Wrap a write use case: ``kind`` is ``create`` (id in the body), ``entity``
    (``/entities/{id}``), ``attrs`` (``/entities/{id}/attrs``) or ``attr``
    (``/entities/{id}/attrs/{attrId}``)."""

    def wrap(handler: Handler) -> Handler:
        @wraps(handler)
        def run(broker: Any, req: Any, params: Any, *args: str) -> Result:
            fw = broker.forwarder
            if not fw.enabled or is_local(req):
                return handler(broker, req, params, *args)
            body = req.body
            ctx = req.ctx
            if kind == "create":
                eid = body.get("id", body.get("@id")) if isinstance(body, dict) else None
            else:
                eid = args[0] if args else None
            if not isinstance(eid, str) or ctx is None or not model.is_uri(eid):
                return handler(broker, req, params, *args)
            if kind == "create":
                try:  # an invalid entity is refused here, before anything is sent on
                    model.parse_entity(body, ctx, model.now_iso())
                except NgsiError:
                    return handler(broker, req, params, *args)
            types = None
            if isinstance(body, dict) and isinstance(body.get("type"), (str, list)):
                t = body["type"]
                types = [ctx.expand(x) for x in ([t] if isinstance(t, str) else t)]
                types = [x for x in types if isinstance(x, str)] or None
            if not _may_forward(broker, req, eid, types):
                return handler(broker, req, params, *args)
            attr = ctx.expand(args[1]) if kind == "attr" and len(args) > 1 else None
            attrs = [attr] if attr else (_body_attrs(body, ctx) or None)
            try:
                srcs = [
                    s
                    for s in fw.sources(
                        broker, req, operation, entity_id=eid, types=types, attrs=attrs
                    )
                    if s.mode != AUXILIARY
                ]
            except NgsiError:
                srcs = []
            if not srcs:
                return handler(broker, req, params, *args)
            path = "/entities"
            if kind != "create":
                path += "/" + quote(eid, safe=":")
            if kind == "attrs":
                path += "/attrs/"  # the resource as the spec writes it (6.6.3)
            if kind == "attr" and len(args) > 1:
                path += "/attrs/" + quote(args[1], safe=":")
            query = passed_on(req)
            skip_local = False
            drop: set[str] = set()
            calls: list[tuple[Source, Callable[[], Answer]]] = []
            for s in srcs:
                names = s.attr_names()
                fwd = body
                if s.mode in (EXCLUSIVE, REDIRECT):
                    if names is None:
                        skip_local = True
                    else:
                        drop |= names
                        fwd = _restrict(body, names, ctx, keep=True)
                elif s.mode == INCLUSIVE and names is not None and kind in ("attrs",):
                    fwd = _restrict(body, names, ctx, keep=True)
                calls.append((s, partial(fw.send, s, req, method, path, query, fwd)))
            if attr is not None and attr in drop:
                skip_local = True
            local_body = body
            if drop and isinstance(body, dict):
                before = _body_attrs(body, ctx)
                local_body = _restrict(body, drop, ctx, keep=False)
                if before and not _body_attrs(local_body, ctx):
                    skip_local = True
            answers = fw.fan_out(calls)
            errors: list[dict[str, Any]] = []
            success: list[Any] = []
            local_res: Result | None = None
            local_missing: dict[str, Any] | None = None
            if not skip_local:
                req.body = local_body
                try:
                    local_res = handler(broker, req, params, *args)
                    success.append(eid)
                except ResourceNotFound as e:
                    entry = {"entityId": eid, "error": e.problem()}
                    if kind == "attr" and broker.store.get(req.tenant, eid) is not None:
                        # the entity is here, the attribute (instance) is at the source
                        local_missing = entry
                    else:
                        errors.append(entry)
                except NgsiError as e:
                    errors.append({"entityId": eid, "error": e.problem()})
                finally:
                    req.body = body
            for s, ans in answers:
                if ans is not None and 200 <= ans.status < 300 and ans.status != 207:
                    success.append({"entityId": eid, "registrationId": s.id})
                else:
                    errors.append(problem_of(s, ans, eid))
            if local_missing is not None and not success:
                errors.insert(0, local_missing)  # not here and no source took it either
            if errors:
                return Result(207, {"success": success, "errors": errors}, Kind.RAW)
            if local_res is not None:
                return local_res
            if kind == "create":
                loc = (broker.config.base_path + "/entities/" + eid).encode()
                return Result(201, None, Kind.NONE, [(b"location", loc)])
            return NO_CONTENT

        return run

    return wrap


def _item_ctx(broker: Any, req: Any, item: dict[str, Any]) -> Any:
    if "@context" in item:
        return broker.resolver.get(item["@context"], req.tenant)
    return req.ctx


def distributed_batch(operation: str, path: str) -> Callable[[Handler], Handler]:
    """Wrap a batch use case (``/entityOperations/<path>``): each entity goes to the sources
    whose registrations match it (one request per source), the rest is done here."""

    def wrap(handler: Handler) -> Handler:
        @wraps(handler)
        def run(broker: Any, req: Any, params: Any, *args: str) -> Result:
            fw = broker.forwarder
            body = req.body
            if not fw.enabled or is_local(req) or not isinstance(body, list) or not body:
                return handler(broker, req, params, *args)
            regs = [(r, s) for r, s in fw.registrations(broker, req, operation)]
            regs = [(r, s) for r, s in regs if s.mode != AUXILIARY]
            if not regs:
                return handler(broker, req, params, *args)
            per_src: dict[int, list[Any]] = {}
            local: list[Any] = []
            try:
                for item in body:
                    if isinstance(item, str):  # delete: a list of ids
                        eid, types, attrs, ctx = item, None, None, None
                    elif isinstance(item, dict) and isinstance(item.get("id"), str):
                        ctx = _item_ctx(broker, req, item)
                        eid = item["id"]
                        t = item.get("type")
                        tl = [t] if isinstance(t, str) else t if isinstance(t, list) else []
                        types = [ctx.expand(x) for x in tl if isinstance(x, str)] or None
                        attrs = _body_attrs(item, ctx) or None
                    else:
                        local.append(item)
                        continue
                    keep_local: Any = item
                    drop: set[str] = set()
                    if not _may_forward(broker, req, eid, types):
                        local.append(item)  # here only; the local use case checks it
                        continue
                    for n, (r, s) in enumerate(regs):
                        if not r.matches(types, [eid], None, attrs):
                            continue
                        names = s.attr_names()
                        fwd = item
                        if s.mode in (EXCLUSIVE, REDIRECT):
                            if names is None:
                                keep_local = None
                            else:
                                drop |= names
                                fwd = _restrict(item, names, ctx, keep=True)
                        per_src.setdefault(n, []).append(fwd)
                    if keep_local is not None and drop and isinstance(item, dict):
                        had = _body_attrs(item, ctx)
                        keep_local = _restrict(item, drop, ctx, keep=False)
                        if had and not _body_attrs(keep_local, ctx):
                            keep_local = None
                    if keep_local is not None:
                        local.append(keep_local)
            except NgsiError:
                return handler(broker, req, params, *args)  # the local parser reports it
            if not per_src:
                return handler(broker, req, params, *args)
            query = passed_on(req, path)
            calls: list[tuple[Source, Callable[[], Answer]]] = []
            for n, items in per_src.items():
                s = regs[n][1]
                calls.append(
                    (s, partial(fw.send, s, req, "POST", "/entityOperations/" + path, query, items))
                )
            answers = fw.fan_out(calls)
            success: list[Any] = []
            errors: list[dict[str, Any]] = []
            created: list[Any] = []
            if local:
                req.body = local
                try:
                    res = handler(broker, req, params, *args)
                except NgsiError as e:
                    res = Result(e.status, None)
                    errors.append({"entityId": "", "error": e.problem()})
                finally:
                    req.body = body
                if res.status == 207 and isinstance(res.body, dict):
                    success.extend(res.body.get("success") or [])
                    errors.extend(res.body.get("errors") or [])
                elif res.status == 201 and isinstance(res.body, list):
                    created.extend(res.body)
                    success.extend(res.body)
            for s, ans in answers:
                ids = [x if isinstance(x, str) else x.get("id") for x in per_src[_index(regs, s)]]
                if ans is not None and 200 <= ans.status < 300 and ans.status != 207:
                    for i in ids:
                        if i not in created and path == "create":
                            created.append(i)
                        success.append(i)
                else:
                    errors.extend(problem_of(s, ans, i) for i in ids)
            if errors:
                return Result(207, {"success": success, "errors": errors}, Kind.RAW)
            if path == "create":
                return Result(201, created, Kind.RAW)
            return NO_CONTENT

        return run

    return wrap


def _index(regs: list[tuple[Any, Source]], src: Source) -> int:
    for n, (_, s) in enumerate(regs):
        if s is src:
            return n
    raise KeyError(src.id)


def distributed_purge(handler: Handler) -> Handler:
    """DELETE /entities (purge): sent on to the sources registered for the types asked."""
    from .reads import simple_names

    @wraps(handler)
    def run(broker: Any, req: Any, params: Any, *args: str) -> Result:
        fw = broker.forwarder
        if not fw.enabled or is_local(req) or req.ctx is None:
            return handler(broker, req, params, *args)
        query = passed_on(req)
        types = simple_names(query.get("type"), req.ctx)
        srcs = [
            s for s in fw.sources(broker, req, "purgeEntity", types=types) if s.mode != AUXILIARY
        ]
        if not srcs:
            return handler(broker, req, params, *args)
        calls: list[tuple[Source, Callable[[], Answer]]] = [
            (s, partial(fw.send, s, req, "DELETE", "/entities", query)) for s in srcs
        ]
        answers = fw.fan_out(calls)
        errors: list[dict[str, Any]] = []
        res: Result = NO_CONTENT
        if not any(s.mode in (EXCLUSIVE, REDIRECT) and s.attr_names() is None for s in srcs):
            try:
                res = handler(broker, req, params, *args)
            except NgsiError as e:
                if not isinstance(e, ResourceNotFound):
                    errors.append({"error": e.problem()})
        errors.extend(
            problem_of(s, ans)
            for s, ans in answers
            if ans is None or not 200 <= ans.status < 300 or ans.status == 207
        )
        if errors:
            return Result(207, {"success": [], "errors": errors}, Kind.RAW)
        return res

    return run
