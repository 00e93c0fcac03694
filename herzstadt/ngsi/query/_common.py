"""Shared by the SQL compiler and the Python evaluator: the value member of an instance by its
type, the values of an operand, the regular expression of a scope pattern, and the expansion of
every term of a query (the cache key of compiled queries)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from .ast import And, Comparison, Exists, NotExists, Or, Query, ScopePattern, Value, ValueList
from .types import type_terms

#: the value member of an instance, by its ``type``; any other type holds ``value``
MEMBER_BY_TYPE = {
    "Relationship": "object",
    "ListProperty": "valueList",
    "JsonProperty": "json",
    "VocabProperty": "vocab",
    "LanguageProperty": "languageMap",
    "ListRelationship": "objectList",
}

Expansions = tuple[tuple[str, str | None], ...]


def q_paths(node: Any) -> Iterator[Any]:
    if isinstance(node, (And, Or)):
        for it in node.items:
            yield from q_paths(it)
    elif isinstance(node, (Comparison, Exists, NotExists)):
        yield node


def operand_items(operand: Any) -> tuple[Any, ...]:
    """The values of a comparison operand: a value list's items, else the operand itself."""
    return operand.items if isinstance(operand, ValueList) else (operand,)


def vocab_values(node: Comparison) -> tuple[str, ...]:
    """String values of an equality term, which are also compared expanded with VocabProperty."""
    if node.op not in ("==", "!=") or node.path.meta or node.path.keys:
        return ()
    op = node.operand
    items = operand_items(op) if isinstance(op, (Value, ValueList)) else ()
    return tuple(v.value for v in items if v.family == "string")


def scope_regex(pat: ScopePattern) -> str:
    """The regular expression of a scope pattern with ``+`` wildcards (``/a/+/c``, ``/a/+/#``)."""
    parts = ["[^/]+" if lv == "+" else re.escape(lv) for lv in pat.levels]
    return "^/" + "/".join(parts) + ("(/.*)?$" if pat.descendants else "$")


def expansions(query: Query, expand: Callable[[str], str]) -> Expansions:
    """Every term of the query mapped through ``expand``; string values of equality terms too
    (``None`` where expanding a value fails). Sorted, hashable: part of the compile cache key."""
    terms: set[str] = set()
    values: set[str] = set()
    if query.type is not None:
        terms.update(type_terms(query.type))
    if query.q is not None:
        for leaf in q_paths(query.q):
            terms.update(leaf.path.names)
            if isinstance(leaf, Comparison):
                values.update(vocab_values(leaf))
    if query.geo is not None:
        terms.add(query.geo.geoproperty)
    if query.attrs:
        terms.update(query.attrs)
    out: dict[str, str | None] = {t: expand(t) for t in terms}
    for v in values - terms:
        try:
            x = expand(v)
        except Exception:
            x = None
        out[v] = x if isinstance(x, str) else None
    return tuple(sorted(out.items()))
