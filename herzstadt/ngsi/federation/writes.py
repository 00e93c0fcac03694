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

from ..broker import NO_CONTENT, Kind, Result
from ..errors import NgsiError
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
            if not isinstance(eid, str) or ctx is None:
                return handler(broker, req, params, *args)
            types = None
            if isinstance(body, dict) and isinstance(body.get("type"), (str, list)):
                t = body["type"]
                types = [ctx.expand(x) for x in ([t] if isinstance(t, str) else t)]
                types = [x for x in types if isinstance(x, str)] or None
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
            if kind in ("attrs", "attr"):
                path += "/attrs"
            if kind == "attr" and len(args) > 1:
                path += "/" + quote(args[1], safe=":")
            query = {k: v for k, v in (req.query or {}).items() if k != "local"}
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
            if not skip_local:
                req.body = local_body
                try:
                    local_res = handler(broker, req, params, *args)
                    success.append(eid)
                except NgsiError as e:
                    errors.append({"entityId": eid, "error": e.problem()})
                finally:
                    req.body = body
            for s, ans in answers:
                if ans is not None and 200 <= ans.status < 300 and ans.status != 207:
                    success.append({"entityId": eid, "registrationId": s.id})
                else:
                    errors.append(problem_of(s, ans, eid))
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
