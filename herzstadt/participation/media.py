"""Which uploaded idea images may be served (``/media/ideas/…``, see ``herzstadt.web.media``).

The same rule as the idea page: the image of an idea is shown while the idea is not hidden and its
process is published. Moderators of the city also see the images of unpublished processes and of
hidden ideas (to check them), uncached. Anything else — an unknown file, another city's idea, an
image replaced by a newer one — is not served.
"""

from __future__ import annotations

from django.http import HttpRequest

from herzstadt.core import permissions
from herzstadt.participation.models import Idea

FOLDER = "ideas/"


def idea_image_access(request: HttpRequest, name: str) -> str | None:
    city = getattr(request, "city", None)
    if not city:
        return None
    idea = (
        Idea.objects.filter(city=city, image=name)
        .only("hidden_at", "process__is_published")
        .select_related("process")
        .first()
    )
    if idea is None:
        return None
    if idea.hidden_at is None and idea.process.is_published:
        return "public"
    if permissions.allowed(request.user, "participation.moderate", city):
        return "private"
    return None
