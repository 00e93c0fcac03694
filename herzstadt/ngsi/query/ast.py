"""Immutable (hashable) syntax trees of the NGSI-LD query parameters.

Every node is a frozen dataclass, so parsed queries can be cached and shared between requests and
used as cache keys. Terms (attribute, type and geoproperty names) are kept as written; they are
expanded to IRIs later with the caller's ``expand`` callable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from .geo import GeoQuery

# ----------------------------------------------------------------------------------------- q values
#: value kinds of the q language; the first three are compared as strings
STRING_KINDS = frozenset({"string", "datetime", "date", "time", "uri"})


def family_of_kind(kind: str) -> str:
    """'number', 'bool' or 'string' (strings, dates, times, date-times and URIs)."""
    return kind if kind in ("number", "bool") else "string"


@dataclass(frozen=True, slots=True)
class Value:
    """One q value. ``value`` is an int/float (number), bool (bool) or str (all other kinds)."""

    kind: str
    value: Any

    @property
    def family(self) -> str:
        return family_of_kind(self.kind)


@dataclass(frozen=True, slots=True)
class Range:
    """``low..high`` (inclusive); both ends are of the same family."""

    low: Value
    high: Value

    @property
    def family(self) -> str:
        return self.low.family


@dataclass(frozen=True, slots=True)
class ValueList:
    """``v1,v2,...``: equal to any of them."""

    items: tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class Pattern:
    """A regular expression (Python ``re`` syntax, searched, not anchored)."""

    regex: str


Operand = Union[Value, Range, ValueList, Pattern]  # noqa: UP007 - runtime alias


# ------------------------------------------------------------------------------------ q structure
#: trailing members of an attribute path that address the instance's own metadata
META_MEMBERS = frozenset({"observedAt", "modifiedAt", "createdAt", "unitCode", "datasetId"})
TIMESTAMP_MEMBERS = frozenset({"observedAt", "modifiedAt", "createdAt"})


@dataclass(frozen=True, slots=True)
class AttrPath:
    """``attr.sub.sub2[k1][k2]`` or ``attr.sub.observedAt``.

    ``names`` is the attribute term followed by sub-attribute terms; it is empty for the entity's
    own ``createdAt``/``modifiedAt`` (``q=modifiedAt>...``), in which case ``meta`` names it.
    ``keys`` walk into the value (compound value keys, or the language tag of a LanguageProperty)
    and are not expanded.
    """

    names: tuple[str, ...]
    meta: str | None = None
    keys: tuple[str, ...] = ()
    text: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Comparison:
    path: AttrPath
    op: str  # '==', '!=', '>', '>=', '<', '<=', '~=', '!~='
    operand: Operand


@dataclass(frozen=True, slots=True)
class Exists:
    path: AttrPath


@dataclass(frozen=True, slots=True)
class NotExists:
    path: AttrPath


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Any, ...]


QNode = Union[Comparison, Exists, NotExists, And, Or]  # noqa: UP007


# ------------------------------------------------------------------------------------------- types
@dataclass(frozen=True, slots=True)
class TypeName:
    """A type term as written (short name, prefixed name or IRI)."""

    term: str


TypeExpr = Union[TypeName, And, Or]  # noqa: UP007


# ------------------------------------------------------------------------------------------- scope
@dataclass(frozen=True, slots=True)
class ScopePattern:
    """``/a/+/c`` or ``/a/#``: ``levels`` may contain ``'+'`` (exactly one level);
    ``descendants`` means a trailing ``/#`` (the scope itself and everything below it)."""

    levels: tuple[str, ...]
    descendants: bool = False

    @property
    def has_wildcard(self) -> bool:
        return "+" in self.levels

    @property
    def text(self) -> str:
        base = "/" + "/".join(self.levels) if self.levels else ""
        return base + "/#" if self.descendants else base


ScopeExpr = Union[ScopePattern, And, Or]  # noqa: UP007


# ------------------------------------------------------------------------------------------ bundle
@dataclass(frozen=True, slots=True)
class Query:
    """All entity filters of one query; every part is optional and they are AND-ed.

    ``ids``: the entity id is one of them. ``id_pattern``: regex searched in the id.
    ``attrs``: the entity has at least one of these attributes (terms, expanded by the caller's
    ``expand``) - the NGSI-LD ``attrs`` matching rule; leave it ``None`` for projection only.
    """

    type: TypeExpr | None = None
    q: QNode | None = None
    scope_q: ScopeExpr | None = None
    geo: GeoQuery | None = None
    ids: tuple[str, ...] | None = None
    id_pattern: str | None = None
    attrs: tuple[str, ...] | None = None
