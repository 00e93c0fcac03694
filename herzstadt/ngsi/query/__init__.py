"""The NGSI-LD query language (ETSI GS CIM 009 v1.8/1.9) as a pure library.

Parse request parameters into immutable ASTs, then either compile them into a parameterised SQL
predicate (SQLite JSON1 or PostgreSQL jsonb) or evaluate them in Python. No storage code, no
Django. Terms (attribute, type, geoproperty names) are expanded by the caller's
``expand(term) -> iri`` (it knows the request's @context).

Parsing (all raise ``QuerySyntaxError`` with ``.param``, ``.position``, ``.detail``; cached)::

    parse_q(text) -> QNode                          # q, spec 4.9
    parse_type_expr(text) -> TypeExpr               # type, spec 4.17
    parse_scope_q(text) -> ScopeExpr                # scopeQ, spec 4.19
    parse_geo_query(georel, geometry, coordinates, geoproperty=None) -> GeoQuery  # spec 4.10
    parse_query(type=, q=, scopeQ=, georel=, geometry=, coordinates=, geoproperty=, id=,
                idPattern=, attrs=) -> Query        # all of them from request parameters

SQL (the row alias ``e`` has ``e.doc``; geo-queries also ``e.pk`` and the bbox table
``ngsi_geo(tenant, entity_pk, attr, minx, miny, maxx, maxy)`` kept with ``geo_index_rows``)::

    compile_where(query, expand, dialect, *, alias="e", tenant=None, geo_table="ngsi_geo",
                  geo_sql=True, id_column=None) -> SqlFilter(sql, params, post_filter, bbox,
                                                             bbox_mode)
    install_sqlite_functions(conn)                  # REGEXP (RE2) for SQLite connections

Patterns (``~=``, ``idPattern``, scope wildcards; one language for RE2 and PostgreSQL, regex.py)::

    compile_pattern(text, param) -> CompiledPattern(re2, postgresql, search(value))

Rows must satisfy ``sql`` and, when set, ``post_filter(doc)`` (exact geometry relations).

Python (identical semantics; subscriptions, cross-checks)::

    matches(query, doc, expand) -> bool
    compile_matcher(query, expand) -> Callable[[doc], bool]
    type_matches(type_expr, types, expand) -> bool

Geo helpers::

    geo_index_rows(doc) -> [(attr_iri, minx, miny, maxx, maxy), ...]
    geodesic_distance(lon1, lat1, lon2, lat2) -> metres (WGS84)

The semantics are documented in ``evaluate.py``, distances in ``geo.py``.
"""

from __future__ import annotations

from typing import Any

from .ast import (
    And,
    AttrPath,
    Comparison,
    Exists,
    NotExists,
    Or,
    Pattern,
    QNode,
    Query,
    Range,
    ScopeExpr,
    ScopePattern,
    TypeExpr,
    TypeName,
    Value,
    ValueList,
)
from .errors import QuerySyntaxError
from .evaluate import compile_matcher, matches
from .geo import GeoQuery, geo_index_rows, geodesic_distance, parse_geo_query
from .parser import parse_q, parse_scope_q
from .regex import CompiledPattern, compile_pattern
from .sql import SqlFilter, compile_where, install_sqlite_functions, sqlite_regexp
from .types import parse_type_expr, simple_type_terms, type_matches, type_terms

__all__ = [
    "And",
    "AttrPath",
    "Comparison",
    "CompiledPattern",
    "Exists",
    "GeoQuery",
    "NotExists",
    "Or",
    "Pattern",
    "QNode",
    "Query",
    "QuerySyntaxError",
    "Range",
    "ScopeExpr",
    "ScopePattern",
    "SqlFilter",
    "TypeExpr",
    "TypeName",
    "Value",
    "ValueList",
    "compile_matcher",
    "compile_pattern",
    "compile_where",
    "geo_index_rows",
    "geodesic_distance",
    "install_sqlite_functions",
    "matches",
    "parse_geo_query",
    "parse_q",
    "parse_query",
    "parse_scope_q",
    "parse_type_expr",
    "simple_type_terms",
    "sqlite_regexp",
    "type_matches",
    "type_terms",
]

MAX_IDS = 1000


def _list_param(name: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",")]
    elif isinstance(value, (list, tuple)):
        items = [v.strip() if isinstance(v, str) else v for v in value]
    else:
        raise QuerySyntaxError(name, "must be a comma-separated list")
    if not items or any(not isinstance(v, str) or not v for v in items):
        raise QuerySyntaxError(name, "must be a comma-separated list of non-empty names")
    if len(items) > MAX_IDS:
        raise QuerySyntaxError(name, f"too many items (at most {MAX_IDS})")
    return tuple(dict.fromkeys(items))


def parse_query(
    *,
    type: str | None = None,
    q: str | None = None,
    scopeQ: str | None = None,
    georel: str | None = None,
    geometry: str | None = None,
    coordinates: str | list[Any] | None = None,
    geoproperty: str | None = None,
    id: str | list[Any] | None = None,
    idPattern: str | None = None,
    attrs: str | list[Any] | None = None,
) -> Query:
    """Parse every entity filter parameter of a query into one ``Query`` (None = absent).

    ``attrs`` here is the matching rule (entity has at least one of them); pass it only when the
    request asks for that. Raises ``QuerySyntaxError`` naming the bad parameter.
    """
    geo = None
    if georel is not None or geometry is not None or coordinates is not None:
        geo = parse_geo_query(georel, geometry, coordinates, geoproperty)
    id_pattern = None
    if idPattern is not None:
        if not isinstance(idPattern, str) or not idPattern or len(idPattern) > 1000:
            raise QuerySyntaxError(
                "idPattern", "must be a regular expression of 1 to 1000 characters"
            )
        compile_pattern(idPattern, "idPattern")
        id_pattern = idPattern
    return Query(
        type=parse_type_expr(type) if type is not None else None,
        q=parse_q(q) if q is not None else None,
        scope_q=parse_scope_q(scopeQ) if scopeQ is not None else None,
        geo=geo,
        ids=_list_param("id", id) if id is not None else None,
        id_pattern=id_pattern,
        attrs=_list_param("attrs", attrs) if attrs is not None else None,
    )
