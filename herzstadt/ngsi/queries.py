"""Glue between the service and ``herzstadt.ngsi.query``: request parameters -> ``QuerySpec``.

Type lists, ids, idPattern and attrs are handled here (they map onto the store's indexes);
``q``, ``scopeQ``, ``geoQ`` and complex type expressions are compiled by the query package.
"""
# ruff: noqa: S608 - SQL text from fixed table names and placeholders; all data is bound

from __future__ import annotations

from typing import Any

import orjson

from . import query
from .errors import BadRequestData
from .jsonld import Context
from .model import check_name, is_uri
from .params import EntityQuery
from .storage import QuerySpec, Store

_TYPE_CACHE: dict[str, Any] = {}


def _type_expr(expr: str) -> Any:
    node = _TYPE_CACHE.get(expr)
    if node is None:
        try:
            node = query.parse_type_expr(expr)
        except query.QuerySyntaxError as e:
            raise BadRequestData(str(e)) from None
        if len(_TYPE_CACHE) > 10000:
            _TYPE_CACHE.clear()
        _TYPE_CACHE[expr] = node
    return node


def _pattern(pat: Any) -> query.CompiledPattern:
    """An idPattern checked against the pattern language (400 when outside it)."""
    try:
        return query.compile_pattern(pat, "idPattern")
    except query.QuerySyntaxError as e:
        raise BadRequestData(str(e)) from None


def type_matches(expr: str, ctx: Context, types: list[str]) -> bool:
    return query.type_matches(_type_expr(expr), types, ctx.expand)


def _and_predicates(preds: list[Any]) -> Any:
    preds = [p for p in preds if p is not None]
    if not preds:
        return None
    if len(preds) == 1:
        return preds[0]
    return lambda d: all(p(d) for p in preds)


def build_spec(store: Store, req: Any, eq: EntityQuery) -> QuerySpec:
    """QuerySpec of an entity query (URL parameters or a ``Query`` body), limited to the entity
    types the request's principal may read."""
    ctx: Context = req.ctx
    spec = QuerySpec()
    preds: list[Any] = []
    filt: list[tuple[str, Any]] = []  # parts compiled by the query package
    if eq.entities is not None:
        _entity_selectors(list(eq.entities), ctx, spec, preds)
    if eq.type is not None:
        t = eq.type
        if not t:
            raise BadRequestData("empty type parameter")
        node = _type_expr(t)
        flat = query.simple_type_terms(node)
        if flat is not None:
            spec.types = [ctx.expand(x) for x in flat]
        else:
            filt.append(("type", node))
    if eq.ids is not None:
        for i in eq.ids:
            if not is_uri(i):
                raise BadRequestData(f"invalid entity id {i!r}")
        spec.ids = list(eq.ids)
    if eq.id_pattern is not None:
        spec.id_pattern = _pattern(eq.id_pattern).source
    if eq.attrs:
        names = eq.attrs
        if any(a in ("id", "type", "@id", "@type") for a in names):
            raise BadRequestData("attrs cannot name id or type")
        spec.attrs_any = [ctx.expand(check_name(a)) for a in names]
    try:
        if eq.q is not None:
            filt.append(("q", query.parse_q(eq.q)))
        if eq.scope_q is not None:
            filt.append(("scope_q", query.parse_scope_q(eq.scope_q)))
        g = eq.geo
        if g is not None:
            coords = g.coordinates
            if isinstance(coords, (list, dict)):
                coords = orjson.dumps(coords).decode()
            filt.append(("geo", query.parse_geo_query(g.georel, g.geometry, coords, g.geoproperty)))
    except query.QuerySyntaxError as e:
        raise BadRequestData(str(e)) from None
    if filt:
        f = query.compile_where(
            query.Query(**dict(filt)), ctx.expand, store.dialect, geo_sql=False, id_column="e.id"
        )
        if f.sql:
            spec.where.append((f.sql, f.params))
        if f.bbox is not None:
            spec.bbox = f.bbox
        if f.post_filter is not None:
            preds.append(f.post_filter)
    restrict_types(store, req, spec)
    # datasetId only selects attribute instances in the rendering (ETSI 019_12_07)
    spec.predicate = _and_predicates(preds)
    return spec


def restrict_types(store: Store, req: Any, spec: QuerySpec) -> None:
    """Only entities all of whose types the principal may read (anonymous: the tenant's public
    types; a client limited to entity types: those)."""
    allowed = req.principal.entity_types
    if allowed is None:
        return
    if not allowed:
        spec.where.append(("1=0", []))
        return
    p = store.placeholder
    marks = ",".join([p] * len(allowed))
    spec.where.append(
        (
            "NOT EXISTS (SELECT 1 FROM ngsi_entity_type rt WHERE rt.entity_pk = e.pk"
            f" AND rt.type NOT IN ({marks}))",
            sorted(allowed),
        )
    )


def _entity_selectors(
    ents: list[dict[str, Any]], ctx: Context, spec: QuerySpec, preds: list[Any]
) -> None:
    sels = []
    for e in ents:
        t = e.get("type")
        if t is not None and not isinstance(t, str):
            raise BadRequestData("EntitySelector type must be a string")
        i = e.get("id")
        if i is not None and not is_uri(i):
            raise BadRequestData(f"invalid entity id {i!r}")
        pat = e.get("idPattern")
        node = _type_expr(t) if t else None
        sels.append((node, i, _pattern(pat) if pat is not None else None))
    if len(sels) == 1 and sels[0][0] is not None and sels[0][1] is None and sels[0][2] is None:
        flat = query.simple_type_terms(sels[0][0])
        if flat is not None:
            spec.types = [ctx.expand(x) for x in flat]
            return
    expand = ctx.expand

    def match(d: dict[str, Any], sels: list[Any] = sels) -> bool:
        types = d.get("type") or []
        for node, i, pat in sels:
            if node is not None and not query.type_matches(node, types, expand):
                continue
            if i is not None and d["id"] != i:
                continue
            if pat is not None and not pat.search(d["id"]):
                continue
            return True
        return False

    preds.append(match)
