"""Entity type selection expressions (spec 4.17): ``A``, ``A,B`` / ``A|B`` (or), ``A;B`` (and),
parentheses, e.g. ``(Building;Vehicle)|Device``. ``;`` binds tighter than ``,`` and ``|``.

Each name is kept as written (short term, prefixed name or full IRI) and expanded later by the
caller's ``expand(term) -> iri``. An entity matches a name when its ``type`` list contains the
expanded IRI (multi-typed entities can match an AND).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any

from .ast import And, Or, TypeExpr, TypeName
from .parser import BaseParser

_TYPE_STOP = frozenset(',;|()"')


class TypeParser(BaseParser):
    param = "type"
    or_ops = ",|"
    and_ops = ";"
    leaf_what = "a type name"

    def leaf(self) -> TypeName:
        s, n = self.s, self.n
        k0 = self.i
        while self.i < n and s[self.i] not in _TYPE_STOP and not s[self.i].isspace():
            self.i += 1
        if self.i == k0:
            raise self.err(f"expected a type name or '(', found {self.found()}")
        term = s[k0 : self.i]
        self.expect_end_of_term(f"type name '{term}'")
        return TypeName(term)


@lru_cache(maxsize=1024)
def _parse_type_expr(text: str) -> TypeExpr:
    expr: TypeExpr = TypeParser(text).parse()
    return expr


def parse_type_expr(text: str) -> TypeExpr:
    """Parse the ``type`` query parameter; raises QuerySyntaxError."""
    if not isinstance(text, str):
        raise TypeError("type must be a str")
    return _parse_type_expr(text)


def type_terms(expr: TypeExpr) -> Iterator[str]:
    """Every type term of the expression, in order (with repetitions)."""
    if isinstance(expr, TypeName):
        yield expr.term
    else:
        for it in expr.items:
            yield from type_terms(it)


def simple_type_terms(expr: TypeExpr) -> list[str] | None:
    """The terms when the expression is a plain OR of names (``A``, ``A,B``, ``A|B``), else None.

    Lets a store use its type index directly for the common case.
    """
    if isinstance(expr, TypeName):
        return [expr.term]
    if isinstance(expr, Or) and all(isinstance(it, TypeName) for it in expr.items):
        return [it.term for it in expr.items]
    return None


def type_matches(expr: TypeExpr, types: Iterable[str], expand: Callable[[str], str]) -> bool:
    """Whether an entity with these (expanded) types matches the expression."""
    have = types if isinstance(types, (set, frozenset)) else set(types)
    return _match(expr, have, expand)


def _match(expr: TypeExpr, have: set[Any] | frozenset[Any], expand: Callable[[str], str]) -> bool:
    if isinstance(expr, TypeName):
        return expand(expr.term) in have
    if isinstance(expr, And):
        return all(_match(it, have, expand) for it in expr.items)
    return any(_match(it, have, expand) for it in expr.items)
