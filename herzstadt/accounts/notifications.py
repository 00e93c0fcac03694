"""In-app notifications: pillars register their kinds and texts (``Pillar.notification_kinds``) and
create notifications with :func:`notify`; the text is rendered in the reader's language when shown."""

from __future__ import annotations

from collections.abc import Iterable

from herzstadt.accounts.models import Notification
from herzstadt.core import registry


class UnknownNotificationKind(ValueError):
    pass


def notify(
    users: Iterable[int | None], city, kind: str, subject: str, url: str, *, exclude=None
) -> int:
    """One notification of ``kind`` per person id in ``users`` (each at most once, never for
    ``exclude``); returns how many were created. ``kind`` must be registered."""
    if registry.notification_kind(str(kind)) is None:
        raise UnknownNotificationKind(f"no pillar registered the notification kind {kind!r}")
    seen = {exclude.pk} if exclude is not None else set()
    rows = []
    for user_id in users:
        if user_id is None or user_id in seen:
            continue
        seen.add(user_id)
        rows.append(
            Notification(city=city, user_id=user_id, kind=str(kind), subject=subject[:300], url=url)
        )
    Notification.objects.bulk_create(rows)
    return len(rows)


def unread_notifications(request) -> int:
    """How many notifications the signed-in visitor has not read (0 for anonymous visitors)."""
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return 0
    return user.notifications.filter(read_at__isnull=True).count()
