"""Use cases of city roles and blocks: one function per use case, each asks the named permission
(``accounts.permissions``) of the acting person *in that city*, validates and writes in one
transaction. They raise ``PermissionDenied`` or ``ValidationError``; safe to call from a view, the shell
or a management command.
"""

from __future__ import annotations

from typing import cast

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from herzstadt.accounts import roles
from herzstadt.accounts.models import ROLE_RANK, Membership, Role
from herzstadt.core import permissions
from herzstadt.core.models import City


# --- roles ------------------------------------------------------------------------------------------
def may_give(actor: User, city: City, role: Role) -> bool:
    """Staff may appoint (and remove) moderators; only administrators handle staff and administrators."""
    mine = roles.role_of(actor, city)
    if mine is None or ROLE_RANK[mine] < ROLE_RANK[Role.STAFF]:
        return False
    if ROLE_RANK[Role(role)] >= ROLE_RANK[Role.STAFF]:
        return mine == Role.ADMIN
    return True


def assignable_roles(actor: User, city: City) -> list[Role]:
    return [r for r in (Role.MODERATOR, Role.STAFF, Role.ADMIN) if may_give(actor, city, r)]


def set_city_role(actor: User, city: City, person: User, role: Role | str) -> Membership:
    """Give ``person`` a role in ``city`` (``Role.CITIZEN`` removes a role). The actor needs the right
    for both the person's current role and the new one, and cannot change their own role."""
    permissions.require(actor, "accounts.manage_roles", city)
    role = Role(role)
    if person.pk == actor.pk:
        raise PermissionDenied(_("You cannot change your own role."))
    current = roles.role_of(person, city)
    if person.is_superuser:
        raise PermissionDenied(_("The platform's administrators keep their rights everywhere."))
    if not may_give(actor, city, role) or not may_give(actor, city, cast(Role, current)):
        raise PermissionDenied(
            _("Only administrators may appoint or remove city staff and administrators.")
        )
    if role != Role.CITIZEN and roles.is_blocked(person, city):
        raise ValidationError({"person": _("This person is blocked; unblock them first.")})
    with transaction.atomic():
        membership = roles.set_role(city, person, role)
    return membership


def remove_city_role(actor: User, city: City, person: User) -> Membership:
    return set_city_role(actor, city, person, Role.CITIZEN)


# --- blocks -----------------------------------------------------------------------------------------
def can_be_blocked(person: User | None, city: City, membership: Membership | None = None) -> bool:
    """Citizens can be blocked; moderators, staff and the platform's administrators cannot."""
    if person is None or person.is_superuser:
        return False
    m = membership if membership is not None else roles.membership(person, city)
    return m is None or m.role == Role.CITIZEN


def block_user(user: User, city: City, person: User, reason: str) -> Membership:
    permissions.require(user, "accounts.moderate", city)
    if person.pk == user.pk:
        raise ValidationError({"user": _("You cannot block yourself.")})
    if roles.can_moderate(person, city):
        raise PermissionDenied(
            _("Moderators and staff cannot be blocked; change their role first.")
        )
    if not reason.strip():
        raise ValidationError({"reason": _("Please give a reason.")})
    with transaction.atomic():
        m, _c = Membership.objects.get_or_create(city=city, user=person)
        m.blocked_at = timezone.now()
        m.blocked_reason = reason.strip()[:500]
        m.blocked_by = user
        m.save()
    roles.forget(person)
    return m


def unblock_user(user: User, city: City, person: User) -> None:
    permissions.require(user, "accounts.moderate", city)
    Membership.objects.filter(city=city, user=person).update(
        blocked_at=None, blocked_reason="", blocked_by=None
    )
    roles.forget(person)
