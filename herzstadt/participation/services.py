"""One function per use case. Views call these; each checks permission and the active phase, writes in
one transaction and tells followers. They raise ``PermissionDenied`` (not allowed) or ``ValidationError``
(bad input) and leave nothing half-written.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from herzstadt.accounts.notifications import notify
from herzstadt.core import permissions
from herzstadt.core.models import Measure
from herzstadt.participation.models import (
    Category,
    Comment,
    Follow,
    Idea,
    IdeaStatus,
    Process,
    Report,
    Support,
    Version,
)
from herzstadt.participation.notifications import NotificationKind
from herzstadt.participation.permissions import FEATURE_PERMISSIONS
from herzstadt.participation.phases import Feature


# --- permissions ---------------------------------------------------------------------------------
def require_contributor(user, process: Process, feature: Feature) -> None:
    """The person may use ``feature`` in ``process`` now (``participation.permissions``)."""
    permissions.require(user, FEATURE_PERMISSIONS[feature], process)


def require_moderator(user, city) -> None:
    permissions.require(user, "participation.moderate", city)


def require_staff(user, city) -> None:
    permissions.require(user, "participation.manage", city)


# --- notifications ---------------------------------------------------------------------------------
def followers_of(*, process: Process | None = None, idea: Idea | None = None) -> list[int]:
    qs = Follow.objects.all()
    qs = qs.filter(process=process) if process is not None else qs.filter(idea=idea)
    return list(qs.values_list("user_id", flat=True))


# --- citizens -------------------------------------------------------------------------------------
def check_point(process: Process, lon: float | None, lat: float | None) -> None:
    """A point must lie inside the process's district (or, without one, inside one of the city's)."""
    if lon is None and lat is None:
        return
    if lon is None or lat is None:
        raise ValidationError({"lat": _("Give both longitude and latitude, or neither.")})
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationError({"lat": _("These are not valid coordinates.")})
    districts = [process.district] if process.district_id else list(process.city.district_set.all())
    if not any(d.contains(lon, lat) for d in districts):
        name = process.district.name if process.district_id else process.city.name
        raise ValidationError({"lat": _("The point lies outside %(name)s.") % {"name": name}})


def post_idea(
    user: User,
    process: Process,
    *,
    title: str,
    body: str,
    category: Category | None = None,
    lon: float | None = None,
    lat: float | None = None,
    location_text: str = "",
    image=None,
    image_alt: str = "",
) -> Idea:
    require_contributor(user, process, Feature.POST_IDEA)
    if category is not None and category.process_id != process.pk:
        raise ValidationError({"category": _("This category belongs to another process.")})
    check_point(process, lon, lat)
    if image is not None and not image_alt.strip():
        raise ValidationError(
            {"image_alt": _("Please describe the image for people who cannot see it.")}
        )
    with transaction.atomic():
        idea = Idea(
            city=process.city,
            process=process,
            author=user,
            title=title.strip(),
            body=body.strip(),
            category=category,
            lon=lon,
            lat=lat,
            location_text=location_text.strip(),
            image_alt=image_alt.strip(),
        )
        if image is not None:
            idea.image = image
        idea.full_clean(exclude=["image"])
        idea.save()
        Follow.objects.get_or_create(city=process.city, user=user, idea=idea)
        notify(
            followers_of(process=process),
            process.city,
            NotificationKind.NEW_IDEA,
            idea.title,
            idea.get_absolute_url(),
            exclude=user,
        )
    return idea


def add_comment(user: User, idea: Idea, body: str, parent: Comment | None = None) -> Comment:
    require_contributor(user, idea.process, Feature.COMMENT)
    if idea.is_hidden:
        raise PermissionDenied(_("This idea has been hidden."))
    if idea.deleted_at is not None:
        raise PermissionDenied(_("This has been deleted."))
    if parent is not None and parent.idea_id != idea.pk:
        raise ValidationError({"parent": _("You can only reply to a comment on this idea.")})
    with transaction.atomic():
        comment = Comment(city=idea.city, idea=idea, parent=parent, author=user, body=body.strip())
        comment.full_clean()
        comment.save()
        Idea.objects.filter(pk=idea.pk).update(comment_count=F("comment_count") + 1)
        Follow.objects.get_or_create(city=idea.city, user=user, idea=idea)
        url = comment.get_absolute_url()
        replied_to = parent.author_id if parent is not None and parent.author_id else None
        if replied_to and replied_to != user.pk:
            notify([replied_to], idea.city, NotificationKind.REPLY, idea.title, url)
        others = [u for u in followers_of(idea=idea) if u != replied_to]
        notify(others, idea.city, NotificationKind.NEW_COMMENT, idea.title, url, exclude=user)
    return comment


# --- one's own ideas and comments -------------------------------------------------------------------
def edit_idea(user: User, idea: Idea, *, title: str, body: str) -> Idea:
    """The author changes the title and text of their idea while the phase still opens posting
    ideas (``participation.edit_own_idea``). The previous version is kept for the moderators; the
    page says "edited"."""
    permissions.require(user, "participation.edit_own_idea", idea)
    with transaction.atomic():
        current = Idea.objects.select_for_update().get(pk=idea.pk)
        if current.deleted_at is not None:
            raise PermissionDenied(_("This has been deleted."))
        title, body = title.strip(), body.strip()
        if (title, body) == (current.title, current.body):
            return current
        Version.objects.create(
            city=current.city,
            idea=current,
            title=current.title,
            body=current.body,
            written_at=current.edited_at or current.created_at,
        )
        current.title, current.body = title, body
        current.edited_at = timezone.now()
        current.full_clean(exclude=["image"])
        current.save(update_fields=["title", "body", "edited_at"])
    return current


def edit_comment(user: User, comment: Comment, body: str) -> Comment:
    """The author changes their comment while the phase still opens commenting
    (``participation.edit_own_comment``); the previous version is kept for the moderators."""
    permissions.require(user, "participation.edit_own_comment", comment)
    with transaction.atomic():
        current = Comment.objects.select_for_update().get(pk=comment.pk)
        if current.deleted_at is not None:
            raise PermissionDenied(_("This has been deleted."))
        body = body.strip()
        if body == current.body:
            return current
        Version.objects.create(
            city=current.city,
            comment=current,
            body=current.body,
            written_at=current.edited_at or current.created_at,
        )
        current.body = body
        current.edited_at = timezone.now()
        current.full_clean()
        current.save(update_fields=["body", "edited_at"])
    return current


def delete_idea(user: User, idea: Idea) -> None:
    """The author deletes their idea (``participation.delete_own``), at any time: title, text, place
    and image are removed, and its earlier versions; the comments of others, the supports and the
    city's answer stay. The idea leaves lists and maps; its page says it was deleted."""
    permissions.require(user, "participation.delete_own", idea)
    with transaction.atomic():
        current = Idea.objects.select_for_update().get(pk=idea.pk)
        if current.deleted_at is not None:
            return
        image = current.image.name if current.image else ""
        current.title = ""
        current.body = ""
        current.location_text = ""
        current.lon = current.lat = None
        current.image = ""
        current.image_alt = ""
        current.deleted_at = timezone.now()
        current.save(
            update_fields=[
                "title",
                "body",
                "location_text",
                "lon",
                "lat",
                "image",
                "image_alt",
                "deleted_at",
            ]
        )
        Version.objects.filter(idea=current).delete()
        Follow.objects.filter(idea=current, user=user).delete()
        if image:
            storage = current.image.storage
            transaction.on_commit(lambda: storage.delete(image))


def delete_comment(user: User, comment: Comment) -> None:
    """The author deletes their comment (``participation.delete_own``), at any time: its text and
    earlier versions are removed, the replies stay; the page says "Dieser Beitrag wurde von der
    Person gelöscht." in its place."""
    permissions.require(user, "participation.delete_own", comment)
    with transaction.atomic():
        current = Comment.objects.select_for_update().get(pk=comment.pk)
        if current.deleted_at is not None:
            return
        current.body = ""
        current.deleted_at = timezone.now()
        current.save(update_fields=["body", "deleted_at"])
        Version.objects.filter(comment=current).delete()


#: Why nobody supports their own idea (shown instead of the button, and the use case's refusal).
OWN_IDEA = gettext_lazy("This is your own idea: others can support it, you cannot.")


def is_own_idea(user, idea: Idea) -> bool:
    return idea.author_id is not None and idea.author_id == getattr(user, "pk", None)


def support(user: User, idea: Idea) -> bool:
    """Support an idea; ``False`` if this person already supports it. The counter row is locked, so
    simultaneous supports are counted exactly (PostgreSQL: SELECT … FOR UPDATE; SQLite: the
    IMMEDIATE write transaction takes the database lock)."""
    require_contributor(user, idea.process, Feature.SUPPORT)
    if idea.is_hidden:
        raise PermissionDenied(_("This idea has been hidden."))
    if idea.deleted_at is not None:
        raise PermissionDenied(_("This has been deleted."))
    if is_own_idea(user, idea):
        raise PermissionDenied(str(OWN_IDEA))
    try:
        with transaction.atomic():
            Idea.objects.select_for_update().filter(pk=idea.pk).values_list("pk").get()
            Support.objects.create(city=idea.city, idea=idea, user=user)
            Idea.objects.filter(pk=idea.pk).update(support_count=F("support_count") + 1)
    except IntegrityError:
        return False
    return True


def withdraw_support(user: User, idea: Idea) -> bool:
    require_contributor(user, idea.process, Feature.SUPPORT)
    with transaction.atomic():
        Idea.objects.select_for_update().filter(pk=idea.pk).values_list("pk").get()
        deleted, _n = Support.objects.filter(idea=idea, user=user).delete()
        if deleted:
            Idea.objects.filter(pk=idea.pk).update(support_count=F("support_count") - 1)
    return bool(deleted)


def report(user: User, target: Idea | Comment, reason: str) -> Report:
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied(_("Please sign in to report content."))
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Please say what is wrong with it.")})
    kind = "idea" if isinstance(target, Idea) else "comment"
    existing = Report.objects.filter(
        reporter=user, resolved_at__isnull=True, **{kind: target}
    ).first()
    if existing:
        return existing
    rep = Report(city=target.city, reporter=user, reason=reason, **{kind: target})
    rep.full_clean()
    rep.save()
    return rep


def follow(user: User, *, process: Process | None = None, idea: Idea | None = None) -> Follow:
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied(_("Please sign in to follow."))
    city = process.city if process is not None else idea.city
    obj, _created = Follow.objects.get_or_create(city=city, user=user, process=process, idea=idea)
    return obj


def unfollow(user: User, *, process: Process | None = None, idea: Idea | None = None) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    deleted, _n = Follow.objects.filter(user=user, process=process, idea=idea).delete()
    return bool(deleted)


# --- city staff and moderators --------------------------------------------------------------------
def answer_idea(
    user: User, idea: Idea, status: str, reason: str, measure: Measure | None = None
) -> Idea:
    """Give an idea its status with the city's public reasoning, and optionally the measure that
    implements it. Followers and the author are told."""
    require_staff(user, idea.city)
    if status not in IdeaStatus.values:
        raise ValidationError({"status": _("Unknown status.")})
    if status != IdeaStatus.RECEIVED and not reason.strip():
        raise ValidationError({"status_reason": _("Please give the reasons in public.")})
    if measure is not None and measure.city_id != idea.city_id:
        raise ValidationError({"measure": _("This measure belongs to another city.")})
    with transaction.atomic():
        idea.status = status
        idea.status_reason = reason.strip()
        idea.measure = measure
        idea.status_changed_at = timezone.now()
        idea.save(update_fields=["status", "status_reason", "measure", "status_changed_at"])
        notify(
            [*followers_of(idea=idea), idea.author_id],
            idea.city,
            NotificationKind.ANSWERED,
            idea.title,
            idea.get_absolute_url(),
            exclude=user,
        )
    return idea


def hide(user: User, target: Idea | Comment, reason: str) -> None:
    require_moderator(user, target.city)
    if not reason.strip():
        raise ValidationError(
            {"reason": _("Please give a reason; it is shown in place of the content.")}
        )
    with transaction.atomic():
        target.hidden_at = timezone.now()
        target.hidden_reason = reason.strip()[:300]
        target.save(update_fields=["hidden_at", "hidden_reason"])
        _resolve_reports(user, target, _("hidden: %(reason)s") % {"reason": target.hidden_reason})


def restore(user: User, target: Idea | Comment) -> None:
    require_moderator(user, target.city)
    target.hidden_at = None
    target.hidden_reason = ""
    target.save(update_fields=["hidden_at", "hidden_reason"])


def _resolve_reports(user: User, target: Idea | Comment, resolution: str) -> int:
    kind = "idea" if isinstance(target, Idea) else "comment"
    return Report.objects.filter(resolved_at__isnull=True, **{kind: target}).update(
        resolved_at=timezone.now(), resolved_by=user, resolution=resolution[:300]
    )


def dismiss_report(user: User, rep: Report, resolution: str = "") -> None:
    require_moderator(user, rep.city)
    _resolve_reports(user, rep.target, resolution or _("no breach of the rules"))
