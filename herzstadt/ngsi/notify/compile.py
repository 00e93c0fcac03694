"""A subscription document compiled for matching changes and rendering notifications.

The stored subscription keeps the terms as the client wrote them and the URL of its @context
(``jsonldContext``); matching expands them with that context (entity types, watched attributes,
q, geoQ, scopeQ), rendering compacts the notified entities with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from ..broker import apply_projection
from ..errors import BadRequestData
from ..jsonld import Context
from ..model import RenderOptions
from ..query import (
    CompiledPattern,
    QuerySyntaxError,
    TypeExpr,
    compile_matcher,
    compile_pattern,
    parse_query,
    parse_type_expr,
    type_matches,
)

TRIGGERS = frozenset(
    {
        "entityCreated",
        "entityUpdated",
        "entityDeleted",
        "attributeCreated",
        "attributeUpdated",
        "attributeDeleted",
    }
)
DEFAULT_TRIGGERS = ("attributeCreated", "attributeUpdated")
FORMATS = frozenset({"normalized", "keyValues", "simplified", "concise"})


@dataclass(slots=True)
class Selector:
    id: str | None
    pattern: CompiledPattern | None
    type: TypeExpr | None


@dataclass(slots=True)
class CompiledSub:
    tenant: str
    sid: str
    doc: dict[str, Any]
    ctx: Context
    selectors: list[Selector]
    watched: frozenset[str] | None
    triggers: frozenset[str]
    matcher: Callable[[dict[str, Any]], bool] | None
    ro: RenderOptions
    throttling: float
    time_interval: float
    target: dict[str, Any] = field(default_factory=dict)
    show_changes: bool = False
    join: str | None = None  # flat | inline (linked entities)
    join_level: int = 1

    def active(self, now: dt.datetime) -> bool:
        if self.doc.get("isActive", True) is False:
            return False
        exp = self.doc.get("expiresAt")
        return not (isinstance(exp, str) and parse_time(exp) <= now)

    def selects(self, eid: str, types: list[str]) -> bool:
        allowed = self.doc.get("_principalTypes")
        if allowed is not None and (not types or not all(t in allowed for t in types)):
            return False  # the subscriber may not read entities of this type
        if not self.selectors:
            return True
        have = set(types)
        for s in self.selectors:
            if s.id is not None and s.id != eid:
                continue
            if s.pattern is not None and not s.pattern.search(eid):
                continue
            if s.type is not None and not type_matches(s.type, have, self.ctx.expand):
                continue
            return True
        return False


def parse_time(value: str) -> dt.datetime:
    t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


def _names(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise BadRequestData(f"{what} must be an array of names")
    return value


def compile_sub(tenant: str, doc: dict[str, Any], ctx: Context) -> CompiledSub:
    """Compile (and so validate) a subscription; ``BadRequestData`` for what cannot work."""
    expand = ctx.expand
    selectors: list[Selector] = []
    try:
        for e in doc.get("entities") or []:
            pat = e.get("idPattern")
            ty = e.get("type")
            selectors.append(
                Selector(
                    e.get("id"),
                    compile_pattern(pat, "idPattern") if isinstance(pat, str) else None,
                    parse_type_expr(ty) if isinstance(ty, str) else None,
                )
            )
        geo = doc.get("geoQ")
        if geo is not None and not isinstance(geo, dict):
            raise BadRequestData("geoQ must be an object")
        coords = geo.get("coordinates") if geo else None
        q = doc.get("q")
        if isinstance(q, str) and "%" in q:
            q = unquote(q)  # written as in a URL (the ETSI suite: name=="Eiffel%20Tower")
        query = parse_query(
            q=q,
            scopeQ=doc.get("scopeQ"),
            georel=geo.get("georel") if geo else None,
            geometry=geo.get("geometry") if geo else None,
            coordinates=coords
            if isinstance(coords, (str, list)) or coords is None
            else str(coords),
            geoproperty=geo.get("geoproperty") if geo else None,
        )
    except QuerySyntaxError as e:
        raise BadRequestData(f"invalid {e.param}: {e.detail}") from None
    matcher = None
    if query.q is not None or query.geo is not None or query.scope_q is not None:
        matcher = compile_matcher(query, expand)
    watched = doc.get("watchedAttributes")
    notif = doc.get("notification") or {}
    triggers = doc.get("notificationTrigger") or list(DEFAULT_TRIGGERS)
    fmt = notif.get("format", "normalized")
    ro = RenderOptions(
        key_values=fmt in ("keyValues", "simplified"),
        concise=fmt == "concise",
        sys_attrs=notif.get("sysAttrs") is True,
    )
    attrs = notif.get("attributes")
    if attrs:
        ro.attrs = frozenset(expand(a) for a in _names(attrs, "notification.attributes"))
    if notif.get("pick"):
        ro.pick_tree = {a: None for a in _names(notif["pick"], "notification.pick")}
    if notif.get("omit"):
        ro.omit_tree = {a: None for a in _names(notif["omit"], "notification.omit")}
    apply_projection(ro, ctx)
    ds = doc.get("datasetId")
    if isinstance(ds, str):
        ds = [ds]
    if isinstance(ds, list) and ds:
        ro.dataset_id = frozenset(ds)
    ep = notif.get("endpoint") or {}
    return CompiledSub(
        tenant=tenant,
        sid=doc["id"],
        doc=doc,
        ctx=ctx,
        selectors=selectors,
        watched=frozenset(expand(a) for a in watched) if watched else None,
        triggers=frozenset(triggers),
        matcher=matcher,
        ro=ro,
        throttling=float(doc.get("throttling") or 0),
        time_interval=float(doc.get("timeInterval") or 0),
        show_changes=notif.get("showChanges") is True,
        join=notif.get("join") if notif.get("join") in ("flat", "inline") else None,
        join_level=max(1, min(10, int(notif.get("joinLevel") or 1))),
        target={
            "uri": ep.get("uri"),
            "accept": ep.get("accept", "application/json"),
            "receiverInfo": ep.get("receiverInfo") or [],
            "notifierInfo": ep.get("notifierInfo") or [],
            "context": doc.get("jsonldContext") or doc.get("_notifyContext"),
        },
    )
