"""Permissions as named rules (django-rules), asked the same way everywhere.

A permission is a name such as ``"participation.post_idea"`` and a list of *checks*: a predicate over
``(user, obj)`` and the sentence that explains a refusal ("Please sign in to take part."). The
permission holds when every check holds. It is registered with django-rules, so

- use cases call :func:`require` (raises ``PermissionDenied`` with the reason of the first failing
  check),
- views use a decorator built on :func:`explain` (``accounts.permissions.permission_required``) or
  call :func:`explain` to tell the person why a button is missing,
- templates ask ``{% load permissions %}{% allowed "participation.moderate" city as can_moderate %}``,

and no view decides anything itself. Superusers get no shortcut here: what a platform administrator
may do is spelled out in the predicates (``accounts.roles`` treats them as administrators of every
city), so a closed phase is closed for them too.

Defining the same permission again with the same checks is a no-op (``ready()`` may run twice in
tests); with different checks it raises :class:`PermissionConflict`.
"""

from __future__ import annotations

import functools
import operator
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import rules
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

#: Said when a permission without a reason of its own is refused.
NOT_ALLOWED = _("You are not allowed to do this.")


class PermissionConflict(Exception):
    """A permission of this name exists with other checks."""


@dataclass(frozen=True)
class Check:
    predicate: rules.Predicate
    reason: Any = NOT_ALLOWED


_CHECKS: dict[str, tuple[Check, ...]] = {}
_lock = threading.Lock()


def check(predicate: Callable | rules.Predicate, reason: Any = NOT_ALLOWED) -> Check:
    return Check(
        predicate if isinstance(predicate, rules.Predicate) else rules.predicate(predicate), reason
    )


def define(name: str, *checks: Check | rules.Predicate | Callable) -> None:
    """Register the permission ``name``: it holds when all ``checks`` hold (in order; the first that
    fails gives the reason). A bare predicate is a check with the generic reason."""
    normalised = tuple(c if isinstance(c, Check) else check(c) for c in checks)
    if not normalised:
        raise ValueError(f"the permission {name!r} needs at least one check")
    with _lock:
        known = _CHECKS.get(name)
        if known is not None:
            if known == normalised:
                return
            raise PermissionConflict(f"the permission {name!r} is already defined differently")
        combined = functools.reduce(operator.and_, (c.predicate for c in normalised))
        rules.set_perm(name, combined)
        _CHECKS[name] = normalised


def defined(name: str) -> bool:
    return name in _CHECKS


def checks(name: str) -> Sequence[Check]:
    try:
        return _CHECKS[name]
    except KeyError:
        raise KeyError(f"there is no permission {name!r}") from None


def allowed(user, name: str, obj=None) -> bool:
    """Does ``name`` hold for ``user`` (anonymous or not) and ``obj``?"""
    checks(name)  # an unknown name is a programming error, not a refusal
    return rules.has_perm(name, user, obj)


def explain(user, name: str, obj=None) -> str | None:
    """Why ``name`` does not hold, in one sentence of the active language; ``None`` when it holds."""
    for c in checks(name):
        if not c.predicate.test(user, obj):
            return str(c.reason)
    return None


def require(user, name: str, obj=None) -> None:
    """Raise ``PermissionDenied`` (with the reason) unless ``name`` holds."""
    reason = explain(user, name, obj)
    if reason is not None:
        raise PermissionDenied(reason)


def predicate_of(name: str) -> rules.Predicate:
    """The permission as a predicate, to build other permissions from it."""
    return functools.reduce(operator.and_, (c.predicate for c in checks(name)))
