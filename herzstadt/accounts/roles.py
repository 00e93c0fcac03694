"""Who may do what in a city. One place to ask, so every view asks the same way.

Anonymous people read; signed-in people with a verified e-mail contribute (unless blocked in the city);
moderators moderate; city staff and administrators run the back office of *their* city only.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User

from herzstadt.accounts.models import ROLE_RANK, Membership, Role
from herzstadt.core.models import City

_CACHE_ATTR = "_herzstadt_memberships"


def membership(user: User | AnonymousUser, city: City | None) -> Membership | None:
    if not getattr(user, "is_authenticated", False) or city is None:
        return None
    cache = user.__dict__.setdefault(_CACHE_ATTR, {})
    if city.pk not in cache:
        cache[city.pk] = Membership.objects.filter(city_id=city.pk, user_id=user.pk).first()  # type: ignore[misc]
    return cache[city.pk]


def forget(user: User) -> None:
    """Drop the cached memberships (after a role or block changed)."""
    user.__dict__.pop(_CACHE_ATTR, None)


def role_of(user: User | AnonymousUser, city: City | None) -> Role | None:
    """The person's role in the city; ``None`` for anonymous visitors. Superusers are administrators."""
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_superuser:
        return Role.ADMIN
    m = membership(user, city)
    return Role(m.role) if m else Role.CITIZEN


def has_role(user: User | AnonymousUser, city: City | None, role: Role) -> bool:
    mine = role_of(user, city)
    return mine is not None and ROLE_RANK[mine] >= ROLE_RANK[role]


def can_moderate(user: User | AnonymousUser, city: City | None) -> bool:
    return has_role(user, city, Role.MODERATOR)


def is_city_staff(user: User | AnonymousUser, city: City | None) -> bool:
    return has_role(user, city, Role.STAFF)


def is_blocked(user: User | AnonymousUser, city: City | None) -> bool:
    m = membership(user, city)
    return bool(m and m.blocked_at)


def email_verified(user: User) -> bool:
    from allauth.account.models import EmailAddress

    return EmailAddress.objects.filter(user=user, verified=True).exists()


def can_contribute(user: User | AnonymousUser, city: City | None) -> bool:
    """Signed in, e-mail verified, not blocked in this city."""
    if not getattr(user, "is_authenticated", False):
        return False
    if is_blocked(user, city):
        return False
    return user.is_superuser or email_verified(user)  # type: ignore[arg-type]  # signed in


def set_role(city: City, user: User, role: Role) -> Membership:
    m, _ = Membership.objects.update_or_create(city=city, user=user, defaults={"role": role})
    forget(user)
    return m
