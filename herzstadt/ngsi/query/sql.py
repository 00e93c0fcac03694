"""Compile a parsed ``Query`` into one parameterised SQL predicate over the row alias ``e``.

SQLite: ``e.doc`` is JSON text, read with JSON1 (``json_each``, ``json_type``, ``json_extract``);
``~=`` uses ``REGEXP`` (call ``install_sqlite_functions(conn)`` once per connection).
PostgreSQL: ``e.doc`` is ``jsonb``, read with ``->``, ``jsonb_array_elements``, ``jsonb_typeof``,
``@>``, ``?|``; strings are ordered with ``COLLATE "C"`` (code point order, like Python and
SQLite); ``~=`` uses ``~``.

The predicate is a plain per-row boolean expression (correlated ``EXISTS`` over the row's own JSON,
no joins that multiply rows, no aggregation), so the database can stream rows in index order and
stop after ``LIMIT``. User text never reaches the SQL text: values, attribute IRIs and JSON paths
are bound parameters (``?`` / ``%s``); only fixed keywords, the alias and table names chosen by the
caller are inlined.

Semantics are those of ``evaluate.py`` (tested to be identical on both databases).
"""

# ruff: noqa: S608 - this module builds SQL text from fixed keywords; all user data is bound
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, cast

import re2

from ._common import (
    MEMBER_BY_TYPE,
    Expansions,
    expansions,
    operand_items,
    scope_regex,
    vocab_values,
)
from .ast import (
    And,
    AttrPath,
    Comparison,
    Exists,
    NotExists,
    Or,
    Pattern,
    Query,
    Range,
    ScopePattern,
    TypeName,
    Value,
)
from .errors import QuerySyntaxError
from .regex import compile_pattern, re2_compile

DIALECTS = ("sqlite", "postgresql")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")
_ORDERING = (">", ">=", "<", "<=")
Frag = tuple[str, list[Any]]


@dataclass(frozen=True, slots=True)
class SqlFilter:
    """The compiled filter.

    ``sql``: a boolean SQL expression over ``e`` (``e.doc``; ``e.pk`` for geo-queries), to be
    AND-ed into the WHERE clause; ``params``: its parameters in order (a fresh list per call).
    ``post_filter``: ``None``, or an exact Python predicate over the decoded doc that rows passing
    ``sql`` must also pass (geo-queries: ``sql`` only holds the bbox prefilter).
    ``bbox``: ``(attr_iri, minx, miny, maxx, maxy)`` of a geo-query's prefilter for stores that
    use their own spatial index (see ``compile_where(geo_sql=False)``), ``bbox_mode`` how stored
    bboxes must relate to it ('intersects', 'within' or 'contains'); both None without one.
    """

    sql: str
    params: list[Any]
    post_filter: Callable[[dict[str, Any]], bool] | None = None
    bbox: tuple[str, float, float, float, float] | None = None
    bbox_mode: str | None = None


@dataclass(slots=True)
class _Src:
    """A FROM clause producing target values, its WHERE filter and how to read a target."""

    frm: str
    params: list[Any]
    where: str
    ty: str = ""  # sqlite: json type of the target
    at: str = ""  # sqlite: SQL value of the target / postgresql: the jsonb target


class _Compiler:
    def __init__(
        self,
        dialect: str,
        ex: dict[str, str | None],
        alias: str,
        tenant: str | None,
        geo_table: str,
        geo_sql: bool,
        id_column: str | None,
    ):
        self.pg = dialect == "postgresql"
        self.ph = "%s" if self.pg else "?"
        self.ex = ex
        self.e = alias
        self.tenant = tenant
        self.geo_table = geo_table
        self.geo_sql = geo_sql
        self.id_column = id_column
        self.true = "TRUE" if self.pg else "1"
        self.false = "FALSE" if self.pg else "0"
        self.n = 0

    def fresh(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    # ------------------------------------------------------------------------------- helpers
    def iri(self, term: str) -> str:
        iri = self.ex[term]
        if not isinstance(iri, str) or not iri:
            raise QuerySyntaxError("q", f"'{term}' does not expand to an IRI")
        if not self.pg and ('"' in iri or "\\" in iri):
            raise QuerySyntaxError(
                "q", f"attribute name '{iri}' cannot be queried (contains a quote or backslash)"
            )
        return iri

    def attr_path(self, iri: str, suffix: str = "") -> str:
        return f'$.attrs."{iri}"{suffix}'

    def member_case(self, inst: str, types: tuple[str, ...] | None = None) -> str:
        """SQL choosing the value member by the instance type (a JSON path / a key). ``types``
        limits the CASE to the types that can matter (the others fall to ``value``)."""
        pairs = [(t, m) for t, m in MEMBER_BY_TYPE.items() if types is None or t in types]
        if self.pg:
            whens = " ".join(f"WHEN '{t}' THEN '{m}'" for t, m in pairs)
            return f"(CASE {inst}.v->>'type' {whens} ELSE 'value' END)"
        whens = " ".join(f"WHEN '{t}' THEN '$.{m}'" for t, m in pairs)
        return f"(CASE json_extract({inst}.value, '$.type') {whens} ELSE '$.value' END)"

    def inst_type(self, inst: str) -> str:
        return f"{inst}.v->>'type'" if self.pg else f"json_extract({inst}.value, '$.type')"

    def chain(self, iris: list[str]) -> tuple[str, list[Any], str]:
        """FROM clause walking the instances of an attribute and its sub-attributes."""
        parts: list[str] = []
        params: list[Any] = []
        prev = None
        for iri in iris:
            a = self.fresh("i")
            if self.pg:
                src = f"{self.e}.doc->'attrs'" if prev is None else f"{prev}.v->'attrs'"
                parts.append(f"jsonb_array_elements({src}->{self.ph}::text) AS {a}(v)")
                params.append(iri)
            else:
                src = f"{self.e}.doc" if prev is None else f"{prev}.value"
                parts.append(f"json_each({src}, ?) AS {a}")
                params.append(self.attr_path(iri))
            prev = a
        assert prev is not None
        return ", ".join(parts), params, prev

    # ----------------------------------------------------------------------- target sources
    def value_x(
        self, inst: str | None, path: AttrPath, types: tuple[str, ...] | None = None
    ) -> Frag:
        """PostgreSQL: jsonb expression of the compared value; SQLite: 'base, path' arguments."""
        if inst is None:  # entity-level createdAt / modifiedAt
            return (
                (f"{self.e}.doc->'{path.meta}'", [])
                if self.pg
                else (f"{self.e}.doc, '$.{path.meta}'", [])
            )
        if path.meta:
            return (
                (f"{inst}.v->'{path.meta}'", [])
                if self.pg
                else (f"{inst}.value, '$.{path.meta}'", [])
            )
        mc = self.member_case(inst, None if path.keys else types)
        if self.pg:
            x = f"{inst}.v->{mc}"
            for _ in path.keys:
                x += "->%s::text"
            return x, list(path.keys)
        if path.keys:
            suffix = "".join(f'."{k}"' for k in path.keys)
            return f"{inst}.value, ({mc} || ?)", [suffix]
        return f"{inst}.value, {mc}", []

    def src_generic(
        self, inst: str | None, path: AttrPath, types: tuple[str, ...] | None = None
    ) -> _Src:
        x, params = self.value_x(inst, path, types)
        t = self.fresh("t")
        if self.pg:
            m = self.fresh("m")
            frm = (
                f"LATERAL (SELECT {x} AS x) AS {m}, jsonb_array_elements(CASE jsonb_typeof("
                f"{m}.x) WHEN 'array' THEN {m}.x WHEN 'object' THEN jsonb_build_array({m}.x->"
                f"'@value') ELSE jsonb_build_array({m}.x) END) AS {t}(v)"
            )
            return _Src(frm, params, "TRUE", at=f"{t}.v")
        return _Src(
            f"json_each({x}) AS {t}",
            params,
            f"(typeof({t}.key) <> 'text' OR {t}.key = '@value')",
            f"{t}.type",
            f"{t}.atom",
        )

    def src_lang(self, inst: str) -> _Src:
        l_, t = self.fresh("l"), self.fresh("t")
        if self.pg:
            lm = f"{inst}.v->'languageMap'"
            frm = (
                f"jsonb_each(CASE jsonb_typeof({lm}) WHEN 'object' THEN {lm} END) AS {l_}(k, v),"
                f" jsonb_array_elements(CASE jsonb_typeof({l_}.v) WHEN 'array' THEN {l_}.v"
                f" ELSE jsonb_build_array({l_}.v) END) AS {t}(v)"
            )
            return _Src(frm, [], "TRUE", at=f"{t}.v")
        frm = (
            f"json_each({inst}.value, '$.languageMap') AS {l_}, json_each(CASE {l_}.type"
            f" WHEN 'array' THEN {l_}.value WHEN 'text' THEN json_array({l_}.value)"
            f" ELSE '[]' END) AS {t}"
        )
        return _Src(frm, [], f"typeof({l_}.key) = 'text'", f"{t}.type", f"{t}.atom")

    def src_objlist(self, inst: str) -> _Src:
        t = self.fresh("t")
        if self.pg:
            ol = f"{inst}.v->'objectList'"
            frm = f"jsonb_array_elements(CASE jsonb_typeof({ol}) WHEN 'array' THEN {ol} END) AS {t}(v)"
            return _Src(frm, [], "TRUE", at=f"({t}.v->'object')")
        guard = f"CASE WHEN {t}.type = 'object' THEN json_{{}}({t}.value, '$.object') END"
        return _Src(
            f"json_each({inst}.value, '$.objectList') AS {t}",
            [],
            f"{t}.type = 'object'",
            guard.format("type"),
            guard.format("extract"),
        )

    # ------------------------------------------------------------------- scalar predicates
    def s_pos(self, op: str, operand: Any, s: _Src, extra: dict[str, Any] | None) -> Frag:
        ph = self.ph
        if isinstance(operand, Pattern):
            if self.pg:
                return (
                    f"(jsonb_typeof({s.at}) = 'string' AND ({s.at} #>> '{{}}') ~ %s::text)",
                    [compile_pattern(operand.regex).postgresql],
                )
            return f"({s.ty} = 'text' AND {s.at} REGEXP ?)", [compile_pattern(operand.regex).re2]
        if isinstance(operand, Range):
            lo, hi = operand.low.value, operand.high.value
            if self.pg:
                if operand.family == "number":
                    return (
                        f"(jsonb_typeof({s.at}) = 'number' AND {s.at} >= %s::jsonb AND "
                        f"{s.at} <= %s::jsonb)",
                        [_j(lo), _j(hi)],
                    )
                return (
                    f"(jsonb_typeof({s.at}) = 'string' AND ({s.at} #>> '{{}}') COLLATE \"C\""
                    f" BETWEEN %s::text AND %s::text)",
                    [lo, hi],
                )
            return f"({self.fam_sqlite(operand.family, s)} AND {s.at} BETWEEN ? AND ?)", [lo, hi]
        if op in _ORDERING:
            v = operand
            if self.pg:
                if v.family == "number":
                    return (
                        f"(jsonb_typeof({s.at}) = 'number' AND {s.at} {op} %s::jsonb)",
                        [_j(v.value)],
                    )
                return (
                    f"(jsonb_typeof({s.at}) = 'string' AND ({s.at} #>> '{{}}') COLLATE \"C\""
                    f" {op} %s::text)",
                    [v.value],
                )
            return f"({self.fam_sqlite(v.family, s)} AND {s.at} {op} ?)", [v.value]
        # equality with one value or a list
        items = operand_items(operand)
        by_fam: dict[str, list[Any]] = {}
        for v in items:
            vals = by_fam.setdefault(v.family, [])
            if v.value not in vals or v.family == "bool":
                vals.append(v.value)
            if extra and v.family == "string" and extra.get(v.value) is not None:
                vals.append(extra[v.value])
        if self.pg:
            vals_j = list(dict.fromkeys(_j(x) for xs in by_fam.values() for x in xs))
            if len(vals_j) == 1:
                return f"{s.at} = %s::jsonb", vals_j
            return f"{s.at} IN ({', '.join(['%s::jsonb'] * len(vals_j))})", vals_j
        ors: list[str] = []
        params: list[Any] = []
        for fam, vals in by_fam.items():
            if fam == "bool":
                kinds = sorted({"true" if x else "false" for x in vals})
                ors.append(f"{s.ty} IN ({', '.join(repr(k) for k in kinds)})")
                continue
            vals = list(dict.fromkeys(vals))
            cond = f"= {ph}" if len(vals) == 1 else f"IN ({', '.join([ph] * len(vals))})"
            ors.append(f"({self.fam_sqlite(fam, s)} AND {s.at} {cond})")
            params += vals
        return ("(" + " OR ".join(ors) + ")" if len(ors) > 1 else ors[0]), params

    def fam_sqlite(self, fam: str, s: _Src) -> str:
        return {
            "number": f"{s.ty} IN ('integer', 'real')",
            "string": f"{s.ty} = 'text'",
            "bool": f"{s.ty} IN ('true', 'false')",
        }[fam]

    def s_cmp(self, operand: Any, s: _Src) -> str:
        if isinstance(operand, Pattern):
            fams = {"string"}
        elif isinstance(operand, Range):
            fams = {operand.family}
        else:
            items = operand_items(operand)
            fams = {v.family for v in items}
        if self.pg:
            names = sorted(
                {"number": "number", "string": "string", "bool": "boolean"}[f] for f in fams
            )
            return f"jsonb_typeof({s.at}) IN ({', '.join(repr(n) for n in names)})"
        return "(" + " OR ".join(self.fam_sqlite(f, s) for f in sorted(fams)) + ")"

    def over(
        self,
        make: Callable[[], _Src],
        op: str,
        operand: Any,
        extra: dict[str, Any] | None,
        negative: bool,
    ) -> Frag:
        pos_op = {"!=": "==", "!~=": "~="}.get(op, op)

        def where(src: _Src, cond: str) -> str:
            return cond if src.where == "TRUE" else f"{src.where} AND {cond}"

        s = make()
        if not negative:
            p, pp = self.s_pos(pos_op, operand, s, extra)
            return f"EXISTS (SELECT 1 FROM {s.frm} WHERE {where(s, p)})", s.params + pp
        c = self.s_cmp(operand, s)
        s2 = make()
        p, pp = self.s_pos(pos_op, operand, s2, extra)
        return (
            f"(EXISTS (SELECT 1 FROM {s.frm} WHERE {where(s, c)}) AND NOT EXISTS "
            f"(SELECT 1 FROM {s2.frm} WHERE {where(s2, p)}))",
            s.params + s2.params + pp,
        )

    # ------------------------------------------------------------------------------------ q
    def q(self, node: Any) -> Frag:
        if isinstance(node, (And, Or)):
            parts = [self.q(it) for it in node.items]
            j = " AND " if isinstance(node, And) else " OR "
            return "(" + j.join(p[0] for p in parts) + ")", [x for p in parts for x in p[1]]
        path: AttrPath = node.path
        iris = [self.iri(n) for n in path.names]
        if isinstance(node, (Exists, NotExists)):
            sql, params = self.exists(path, iris)
            return (sql if isinstance(node, Exists) else f"NOT ({sql})"), params
        return self.comparison(node, path, iris)

    def exists(self, path: AttrPath, iris: list[str]) -> Frag:
        e = self.e
        if not iris:
            if self.pg:
                return f"({e}.doc->'{path.meta}') IS NOT NULL", []
            return f"json_type({e}.doc, '$.{path.meta}') IS NOT NULL", []
        plain = not path.meta and not path.keys
        if plain and len(iris) == 1:
            if self.pg:
                return f"({e}.doc->'attrs'->%s::text->0) IS NOT NULL", [iris[0]]
            return "json_type(" + e + ".doc, ?) IS NOT NULL", [self.attr_path(iris[0], "[0]")]
        frm, params, inst = self.chain(iris[:-1] if plain else iris)
        if plain:
            if self.pg:
                cond, cp = f"({inst}.v->'attrs'->%s::text->0) IS NOT NULL", [iris[-1]]
            else:
                cond, cp = (
                    f"json_type({inst}.value, ?) IS NOT NULL",
                    [self.attr_path(iris[-1], "[0]")],
                )
        elif self.pg:
            x, cp = self.value_x(inst, path) if path.keys else (f"{inst}.v->'{path.meta}'", [])
            cond = f"({x}) IS NOT NULL"
        else:
            x, cp = self.value_x(inst, path)
            cond = f"json_type({x}) IS NOT NULL"
        return f"EXISTS (SELECT 1 FROM {frm} WHERE {cond})", params + cp

    # ----------------------------------------------------- single-instance fast path (SQLite)
    def src_first_value(self, iri: str, array: bool) -> _Src:
        """Targets of the ``value`` of the attribute's first instance, read straight from the
        row's document: the elements of an array (``array``), else the scalar itself."""
        e, n = self.e, self.fresh("f")
        path = self.attr_path(iri, "[0].value")
        if array:
            return _Src(
                f"json_each(json_extract({e}.doc, ?)) AS {n}",
                [path],
                "TRUE",
                f"{n}.type",
                f"{n}.atom",
            )
        return _Src(
            f"(SELECT json_type({e}.doc, ?) AS ty, json_extract({e}.doc, ?) AS at) AS {n}",
            [path, path],
            "TRUE",
            f"{n}.ty",
            f"{n}.at",
        )

    def single_instance(
        self, iri: str, op: str, operand: Any, negative: bool, generic: Frag
    ) -> Frag:
        """SQLite: ``generic``, with a fast path for the usual case: the attribute has one
        instance, a Property whose value is a scalar or an array. JSON path look-ups replace
        walking the instances with ``json_each``: SQLite parses a row's document once for all
        ``json_extract``/``json_type`` calls of a statement, but again for every ``json_each``
        over it (the fast path halves the time of a typical ``type`` + ``q`` query). PostgreSQL
        gains nothing from it (``jsonb`` is parsed already) and keeps the generic form."""
        e = self.e
        when = (
            f"json_type({e}.doc, ?) IS NULL AND json_extract({e}.doc, ?) = 'Property'"
            f" AND json_type({e}.doc, ?) <> 'object'"
        )
        value = self.attr_path(iri, "[0].value")
        when_p = [self.attr_path(iri, "[1]"), self.attr_path(iri, "[0].type"), value]
        kind, kind_p = f"json_type({e}.doc, ?)", [value]
        arr = self.over(lambda: self.src_first_value(iri, True), op, operand, None, negative)
        one = self.over(lambda: self.src_first_value(iri, False), op, operand, None, negative)
        return (
            f"(CASE WHEN {when} THEN (CASE {kind} WHEN 'array' THEN {arr[0]} ELSE {one[0]} END)"
            f" ELSE {generic[0]} END)",
            when_p + kind_p + arr[1] + one[1] + generic[1],
        )

    def comparison(self, node: Comparison, path: AttrPath, iris: list[str]) -> Frag:
        generic = self.comparison_generic(node, path, iris)
        if len(iris) == 1 and not path.meta and not path.keys and not self.pg:
            negative = node.op in ("!=", "!~=")
            return self.single_instance(iris[0], node.op, node.operand, negative, generic)
        return generic

    def comparison_generic(self, node: Comparison, path: AttrPath, iris: list[str]) -> Frag:
        op, operand = node.op, node.operand
        negative = op in ("!=", "!~=")
        vocab = vocab_values(node)
        extra = {v: self.ex.get(v) for v in vocab} if vocab else None
        if extra and not any(x is not None and x != v for v, x in extra.items()):
            extra = None
        if not iris:
            return self.over(lambda: self.src_generic(None, path), op, operand, None, negative)
        frm, params, inst = self.chain(iris)
        if path.meta or path.keys or not _has_strings(operand):
            # numbers and booleans never match the string-only members (vocab, languageMap,
            # objectList): those types may fall to the (absent) 'value' member
            types = None if path.keys else ("Relationship", "ListProperty", "JsonProperty")
            if not negative:  # one flat EXISTS over instances x targets
                src = self.src_generic(inst, path, types)
                p, pp = self.s_pos(op, operand, src, None)
                cond = p if src.where == "TRUE" else f"{src.where} AND {p}"
                return (
                    f"EXISTS (SELECT 1 FROM {frm}, {src.frm} WHERE {cond})",
                    params + src.params + pp,
                )
            pred, pp = self.over(
                lambda: self.src_generic(inst, path, types), op, operand, None, negative
            )
        else:
            lang = self.over(lambda: self.src_lang(inst), op, operand, None, negative)
            objl = self.over(lambda: self.src_objlist(inst), op, operand, None, negative)
            rest: tuple[str, ...] = ("Relationship", "ListProperty", "JsonProperty")
            sql = (
                f"CASE {self.inst_type(inst)} WHEN 'LanguageProperty' THEN {lang[0]}"
                f" WHEN 'ListRelationship' THEN {objl[0]}"
            )
            pp = lang[1] + objl[1]
            if extra:
                vocab_path = AttrPath(path.names, "vocab", (), path.text)
                voc = self.over(
                    lambda: self.src_generic(inst, vocab_path), op, operand, extra, negative
                )
                sql += f" WHEN 'VocabProperty' THEN {voc[0]}"
                pp += voc[1]
            else:
                rest = (*rest, "VocabProperty")
            gen = self.over(lambda: self.src_generic(inst, path, rest), op, operand, None, negative)
            pred = sql + f" ELSE {gen[0]} END"
            pp += gen[1]
        return f"EXISTS (SELECT 1 FROM {frm} WHERE {pred})", params + pp

    # ---------------------------------------------------------------------------- the rest
    def type_expr(self, node: Any) -> Frag:
        e = self.e
        names = (
            [node]
            if isinstance(node, TypeName)
            else list(node.items)
            if isinstance(node, Or) and all(isinstance(it, TypeName) for it in node.items)
            else None
        )
        if names is not None:
            iris = list(dict.fromkeys(self.ex[n.term] for n in names))
            if self.pg:
                if len(iris) == 1:
                    return f"{e}.doc @> %s::jsonb", [json.dumps({"type": iris})]
                return f"({e}.doc->'type') ?| %s::text[]", [iris]
            t = self.fresh("ty")
            cond = "= ?" if len(iris) == 1 else f"IN ({', '.join('?' * len(iris))})"
            return (
                f"EXISTS (SELECT 1 FROM json_each({e}.doc, '$.type') AS {t} WHERE "
                f"{t}.value {cond})",
                iris,
            )
        parts = [self.type_expr(it) for it in node.items]
        j = " AND " if isinstance(node, And) else " OR "
        return "(" + j.join(p[0] for p in parts) + ")", [x for p in parts for x in p[1]]

    def scope(self, node: Any) -> Frag:
        if isinstance(node, (And, Or)):
            parts = [self.scope(it) for it in node.items]
            j = " AND " if isinstance(node, And) else " OR "
            return "(" + j.join(p[0] for p in parts) + ")", [x for p in parts for x in p[1]]
        pat: ScopePattern = node
        s = self.fresh("s")
        e = self.e
        if self.pg:
            sc = f"{e}.doc->'scope'"
            frm = f"jsonb_array_elements_text(CASE jsonb_typeof({sc}) WHEN 'array' THEN {sc} END) AS {s}(v)"
            col = f"{s}.v"
        else:
            frm = f"json_each({e}.doc, '$.scope') AS {s}"
            col = f"{s}.value"
        ph = self.ph
        params: list[Any]
        if not pat.levels:
            cond, params = self.true, []
        elif pat.has_wildcard:
            cond = f"{col} ~ %s" if self.pg else f"{col} REGEXP ?"
            params = [
                compile_pattern(scope_regex(pat), "scopeQ").for_dialect(
                    "postgresql" if self.pg else "sqlite"
                )
            ]
        elif pat.descendants:
            exact = pat.text[:-2]
            if self.pg:
                cond, params = f"({col} = %s OR starts_with({col}, %s))", [exact, exact + "/"]
            else:
                cond = f"({col} = ? OR substr({col}, 1, ?) = ?)"
                params = [exact, len(exact) + 1, exact + "/"]
        else:
            cond, params = f"{col} = {ph}", [pat.text]
        if not self.pg:
            cond = f"{s}.type = 'text' AND {cond}"
        return f"EXISTS (SELECT 1 FROM {frm} WHERE {cond})", params

    def compile(self, query: Query) -> SqlFilter:
        conds: list[str] = []
        params: list[Any] = []
        e, ph = self.e, self.ph

        def add(f: Frag) -> None:
            conds.append(f[0])
            params.extend(f[1])

        idcol = self.id_column or (
            f"({e}.doc->>'id')" if self.pg else f"json_extract({e}.doc, '$.id')"
        )
        if query.ids is not None:
            ids = list(dict.fromkeys(query.ids))
            add((f"{idcol} IN ({', '.join([ph] * len(ids))})", ids) if ids else (self.false, []))
        if query.id_pattern is not None:
            rx = compile_pattern(query.id_pattern, "idPattern").for_dialect(
                "postgresql" if self.pg else "sqlite"
            )
            add((f"{idcol} ~ %s" if self.pg else f"{idcol} REGEXP ?", [rx]))
        if query.type is not None:
            add(self.type_expr(query.type))
        if query.attrs is not None:
            names = cast("list[str]", list(dict.fromkeys(self.ex[a] for a in query.attrs)))
            if self.pg:
                add((f"({e}.doc->'attrs') ?| %s::text[]", [names]))
            elif names:
                add(
                    (
                        "("
                        + " OR ".join([f"json_type({e}.doc, ?) IS NOT NULL"] * len(names))
                        + ")",
                        [self.attr_path(n) for n in names],
                    )
                )
            else:
                add((self.false, []))
        if query.scope_q is not None:
            add(self.scope(query.scope_q))
        if query.q is not None:
            add(self.q(query.q))
        post = bbox = mode = None
        if query.geo is not None:
            geo = query.geo
            attr = self.ex[geo.geoproperty]
            if not isinstance(attr, str):
                raise QuerySyntaxError("geoproperty", f"'{geo.geoproperty}' does not expand")
            mode = geo.bbox_mode
            if geo.bbox is not None:
                bbox = (attr, *geo.bbox)
            if self.geo_sql:
                add(self.geo_prefilter(attr, geo.bbox, mode))
            post = _geo_post(geo, attr)
        sql = " AND ".join(conds) if conds else self.true
        return SqlFilter(sql, params, post, bbox, mode)

    def geo_prefilter(self, attr: str, bbox: tuple[Any, ...] | None, mode: str | None) -> Frag:
        ph = self.ph
        conds = [f"g.entity_pk = {self.e}.pk", f"g.attr = {ph}"]
        params: list[Any] = [attr]
        if self.tenant is not None:
            conds.append(f"g.tenant = {ph}")
            params.append(self.tenant)
        if bbox is not None:
            minx, miny, maxx, maxy = bbox
            # stored bbox column and operator, compared with the query's minx, maxx, miny, maxy
            cols = _BBOX_TESTS.get(mode or "", _BBOX_TESTS["intersects"])
            conds += [f"g.{col} {op} {ph}" for col, op in cols]
            params += [minx, maxx, miny, maxy]
        return f"EXISTS (SELECT 1 FROM {self.geo_table} AS g WHERE {' AND '.join(conds)})", params


_BBOX_TESTS = {
    "within": (("minx", ">="), ("maxx", "<="), ("miny", ">="), ("maxy", "<=")),
    "contains": (("minx", "<="), ("maxx", ">="), ("miny", "<="), ("maxy", ">=")),
    "intersects": (("maxx", ">="), ("minx", "<="), ("maxy", ">="), ("miny", "<=")),
}


def _geo_post(geo: Any, attr: str) -> Callable[[dict[str, Any]], bool]:
    def post_filter(doc: dict[str, Any]) -> bool:
        matches: bool = geo.matches_doc(doc, attr)
        return matches

    return post_filter


def _j(v: Any) -> str:
    return json.dumps(v)


def _has_strings(operand: Any) -> bool:
    if isinstance(operand, Pattern):
        return True
    if isinstance(operand, (Value, Range)):
        return operand.family == "string"
    return any(v.family == "string" for v in operand.items)


@lru_cache(maxsize=1024)
def _compile_cached(
    query: Query,
    dialect: str,
    alias: str,
    tenant: str | None,
    geo_table: str,
    geo_sql: bool,
    id_column: str | None,
    exp: Expansions,
) -> SqlFilter:
    return _Compiler(dialect, dict(exp), alias, tenant, geo_table, geo_sql, id_column).compile(
        query
    )


def compile_where(
    query: Query,
    expand: Callable[[str], str],
    dialect: str,
    *,
    alias: str = "e",
    tenant: str | None = None,
    geo_table: str = "ngsi_geo",
    geo_sql: bool = True,
    id_column: str | None = None,
) -> SqlFilter:
    """Compile ``query`` into a ``SqlFilter`` for ``dialect`` ('sqlite' or 'postgresql').

    ``alias``: the entity row alias (columns ``doc`` and, for geo-queries, ``pk``).
    ``tenant``: when given, the geo prefilter also requires ``g.tenant = tenant``.
    ``geo_table``: the bbox table ``(tenant, entity_pk, attr, minx, miny, maxx, maxy)``.
    ``geo_sql``: False leaves the bbox prefilter out of ``sql`` (use ``SqlFilter.bbox`` with your
    own spatial index; ``post_filter`` is still set). ``id_column``: compare ids against this
    column (e.g. ``'e.id'``) instead of ``doc->>'id'``.
    Compiled filters are cached per (query, options, expansions of its terms).
    """
    if dialect not in DIALECTS:
        raise ValueError(f"dialect must be one of {DIALECTS}, not {dialect!r}")
    for name, ident in (("alias", alias), ("geo_table", geo_table), ("id_column", id_column)):
        if ident is not None and not _IDENT.fullmatch(ident):
            raise ValueError(f"{name} must be a plain SQL identifier, not {ident!r}")
    f = _compile_cached(
        query, dialect, alias, tenant, geo_table, geo_sql, id_column, expansions(query, expand)
    )
    return replace(f, params=list(f.params))


# ------------------------------------------------------------------------------------ sqlite
def sqlite_regexp(pattern: str, value: Any) -> int:
    """SQLite ``value REGEXP pattern``: 1 when RE2 finds the pattern in a string. ``pattern`` is
    the RE2 form of a checked pattern (``regex.compile_pattern(...).re2``): linear time, never
    catastrophic backtracking."""
    if not isinstance(value, str) or not isinstance(pattern, str):
        return 0
    try:
        return 1 if re2_compile(pattern).search(value) is not None else 0
    except re2.error:
        return 0


def install_sqlite_functions(conn: Any) -> None:
    """Register what compiled SQLite filters need (``REGEXP``) on a ``sqlite3`` connection."""
    conn.create_function("regexp", 2, sqlite_regexp, deterministic=True)
