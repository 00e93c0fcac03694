"""Context source registrations (ETSI GS CIM 009 5.2.9, 5.9, 5.10): validation, storage and
matching.

A registration is stored per tenant with its terms expanded (entity types, property and
relationship names, the names of its own additional members), so that it can be compacted with
the @context of every request that reads it and matched against requests of any @context.
``ngsi_csource_info`` indexes its EntityInfos (expanded type, id, idPattern) to pick candidates;
the exact matching runs in Python over the candidates (``Registration.matches``).

The public API for the distributed operations:

    matching_registrations(store, tenant, *, types=None, entity_ids=None, id_pattern=None,
                           attrs=None, operation=None, modes=None, now=None)
        -> list[Registration]

returns the registrations (not expired) whose information covers the request; each carries
``endpoint``, ``mode``, ``operations`` (groups resolved into operation names: ``offers(op)``),
``context_source_info`` (key/value pairs to send along), ``information`` (``RegInfo``: entities,
property/relationship names, all expanded), ``remote_tenant`` (the ``tenant`` member: the tenant
to use at the context source) and ``doc`` (the stored registration).
"""

# ruff: noqa: S608 - SQL text from fixed table names and placeholders; all data is bound
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from .. import model
from ..errors import BadRequestData
from ..notify.compile import parse_time
from ..notify.endpoints import EndpointPolicy, EndpointRefused
from ..query.regex import compile_pattern
from . import schema

TYPE = "ContextSourceRegistration"
MODES = ("inclusive", "exclusive", "redirect", "auxiliary")

#: operation groups (ETSI GS CIM 009 v1.8 table 4.20-1) -> the operations they stand for
_RETRIEVE = ("retrieveEntity", "queryEntity")
_TYPES_OPS = (
    "retrieveEntityTypes",
    "retrieveEntityTypeDetails",
    "retrieveEntityTypeInfo",
    "retrieveAttrTypes",
    "retrieveAttrTypeDetails",
    "retrieveAttrTypeInfo",
)
_SUBS_OPS = (
    "createSubscription",
    "updateSubscription",
    "retrieveSubscription",
    "querySubscription",
    "deleteSubscription",
)
GROUPS: dict[str, tuple[str, ...]] = {
    "federationOps": (
        *_RETRIEVE,
        "queryBatch",
        "retrieveTemporal",
        "queryTemporal",
        *_TYPES_OPS,
        *_SUBS_OPS,
    ),
    "updateOps": ("updateEntity", "updateAttrs", "replaceEntity", "replaceAttrs"),
    "retrieveOps": _RETRIEVE,
    "redirectionOps": (
        "createEntity",
        "updateEntity",
        "appendAttrs",
        "updateAttrs",
        "deleteAttrs",
        "deleteEntity",
        "mergeEntity",
        "replaceEntity",
        "replaceAttrs",
        # the batch operations and purgeEntity are redirected like their single-entity
        # forms, and a POST query like a GET one (what the ETSI suite's DistributedOperations
        # tests D014_01_*, D017_01_* and D011_02_exc_02 register redirectionOps for)
        "createBatch",
        "upsertBatch",
        "updateBatch",
        "deleteBatch",
        "mergeBatch",
        "purgeEntity",
        *_RETRIEVE,
        "queryBatch",
        *_TYPES_OPS,
    ),
}
OPERATIONS = frozenset(
    {op for ops in GROUPS.values() for op in ops}
    | {
        "createBatch",
        "upsertBatch",
        "updateBatch",
        "deleteBatch",
        "mergeBatch",
        "purgeEntity",
        "createTemporal",
        "updateTemporal",
        "deleteTemporal",
        "appendAttrsTemporal",
        "deleteAttrsTemporal",
        "updateAttrsTemporal",
        "deleteAttrInstanceTemporal",
    }
)
DEFAULT_OPERATIONS = ("federationOps",)

#: members of a CSourceRegistration with a meaning; any other member is a "context source
#: property" (stored with an expanded name, queried with q/csf)
RESERVED = frozenset(
    {
        "id",
        "type",
        "registrationName",
        "description",
        "information",
        "tenant",
        "observationInterval",
        "managementInterval",
        "location",
        "observationSpace",
        "operationSpace",
        "expiresAt",
        "endpoint",
        "contextSourceInfo",
        "scope",
        "mode",
        "operations",
        "refreshRate",
        "management",
        "createdAt",
        "modifiedAt",
        "status",
        "timesSent",
        "timesFailed",
        "lastSuccess",
        "lastFailure",
        "@context",
    }
)
READ_ONLY = frozenset(
    {"createdAt", "modifiedAt", "status", "timesSent", "timesFailed", "lastSuccess", "lastFailure"}
)
GEO_MEMBERS = ("location", "observationSpace", "operationSpace")
#: stored, never shown: the @context of the request that created the registration (a URL, a
#: list, an inline object; None: the core context) — the distributed operations name it
CONTEXT = "_context"


# ----------------------------------------------------------------------------- parsed form
@dataclass(frozen=True, slots=True)
class RegInfo:
    """One RegistrationInfo, expanded: ``entities`` (dicts with ``type`` and optionally ``id``
    or ``idPattern``; empty: any entity), ``property_names``/``relationship_names`` (both
    empty: any attribute)."""

    entities: tuple[dict[str, str], ...] = ()
    property_names: tuple[str, ...] = ()
    relationship_names: tuple[str, ...] = ()

    @property
    def attrs(self) -> frozenset[str]:
        return frozenset(self.property_names) | frozenset(self.relationship_names)

    def entity_matches(
        self,
        types: Iterable[str] | None,
        entity_ids: Iterable[str] | None,
        id_pattern: str | None,
    ) -> bool:
        if not self.entities:
            return True
        tset = set(types) if types is not None else None
        ids = list(entity_ids) if entity_ids is not None else None
        for e in self.entities:
            if tset is not None and e.get("type") not in tset:
                continue
            if ids is not None and not any(_id_matches(e, i) for i in ids):
                continue
            if (
                id_pattern is not None
                and "id" in e
                and not compile_pattern(id_pattern, "idPattern").search(e["id"])
            ):
                continue
            return True
        return False

    def attrs_match(self, attrs: Iterable[str] | None) -> bool:
        mine = self.attrs
        if attrs is None or not mine:
            return True
        return bool(mine & set(attrs))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.entities:
            out["entities"] = [dict(e) for e in self.entities]
        if self.property_names:
            out["propertyNames"] = list(self.property_names)
        if self.relationship_names:
            out["relationshipNames"] = list(self.relationship_names)
        return out


def _id_matches(e: dict[str, str], eid: str) -> bool:
    if "id" in e:
        return e["id"] == eid
    if "idPattern" in e:
        return compile_pattern(e["idPattern"], "idPattern").search(eid)
    return True


@dataclass(frozen=True, slots=True)
class Registration:
    """A stored registration, parsed for matching (all names expanded)."""

    tenant: str
    id: str
    endpoint: str
    mode: str
    operations: tuple[str, ...]
    information: tuple[RegInfo, ...]
    context_source_info: tuple[dict[str, Any], ...] = ()
    remote_tenant: str | None = None
    expires_at: str | None = None
    management: dict[str, Any] | None = None
    #: the @context of the request that created the registration (None: the core context)
    context: Any = None
    doc: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def from_doc(cls, tenant: str, doc: dict[str, Any]) -> Registration:
        infos = []
        for ri in doc.get("information") or []:
            infos.append(
                RegInfo(
                    tuple(dict(e) for e in ri.get("entities") or ()),
                    tuple(ri.get("propertyNames") or ()),
                    tuple(ri.get("relationshipNames") or ()),
                )
            )
        return cls(
            tenant=tenant,
            id=doc["id"],
            endpoint=doc["endpoint"],
            mode=doc.get("mode", "inclusive"),
            operations=tuple(doc.get("operations") or DEFAULT_OPERATIONS),
            information=tuple(infos),
            context_source_info=tuple(doc.get("contextSourceInfo") or ()),
            remote_tenant=doc.get("tenant"),
            expires_at=doc.get("expiresAt"),
            management=doc.get("management"),
            context=doc.get(CONTEXT),
            doc=doc,
        )

    @property
    def operation_names(self) -> frozenset[str]:
        """The operations offered, groups resolved."""
        out: set[str] = set()
        for op in self.operations:
            out.update(GROUPS.get(op, (op,)))
        return frozenset(out)

    def offers(self, operation: str) -> bool:
        return operation in self.operation_names

    def expired(self, now: dt.datetime | None = None) -> bool:
        if not self.expires_at:
            return False
        try:
            return parse_time(self.expires_at) <= (now or dt.datetime.now(dt.UTC))
        except ValueError:
            return False

    def matching_info(
        self,
        types: Iterable[str] | None = None,
        entity_ids: Iterable[str] | None = None,
        id_pattern: str | None = None,
        attrs: Iterable[str] | None = None,
    ) -> list[RegInfo]:
        """The RegistrationInfos that cover the request."""
        t = list(types) if types is not None else None
        i = list(entity_ids) if entity_ids is not None else None
        a = list(attrs) if attrs is not None else None
        return [
            ri
            for ri in self.information
            if ri.entity_matches(t, i, id_pattern) and ri.attrs_match(a)
        ]

    def matches(
        self,
        types: Iterable[str] | None = None,
        entity_ids: Iterable[str] | None = None,
        id_pattern: str | None = None,
        attrs: Iterable[str] | None = None,
    ) -> bool:
        return bool(self.matching_info(types, entity_ids, id_pattern, attrs))


# ------------------------------------------------------------------------------ validation
def policy(hosts: list[str], allow_private: bool) -> EndpointPolicy:
    return EndpointPolicy(hosts, allow_private=allow_private)


def check_endpoint(uri: Any, pol: EndpointPolicy) -> None:
    if not isinstance(uri, str) or not model.is_uri(uri) or "://" not in uri:
        raise BadRequestData("endpoint must be the URL of the context source")
    try:
        ep = pol.check(uri)
    except EndpointRefused as e:
        msg = str(e).replace("notification endpoint", "context source endpoint")
        msg = msg.replace("HERZSTADT_NGSI_NOTIFY_", "HERZSTADT_NGSI_CSOURCE_")
        raise BadRequestData(msg) from None
    if ep.scheme not in ("http", "https"):
        raise BadRequestData("a context source endpoint must be an http or https URL")


def _interval(v: Any, what: str) -> None:
    if not isinstance(v, dict) or "startAt" not in v:
        raise BadRequestData(f"{what} must be an object with startAt (and endAt)")
    for k in ("startAt", "endAt"):
        if k in v:
            model.check_datetime(v[k], f"{what}.{k}")
    if "endAt" in v and parse_time(v["endAt"]) < parse_time(v["startAt"]):
        raise BadRequestData(f"{what}.endAt must not be before startAt")
    if set(v) - {"startAt", "endAt"}:
        raise BadRequestData(f"{what} has members other than startAt and endAt")


def _names(v: Any, what: str) -> None:
    if not isinstance(v, list) or not all(isinstance(n, str) and n for n in v):
        raise BadRequestData(f"{what} must be an array of names")


def validate(body: dict[str, Any], pol: EndpointPolicy, *, partial: bool = False) -> None:
    """400 for anything a CSourceRegistration (or, ``partial``, a fragment of one) cannot be."""
    if (not partial or "type" in body) and body.get("type") != TYPE:
        raise BadRequestData(f"type must be {TYPE}")
    if "id" in body and not model.is_uri(body["id"]):
        raise BadRequestData(f"registration id is not a URI: {body['id']!r}")
    if not partial or "information" in body:
        info = body.get("information")
        if not isinstance(info, list) or not info:
            raise BadRequestData("information must be a non-empty array of RegistrationInfo")
        for ri in info:
            if not isinstance(ri, dict) or not ri:
                raise BadRequestData("every RegistrationInfo must be a non-empty object")
            if set(ri) - {"entities", "propertyNames", "relationshipNames"}:
                raise BadRequestData(
                    "a RegistrationInfo has entities, propertyNames and relationshipNames only"
                )
            ents = ri.get("entities")
            if ents is not None:
                if not isinstance(ents, list) or not ents:
                    raise BadRequestData("entities must be a non-empty array of EntityInfo")
                for e in ents:
                    if (
                        not isinstance(e, dict)
                        or not isinstance(e.get("type"), str)
                        or not e["type"]
                    ):
                        raise BadRequestData("every EntityInfo needs a type")
                    if "id" in e and not model.is_uri(e["id"]):
                        raise BadRequestData(f"EntityInfo id is not a URI: {e['id']!r}")
                    if "idPattern" in e:
                        if not isinstance(e["idPattern"], str) or "id" in e:
                            raise BadRequestData("an EntityInfo has id or idPattern, not both")
                        try:
                            compile_pattern(e["idPattern"], "idPattern")
                        except Exception as ex:
                            raise BadRequestData(f"invalid idPattern: {ex}") from None
            for k in ("propertyNames", "relationshipNames"):
                if k in ri:
                    _names(ri[k], k)
            if not ents and not ri.get("propertyNames") and not ri.get("relationshipNames"):
                raise BadRequestData(
                    "a RegistrationInfo needs entities, propertyNames or relationshipNames"
                )
    if not partial or "endpoint" in body:
        check_endpoint(body.get("endpoint"), pol)
    mode = body.get("mode")
    if mode is not None and mode not in MODES:
        raise BadRequestData("mode must be inclusive, exclusive, redirect or auxiliary")
    ops = body.get("operations")
    if ops is not None:
        if not isinstance(ops, list) or not ops:
            raise BadRequestData("operations must be a non-empty array of operation names")
        bad = [
            o for o in ops if not isinstance(o, str) or (o not in OPERATIONS and o not in GROUPS)
        ]
        if bad:
            raise BadRequestData(f"unknown operation {bad[0]!r}")
    exp = body.get("expiresAt")
    if exp is not None and exp != model.NULL:
        model.check_datetime(exp, "expiresAt")
        if parse_time(exp) <= dt.datetime.now(dt.UTC):
            raise BadRequestData("expiresAt must be in the future")
    for k in ("observationInterval", "managementInterval"):
        if body.get(k) is not None:
            _interval(body[k], k)
    for k in GEO_MEMBERS:
        if body.get(k) is not None:
            model.check_geometry(body[k], k)
    csi = body.get("contextSourceInfo")
    if csi is not None and (
        not isinstance(csi, list)
        or not all(isinstance(i, dict) and isinstance(i.get("key"), str) for i in csi)
    ):
        raise BadRequestData("contextSourceInfo must be an array of key/value pairs")
    if "tenant" in body and body["tenant"] is not None and not isinstance(body["tenant"], str):
        raise BadRequestData("tenant must be a string")
    for k in ("registrationName", "description"):
        if k in body and body[k] is not None and not isinstance(body[k], str):
            raise BadRequestData(f"{k} must be a string")
    rr = body.get("refreshRate")
    if rr is not None and not isinstance(rr, str):
        raise BadRequestData("refreshRate must be a duration string")
    mg = body.get("management")
    if mg is not None and not isinstance(mg, dict):
        raise BadRequestData("management must be an object")
    if "scope" in body and body["scope"] is not None:
        sc = body["scope"]
        if not (
            isinstance(sc, str) or (isinstance(sc, list) and all(isinstance(s, str) for s in sc))
        ):
            raise BadRequestData("scope must be a string or an array of strings")


def expand(doc: dict[str, Any], expand_term: Any) -> dict[str, Any]:
    """The registration with its terms expanded (``expand_term``: the @context's expand)."""
    out: dict[str, Any] = {}
    for k, v in doc.items():
        if k == "information" and isinstance(v, list):
            out[k] = [
                {
                    **(
                        {
                            "entities": [
                                {**e, "type": expand_term(e["type"])} for e in ri["entities"]
                            ]
                        }
                        if ri.get("entities")
                        else {}
                    ),
                    **{
                        n: [expand_term(a) for a in ri[n]]
                        for n in ("propertyNames", "relationshipNames")
                        if ri.get(n)
                    },
                }
                for ri in v
            ]
        elif k in RESERVED or k == CONTEXT:
            out[k] = v
        else:
            out[expand_term(k)] = v
    return out


def compact(doc: dict[str, Any], compact_term: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in doc.items():
        if k == "information" and isinstance(v, list):
            out[k] = [
                {
                    **(
                        {
                            "entities": [
                                {**e, "type": compact_term(e["type"])} for e in ri["entities"]
                            ]
                        }
                        if ri.get("entities")
                        else {}
                    ),
                    **{
                        n: [compact_term(a) for a in ri[n]]
                        for n in ("propertyNames", "relationshipNames")
                        if ri.get(n)
                    },
                }
                for ri in v
            ]
        elif k == CONTEXT:
            continue  # stored, never shown
        elif k in RESERVED:
            out[k] = v
        else:
            out[compact_term(k)] = v
    return out


def pseudo_entity(doc: dict[str, Any], expand_term: Any) -> dict[str, Any]:
    """A registration's own members as an entity document, for q, csf and geoQ: its additional
    members (stored expanded) and its members with a meaning (``location``, ``endpoint``, …,
    expanded with ``expand_term`` as a query names them); the geo members are GeoProperties."""
    attrs: dict[str, Any] = {}
    for k, v in doc.items():
        if k in ("id", "type", "information", "@context", CONTEXT):
            continue
        t = "GeoProperty" if k in GEO_MEMBERS else "Property"
        attrs[expand_term(k) if k in RESERVED else k] = [{"type": t, "value": v}]
    return {"id": doc.get("id"), "type": [TYPE], "attrs": attrs}


# --------------------------------------------------------------------------------- storage
def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    return parse_time(iso).timestamp()


def _index_rows(tenant: str, doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for ri in doc.get("information") or []:
        ents = ri.get("entities") or []
        if not ents:
            rows.append((tenant, doc["id"], None, None, None))
        for e in ents:
            rows.append((tenant, doc["id"], e.get("type"), e.get("id"), e.get("idPattern")))
    return rows


def _write_index(cur: Any, p: str, tenant: str, doc: dict[str, Any]) -> None:
    cur.execute(
        f"DELETE FROM ngsi_csource_info WHERE tenant={p} AND reg_id={p}", (tenant, doc["id"])
    )
    rows = _index_rows(tenant, doc)
    if rows:
        cur.executemany(
            "INSERT INTO ngsi_csource_info(tenant, reg_id, type, eid, id_pattern)"
            f" VALUES ({p},{p},{p},{p},{p})",
            rows,
        )


def insert(cur: Any, p: str, tenant: str, doc: dict[str, Any]) -> bool:
    """Inside a write: store a new registration; False when the id exists."""
    cur.execute(
        "INSERT INTO ngsi_csource(tenant, id, doc, mode, endpoint, expires_at, created_at)"
        f" VALUES ({p},{p},{p},{p},{p},{p},{p}) ON CONFLICT (tenant, id) DO NOTHING RETURNING 1",
        (
            tenant,
            doc["id"],
            orjson.dumps(doc).decode(),
            doc.get("mode", "inclusive"),
            doc["endpoint"],
            _epoch(doc.get("expiresAt")),
            time.time(),
        ),
    )
    if cur.fetchone() is None:
        return False
    _write_index(cur, p, tenant, doc)
    return True


def update(cur: Any, p: str, tenant: str, doc: dict[str, Any]) -> None:
    cur.execute(
        f"UPDATE ngsi_csource SET doc={p}, mode={p}, endpoint={p}, expires_at={p}"
        f" WHERE tenant={p} AND id={p}",
        (
            orjson.dumps(doc).decode(),
            doc.get("mode", "inclusive"),
            doc["endpoint"],
            _epoch(doc.get("expiresAt")),
            tenant,
            doc["id"],
        ),
    )
    _write_index(cur, p, tenant, doc)


def delete(cur: Any, p: str, tenant: str, rid: str) -> bool:
    cur.execute(f"DELETE FROM ngsi_csource WHERE tenant={p} AND id={p}", (tenant, rid))
    gone: bool = cur.rowcount > 0
    cur.execute(f"DELETE FROM ngsi_csource_info WHERE tenant={p} AND reg_id={p}", (tenant, rid))
    return gone


def get_in(cur: Any, p: str, tenant: str, rid: str) -> dict[str, Any] | None:
    cur.execute(f"SELECT doc FROM ngsi_csource WHERE tenant={p} AND id={p}", (tenant, rid))
    r = cur.fetchone()
    if r is None:
        return None
    d: dict[str, Any] = orjson.loads(r[0])
    return d


def get(store: Any, tenant: str, rid: str) -> dict[str, Any] | None:
    """The stored (expanded) registration, or None."""
    schema.ensure(store)
    with store.reading() as cur:
        return get_in(cur, store.placeholder, tenant, rid)


def candidates_in(
    cur: Any, p: str, tenant: str, types: list[str] | None, now: float | None = None
) -> list[dict[str, Any]]:
    """Registrations that may match entities of ``types`` (None: any), not expired, oldest
    first."""
    now = time.time() if now is None else now
    params: list[Any] = [tenant, now]
    sql = (
        "SELECT doc FROM ngsi_csource WHERE tenant={p} AND (expires_at IS NULL OR expires_at > {p})"
    )
    if types is not None:
        if not types:
            return []
        marks = ",".join([p] * len(types))
        sql += (
            " AND id IN (SELECT reg_id FROM ngsi_csource_info WHERE tenant={p}"
            f" AND (type IS NULL OR type IN ({marks})))"
        )
        params += [tenant, *types]
    sql += " ORDER BY created_at, id"
    cur.execute(sql.replace("{p}", p), params)
    return [orjson.loads(r[0]) for r in cur.fetchall()]


def all_docs(store: Any, tenant: str, types: list[str] | None = None) -> list[dict[str, Any]]:
    schema.ensure(store)
    with store.reading() as cur:
        return candidates_in(cur, store.placeholder, tenant, types)


def matching_registrations(
    store: Any,
    tenant: str,
    *,
    types: Iterable[str] | None = None,
    entity_ids: Iterable[str] | None = None,
    id_pattern: str | None = None,
    attrs: Iterable[str] | None = None,
    operation: str | None = None,
    modes: Iterable[str] | None = None,
) -> list[Registration]:
    """The registrations of ``tenant`` (not expired) that cover a request: entities of one of
    ``types`` (expanded IRIs; None: any type), with one of ``entity_ids`` / ids matching
    ``id_pattern``, offering at least one of ``attrs`` (expanded; None: any attribute), the
    ``operation`` (e.g. ``queryEntity``, ``retrieveEntity``, ``updateAttrs``; None: any), in
    one of ``modes`` (None: any). Oldest registration first."""
    tl = list(types) if types is not None else None
    il = list(entity_ids) if entity_ids is not None else None
    al = list(attrs) if attrs is not None else None
    ms = set(modes) if modes is not None else None
    out = []
    for doc in all_docs(store, tenant, tl):
        reg = Registration.from_doc(tenant, doc)
        if ms is not None and reg.mode not in ms:
            continue
        if operation is not None and not reg.offers(operation):
            continue
        if reg.matches(tl, il, id_pattern, al):
            out.append(reg)
    return out
