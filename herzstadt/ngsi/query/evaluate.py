"""The query semantics as plain Python over a stored (expanded) entity doc.

This is the reference the SQL compiler is tested against, and what subscriptions use. Semantics
(shared with ``sql.py``):

* An attribute path selects *leaf instances*: every instance of the attribute, then every
  instance of each sub-attribute. A term matches when ANY leaf instance matches.
* The compared value of an instance: its metadata member when the path ends in
  ``.observedAt``/``.createdAt``/``.modifiedAt``/``.unitCode``/``.datasetId``; otherwise its value
  member by type (Property/GeoProperty ``value``, Relationship ``object``, ListProperty
  ``valueList``, JsonProperty ``json``, VocabProperty ``vocab``), walked by the ``[k]`` keys
  (objects only). Without keys, a LanguageProperty yields all its strings (every language), a
  ListRelationship the objects of its ``objectList``; ``name[en]`` selects one language.
* The compared value becomes *targets*: an array yields its elements, a ``{"@value": x}`` object
  (typed literal, e.g. DateTime) yields x, other objects yield nothing, a scalar itself.
* Numbers compare numerically, strings (also dates, times, URIs) by code point, booleans only
  with ``==``/``!=``; a target of another type never matches (no error). Date-time values on
  ``.observedAt``/``.createdAt``/``.modifiedAt`` are normalised to the stored UTC millisecond form.
* Positive operators (``== > >= < <= ~=``, value lists, ranges): some target satisfies it.
  Negative operators (``!=``, ``!~=``): some target is of a comparable type and none satisfies the
  positive form (so a missing attribute or a type mismatch never matches, and ``!=`` on an array
  means "does not contain").
* VocabProperty: a string compared with ``==``/``!=`` also matches its expansion ``expand(s)``.
* ``attr`` (existence): some leaf instance exists (with the metadata member, or with a value at
  the ``[k]`` keys); ``!attr`` is its negation.
* ``~=`` searches a pattern of the language in ``regex.py`` (RE2 here and in SQLite's ``REGEXP``;
  PostgreSQL runs the same pattern translated for its ``~``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from functools import lru_cache
from typing import Any, cast

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
    ScopeExpr,
    ScopePattern,
)
from .regex import compile_pattern
from .types import _match as _type_match

Doc = dict[str, Any]
Pred = Callable[[Any], bool]
MISSING: Any = object()

_ORDER = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


def family(v: Any) -> str | None:
    """'bool', 'number', 'string' or None (null, arrays, objects) for a JSON value."""
    if v is True or v is False:
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    return None


# ----------------------------------------------------------------------------- scalar predicates
def scalar_predicates(
    op: str, operand: Any, extra: dict[str, str | None] | None = None
) -> tuple[Pred, Pred, bool]:
    """(positive, comparable, negative) for one q operator; ``extra`` maps string values to
    their expansions (VocabProperty)."""
    negative = op in ("!=", "!~=")
    if isinstance(operand, Pattern):
        rx = compile_pattern(operand.regex)
        return (
            lambda t: isinstance(t, str) and rx.search(t),
            lambda t: isinstance(t, str),
            negative,
        )
    if isinstance(operand, Range):
        fam, lo, hi = operand.family, operand.low.value, operand.high.value
        return (lambda t: family(t) == fam and lo <= t <= hi, lambda t: family(t) == fam, negative)
    items = operand_items(operand)
    if op in _ORDER:
        (v,) = items
        fam, val, cmp = v.family, v.value, _ORDER[op]
        return (lambda t: family(t) == fam and cmp(t, val), lambda t: family(t) == fam, False)
    sets: dict[str, set[Any]] = {}
    for v in items:
        sets.setdefault(v.family, set()).add(v.value)
        if extra and v.family == "string":
            x = extra.get(v.value)
            if x is not None:
                sets["string"].add(x)

    def pos(t: Any) -> bool:
        f = family(t)
        return f is not None and f in sets and t in sets[f]

    return pos, lambda t: family(t) in sets, negative


# ---------------------------------------------------------------------------------- extraction
def member_of(inst: dict[str, Any]) -> str:
    return MEMBER_BY_TYPE.get(inst.get("type"), "value")  # type: ignore[arg-type]


def unwrap(x: Any) -> Any:
    """Targets of a compared value: array elements, the @value of a typed literal, a scalar."""
    if x is MISSING:
        return ()
    if isinstance(x, list):
        return x
    if isinstance(x, dict):
        return (x["@value"],) if "@value" in x else ()
    return (x,)


def walk(x: Any, keys: tuple[str, ...]) -> Any:
    for k in keys:
        if not isinstance(x, dict) or k not in x:
            return MISSING
        x = x[k]
    return x


def leaf_instances(doc: Doc, iris: tuple[str, ...]) -> list[dict[str, Any]]:
    attrs = doc.get("attrs")
    insts = attrs.get(iris[0]) if isinstance(attrs, dict) else None
    if not isinstance(insts, list):
        return []
    cur = [i for i in insts if isinstance(i, dict)]
    for sub in iris[1:]:
        nxt: list[dict[str, Any]] = []
        for i in cur:
            a = i.get("attrs")
            s = a.get(sub) if isinstance(a, dict) else None
            if isinstance(s, list):
                nxt.extend(x for x in s if isinstance(x, dict))
        cur = nxt
    return cur


def instance_targets(inst: dict[str, Any], path: AttrPath) -> Any:
    if path.meta:
        return unwrap(inst.get(path.meta, MISSING))
    t = inst.get("type")
    if not path.keys:
        if t == "LanguageProperty":
            lm = inst.get("languageMap")
            out: list[Any] = []
            if isinstance(lm, dict):
                for v in lm.values():
                    if isinstance(v, list):
                        out.extend(v)
                    else:
                        out.append(v)
            return out
        if t == "ListRelationship":
            ol = inst.get("objectList")
            if not isinstance(ol, list):
                return ()
            return [o["object"] for o in ol if isinstance(o, dict) and "object" in o]
        return unwrap(inst.get(member_of(inst), MISSING))
    return unwrap(walk(inst.get(member_of(inst), MISSING), path.keys))


def instance_exists(inst: dict[str, Any], path: AttrPath) -> bool:
    if path.meta:
        return path.meta in inst
    if path.keys:
        return walk(inst.get(member_of(inst), MISSING), path.keys) is not MISSING
    return True


# ------------------------------------------------------------------------------------ compile
def _compile_q(node: Any, ex: dict[str, str | None]) -> Callable[[Doc], bool]:
    if isinstance(node, And):
        parts = [_compile_q(it, ex) for it in node.items]
        return lambda d: all(p(d) for p in parts)
    if isinstance(node, Or):
        parts = [_compile_q(it, ex) for it in node.items]
        return lambda d: any(p(d) for p in parts)
    path: AttrPath = node.path
    iris = cast("tuple[str, ...]", tuple(ex[n] for n in path.names))
    if isinstance(node, (Exists, NotExists)):
        want = isinstance(node, Exists)
        if not iris:
            meta = path.meta
            return lambda d: (meta in d) is want
        return lambda d: any(instance_exists(i, path) for i in leaf_instances(d, iris)) is want
    assert isinstance(node, Comparison)
    pos, cmp, negative = scalar_predicates(node.op, node.operand)
    vocab = vocab_values(node)
    extra = {v: ex.get(v) for v in vocab} if vocab else None
    vpos = (
        scalar_predicates(node.op, node.operand, extra)[0]
        if extra and any(x is not None and x != v for v, x in extra.items())
        else pos
    )

    def targets_match(targets: Any, p: Pred) -> bool:
        if negative:
            return any(cmp(t) for t in targets) and not any(p(t) for t in targets)
        return any(p(t) for t in targets)

    if not iris:
        meta = path.meta
        return lambda d: targets_match(unwrap(d.get(cast(str, meta), MISSING)), pos)

    def match(d: Doc) -> bool:
        for inst in leaf_instances(d, iris):
            p = vpos if inst.get("type") == "VocabProperty" else pos
            if targets_match(instance_targets(inst, path), p):
                return True
        return False

    return match


def scope_predicate(pat: ScopePattern) -> Callable[[str], bool]:
    """Predicate over one scope string."""
    if not pat.levels:
        return lambda s: True  # '/#'
    if pat.has_wildcard:
        rx = compile_pattern(scope_regex(pat), "scopeQ")
        return rx.search
    exact = pat.text[:-2] if pat.descendants else pat.text
    if pat.descendants:
        prefix = exact + "/"
        return lambda s: s == exact or s.startswith(prefix)
    return lambda s: s == exact


def _compile_scope(node: ScopeExpr) -> Callable[[list[Any]], bool]:
    if isinstance(node, And):
        parts = [_compile_scope(it) for it in node.items]
        return lambda scopes: all(p(scopes) for p in parts)
    if isinstance(node, Or):
        parts = [_compile_scope(it) for it in node.items]
        return lambda scopes: any(p(scopes) for p in parts)
    pred = scope_predicate(node)
    return lambda scopes: any(isinstance(s, str) and pred(s) for s in scopes)


def _build(query: Query, ex: dict[str, str | None]) -> Callable[[Doc], bool]:
    checks: list[Callable[[Doc], bool]] = []
    if query.ids is not None:
        ids = frozenset(query.ids)
        checks.append(lambda d: d.get("id") in ids)
    if query.id_pattern is not None:
        idrx = compile_pattern(query.id_pattern, "idPattern")
        checks.append(lambda d: idrx.search(d.get("id")))
    if query.type is not None:
        texpr = query.type
        checks.append(
            lambda d: _type_match(
                texpr, set(d.get("type") or ()), cast("Callable[[str], str]", ex.__getitem__)
            )
        )
    if query.attrs is not None:
        names = [ex[a] for a in query.attrs]
        checks.append(lambda d: any(n in (d.get("attrs") or {}) for n in names))
    if query.scope_q is not None:
        sp = _compile_scope(query.scope_q)
        checks.append(lambda d: isinstance(d.get("scope"), list) and sp(d["scope"]))
    if query.q is not None:
        checks.append(_compile_q(query.q, ex))
    if query.geo is not None:
        geo, gattr = query.geo, ex[query.geo.geoproperty]
        checks.append(lambda d: geo.matches_doc(d, gattr))  # type: ignore[arg-type]
    if not checks:
        return lambda d: True
    if len(checks) == 1:
        return checks[0]
    return lambda d: all(c(d) for c in checks)


@lru_cache(maxsize=1024)
def _cached(query: Query, exp: Expansions) -> Callable[[Doc], bool]:
    return _build(query, dict(exp))


def compile_matcher(query: Query, expand: Callable[[str], str]) -> Callable[[Doc], bool]:
    """A fast reusable predicate ``doc -> bool`` for the query (cached per query and expansions)."""
    return _cached(query, expansions(query, expand))


def matches(query: Query, doc: Doc, expand: Callable[[str], str]) -> bool:
    """Whether a stored (expanded) entity doc satisfies every part of the query."""
    return compile_matcher(query, expand)(doc)
