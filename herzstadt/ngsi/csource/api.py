"""``/csourceRegistrations`` (ETSI GS CIM 009 5.9 registration, 5.10 discovery).

Registrations are stored expanded (``registry``) and compacted with the @context of each request
that reads them. Creating, changing and deleting needs the ADMIN scope (routes); the endpoint of
a registration must be on ``HERZSTADT_NGSI_CSOURCE_HOSTS`` (no broker-side requests to hosts a
client chose). Every change is matched against the tenant's csource subscriptions in the same
transaction (``subs.on_change``), which queue their notifications in the notifier's outbox.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from .. import model, query
from ..broker import NO_CONTENT, Broker, Kind, Req, Result, clone_json
from ..config import NgsiConfig
from ..errors import AlreadyExists, BadRequestData, Conflict, ResourceNotFound
from ..notify.compile import parse_time
from ..params import Paging, Params
from . import registry, schema, subs

_TIMERELS = ("before", "after", "between")


def _policy(broker: Broker) -> Any:
    c = broker.config
    return registry.policy(c.csource_hosts, c.csource_allow_private)


def _check_id(rid: str) -> None:
    if not model.is_uri(rid):
        raise BadRequestData(f"registration id is not a URI: {rid!r}")


# ------------------------------------------------------------------------------ parameters
@dataclass(frozen=True, slots=True)
class CsrQuery:
    """``GET /csourceRegistrations``: which registrations (5.10), paging, representation."""

    types: tuple[str, ...] | None = None  # terms (compact), OR-ed
    type_expr: Any = None  # the parsed type expression (query.parse_type_expr)
    ids: tuple[str, ...] | None = None
    id_pattern: str | None = None
    attrs: tuple[str, ...] | None = None
    q: Any = None  # parsed q (over the registration's own members)
    csf: Any = None  # parsed csf (same language)
    geo: Any = None  # query.GeoQuery
    timerel: str | None = None
    time_at: dt.datetime | None = None
    end_time_at: dt.datetime | None = None
    timeproperty: str = "observedAt"
    paging: Paging = field(default_factory=lambda: Paging(20))
    sys_attrs: bool = False

    @classmethod
    def parse(cls, p: Params, config: NgsiConfig) -> CsrQuery:
        paging = Paging.parse(p, config)
        present = [
            k for k in ("type", "id", "idPattern", "attrs", "q", "csf", "georel") if p.get(k)
        ]
        if not present:
            raise BadRequestData(
                "a discovery needs at least one of type, attrs, id, idPattern, q, csf or a geo-query"
            )
        try:
            type_expr = query.parse_type_expr(p["type"]) if p.get("type") else None
            ids = None
            if p.get("id"):
                ids = tuple(i.strip() for i in p["id"].split(",") if i.strip())
                bad = [i for i in ids if not model.is_uri(i)]
                if bad:
                    raise BadRequestData(f"id is not a URI: {bad[0]!r}")
            idp = p.get("idPattern") or None
            if idp is not None:
                query.compile_pattern(idp, "idPattern")
            q = query.parse_q(p["q"]) if p.get("q") else None
            csf = query.parse_q(p["csf"]) if p.get("csf") else None
            geo = None
            if any(p.get(k) for k in ("georel", "geometry", "coordinates")):
                geo = query.parse_geo_query(
                    p.get("georel"),
                    p.get("geometry"),
                    p.get("coordinates"),
                    p.get("geoproperty") or None,
                )
        except query.QuerySyntaxError as e:
            raise BadRequestData(str(e)) from None
        attrs = None
        if p.get("attrs"):
            attrs = tuple(a.strip() for a in p["attrs"].split(",") if a.strip())
        timerel = p.get("timerel") or None
        time_at = end_at = None
        if timerel is not None:
            if timerel not in _TIMERELS:
                raise BadRequestData("timerel must be before, after or between")
            if not p.get("timeAt"):
                raise BadRequestData("timerel needs timeAt")
            time_at = parse_time(model.check_datetime(p["timeAt"], "timeAt"))
            if timerel == "between":
                if not p.get("endTimeAt"):
                    raise BadRequestData("timerel=between needs endTimeAt")
                end_at = parse_time(model.check_datetime(p["endTimeAt"], "endTimeAt"))
                if end_at <= time_at:
                    raise BadRequestData("endTimeAt must be after timeAt")
        elif p.get("timeAt") or p.get("endTimeAt"):
            raise BadRequestData("timeAt needs timerel")
        tp = p.get("timeproperty") or "observedAt"
        if tp not in ("observedAt", "createdAt", "modifiedAt"):
            raise BadRequestData("timeproperty must be observedAt, createdAt or modifiedAt")
        gp = geo.geoproperty if geo is not None else None
        if gp is not None and gp not in registry.GEO_MEMBERS:
            raise BadRequestData("geoproperty must be location, observationSpace or operationSpace")
        return cls(
            types=None,
            type_expr=type_expr,
            ids=ids,
            id_pattern=idp,
            attrs=attrs,
            q=q,
            csf=csf,
            geo=geo,
            timerel=timerel,
            time_at=time_at,
            end_time_at=end_at,
            timeproperty=tp,
            paging=paging,
            sys_attrs="sysAttrs" in (p.get("options") or ""),
        )


@dataclass(frozen=True, slots=True)
class CsrOptions:
    sys_attrs: bool = False

    @classmethod
    def parse(cls, p: Params, config: NgsiConfig) -> CsrOptions:
        return cls("sysAttrs" in (p.get("options") or ""))


# ------------------------------------------------------------------------------- rendering
def render(req: Req, doc: dict[str, Any], sys_attrs: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = clone_json(doc)
    out.pop(registry.CONTEXT, None)
    if req.ctx is not None:
        out = registry.compact(out, req.ctx.compact)
    if not sys_attrs:
        out.pop("createdAt", None)
        out.pop("modifiedAt", None)
    return out


# ------------------------------------------------------------------------------ use cases
def _exclusive_conflict(cur: Any, p: str, tenant: str, doc: dict[str, Any]) -> None:
    """409 when an exclusive registration would overlap another registration of the same entity
    id and attribute (or an exclusive one already covers what this one registers)."""
    mine = registry.Registration.from_doc(tenant, doc)
    for other_doc in registry.candidates_in(
        cur, p, tenant, [e["type"] for ri in mine.information for e in ri.entities] or None
    ):
        if other_doc["id"] == doc["id"]:
            continue
        other = registry.Registration.from_doc(tenant, other_doc)
        if "exclusive" not in (mine.mode, other.mode):
            continue
        for ri in mine.information:
            for e in ri.entities:
                if "id" not in e:
                    continue
                for ori in other.matching_info([e["type"]], [e["id"]], None, None):
                    if not any("id" in oe and oe["id"] == e["id"] for oe in ori.entities):
                        continue
                    a, b = ri.attrs, ori.attrs
                    if not a or not b or a & b:
                        raise Conflict(
                            f"registration {doc['id']} overlaps the registration {other.id}"
                            " of the same entity and attributes (exclusive mode)"
                        )


def create_registration(broker: Broker, req: Req, params: None = None) -> Result:
    body = req.body
    if not isinstance(body, dict):
        raise BadRequestData("the payload must be a ContextSourceRegistration object")
    registry.validate(body, _policy(broker))
    rid = body.get("id") or f"urn:ngsi-ld:ContextSourceRegistration:{uuid.uuid4().hex}"
    doc = {
        k: v
        for k, v in clone_json(body).items()
        if k not in registry.READ_ONLY and k not in ("@context", registry.CONTEXT) and v is not None
    }
    doc["id"] = rid
    doc.setdefault("mode", "inclusive")
    doc.setdefault("operations", list(registry.DEFAULT_OPERATIONS))
    now = model.now_iso()
    doc["createdAt"] = doc["modifiedAt"] = now
    if req.ctx is not None:
        doc = registry.expand(doc, req.ctx.expand)
    doc[registry.CONTEXT] = req.raw_context
    schema.ensure(broker.store)
    p = broker.store.placeholder
    with broker.write(req, "createRegistration") as tx:
        _exclusive_conflict(tx.cur, p, req.tenant, doc)
        if not registry.insert(tx.cur, p, req.tenant, doc):
            raise AlreadyExists(f"registration {rid} already exists")
        subs.on_change(broker, tx.cur, req.tenant, None, doc)
    return Result(
        201,
        None,
        Kind.NONE,
        [(b"location", (broker.config.base_path + "/csourceRegistrations/" + rid).encode())],
    )


def retrieve_registration(broker: Broker, req: Req, params: CsrOptions | None, rid: str) -> Result:
    _check_id(rid)
    if req.tenant:
        broker.store.check_tenant(req.tenant)
    doc = registry.get(broker.store, req.tenant, rid)
    if doc is None:
        raise ResourceNotFound(f"registration {rid} not found")
    return Result(200, render(req, doc, params.sys_attrs if params else False), Kind.ENTITY)


def _interval_hits(iv: Any, q: CsrQuery) -> bool:
    if not isinstance(iv, dict) or "startAt" not in iv:
        return False
    start = parse_time(iv["startAt"])
    end = parse_time(iv["endAt"]) if iv.get("endAt") else None
    t = q.time_at
    assert t is not None
    if q.timerel == "before":
        return start < t
    if q.timerel == "after":
        return end is None or end > t
    e = q.end_time_at
    assert e is not None
    return start < e and (end is None or end > t)


def _selects(req: Req, q: CsrQuery, reg: registry.Registration) -> bool:
    ctx = req.ctx
    expand = ctx.expand if ctx is not None else (lambda s: s)
    attrs = [expand(a) for a in q.attrs] if q.attrs else None
    hit = False
    for ri in reg.information:
        if not ri.attrs_match(attrs):
            continue
        if not ri.entities:
            if q.ids is None and q.type_expr is None and q.id_pattern is None:
                hit = True
                break
            # no entities: any entity, of any type
            hit = True
            break
        for e in ri.entities:
            if q.type_expr is not None and not query.type_matches(q.type_expr, [e["type"]], expand):
                continue
            if q.ids is not None and not any(registry._id_matches(e, i) for i in q.ids):
                continue
            if (
                q.id_pattern is not None
                and "id" in e
                and not query.compile_pattern(q.id_pattern, "idPattern").search(e["id"])
            ):
                continue
            hit = True
            break
        if hit:
            break
    if not hit:
        return False
    doc = reg.doc
    for expr in (q.q, q.csf):
        if expr is not None:
            qq = query.Query(q=expr)
            if not query.matches(qq, registry.pseudo_entity(doc, expand), expand):
                return False
    if q.geo is not None:
        g = doc.get(q.geo.geoproperty)
        if not isinstance(g, dict) or not q.geo.matches_geometry(g):
            return False
    if q.timerel is not None:
        member = "observationInterval" if q.timeproperty == "observedAt" else "managementInterval"
        if not _interval_hits(doc.get(member), q):
            return False
    return True


def _page_link(broker: Broker, raw: str, limit: int, offset: int, rel: str) -> str:
    path = broker.config.base_path + "/csourceRegistrations"
    qs = (raw + "&") if raw else ""
    return f'<{path}?{qs}limit={limit}&offset={offset}>;rel="{rel}";type="application/ld+json"'


def query_registrations(broker: Broker, req: Req, params: CsrQuery) -> Result:
    if req.tenant:
        broker.store.check_tenant(req.tenant)
    found = []
    # a plain list of types picks the candidates through the type index (ngsi_csource_info)
    terms = query.simple_type_terms(params.type_expr) if params.type_expr is not None else None
    types = None
    if terms is not None:
        expand = req.ctx.expand if req.ctx is not None else (lambda t: t)
        types = [expand(t) for t in terms]
    for doc in registry.all_docs(broker.store, req.tenant, types):
        reg = registry.Registration.from_doc(req.tenant, doc)
        if _selects(req, params, reg):
            found.append(doc)
    limit, offset = params.paging.limit, params.paging.offset
    page = found[offset : offset + limit]
    res = Result(200, [render(req, d, params.sys_attrs) for d in page], Kind.ENTITIES)
    if params.paging.count:
        res.headers.append((b"ngsild-results-count", str(len(found)).encode()))
    links = []
    if offset > 0 and limit > 0:
        links.append(_page_link(broker, "", limit, max(0, offset - limit), "prev"))
    if limit > 0 and offset + limit < len(found):
        links.append(_page_link(broker, "", limit, offset + limit, "next"))
    if links:
        res.headers.append((b"link", ",".join(links).encode()))
    return res


def update_registration(broker: Broker, req: Req, params: None, rid: str) -> Result:
    _check_id(rid)
    body = req.body
    if not isinstance(body, dict) or not body:
        raise BadRequestData("the payload must be a non-empty object")
    if "id" in body and body["id"] != rid:
        raise BadRequestData("the registration id cannot be changed")
    for k in ("information", "endpoint", "type", "id"):
        if k in body and body[k] is None:
            raise BadRequestData(f"{k} is mandatory and cannot be removed")
    change = {
        k: v for k, v in clone_json(body).items() if k not in ("@context", "id", registry.CONTEXT)
    }
    registry.validate(
        {k: v for k, v in change.items() if v is not None and v != model.NULL},
        _policy(broker),
        partial=True,
    )
    if req.tenant:
        broker.store.check_tenant(req.tenant)
    if req.ctx is not None:
        change = registry.expand(change, req.ctx.expand)
    schema.ensure(broker.store)
    p = broker.store.placeholder
    with broker.write(req, "updateRegistration") as tx:
        old = registry.get_in(tx.cur, p, req.tenant, rid)
        if old is None:
            raise ResourceNotFound(f"registration {rid} not found")
        doc = clone_json(old)
        for k, v in change.items():
            if k in registry.READ_ONLY or k == registry.CONTEXT:
                continue
            if v is None or v == model.NULL:
                doc.pop(k, None)
            else:
                doc[k] = v
        doc["modifiedAt"] = model.now_iso()
        _exclusive_conflict(tx.cur, p, req.tenant, doc)
        registry.update(tx.cur, p, req.tenant, doc)
        subs.on_change(broker, tx.cur, req.tenant, old, doc)
    return NO_CONTENT


def delete_registration(broker: Broker, req: Req, params: None, rid: str) -> Result:
    _check_id(rid)
    if req.tenant:
        broker.store.check_tenant(req.tenant)
    schema.ensure(broker.store)
    p = broker.store.placeholder
    with broker.write(req, "deleteRegistration") as tx:
        old = registry.get_in(tx.cur, p, req.tenant, rid)
        if old is None or not registry.delete(tx.cur, p, req.tenant, rid):
            raise ResourceNotFound(f"registration {rid} not found")
        subs.on_change(broker, tx.cur, req.tenant, old, None)
    return NO_CONTENT
