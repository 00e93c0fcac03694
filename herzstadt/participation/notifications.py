"""The notification kinds of participation and their texts (registered in pillar.py)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from herzstadt.core.registry import NotificationKind as Kind


class NotificationKind(models.TextChoices):
    NEW_IDEA = "new_idea", _("new idea in a process")
    NEW_COMMENT = "new_comment", _("new comment on an idea")
    REPLY = "reply", _("reply to a comment")
    ANSWERED = "answered", _("the city answered an idea")


TEXTS = {
    NotificationKind.NEW_IDEA: _("New idea: %(subject)s"),
    NotificationKind.NEW_COMMENT: _("New comment on: %(subject)s"),
    NotificationKind.REPLY: _("Reply to your comment on: %(subject)s"),
    NotificationKind.ANSWERED: _("The city answered the idea: %(subject)s"),
}

KINDS = tuple(Kind(key=k.value, label=k.label, text=TEXTS[k]) for k in NotificationKind)
