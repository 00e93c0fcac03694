"""Uploaded files (``/media/…``), served only for content the visitor may see (issue 10, "Media").

Nothing under ``MEDIA_ROOT`` is served straight from the disk. The pillar that owns the upload's
folder (``registry.MediaFolder``) decides: the upload must belong to published, visible content of
the request's city (an image of a hidden idea, or of an idea in an unpublished process, is a 404 like
a file that does not exist; moderators still see it, uncached). Only image types are served, with a
fixed ``Content-Type`` from the name (the upload was re-encoded on the way in) and ``nosniff``.

Two ways to send the bytes:

- by default herzstadt streams the file itself (``FileResponse``, a thread of the worker; fine for a
  city's few hundred images, and for development);
- behind nginx, ``HERZSTADT_MEDIA_ACCEL_REDIRECT=/_protected-media/`` makes herzstadt answer with an
  empty response and ``X-Accel-Redirect: /_protected-media/<name>``; nginx then sends the file from
  its ``internal`` location (deploy/nginx/herzstadt.conf), so no worker is busy with it.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.http import require_safe

from herzstadt.core import registry

#: the only kinds of file served, by the name's ending
CONTENT_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
}
#: how long a browser or proxy may keep a public image: hiding an idea takes effect within this time
PUBLIC_MAX_AGE = 300
#: relative, segments of letters, digits, '_', '-', '.' not starting with a dot (no '..', no '/x')
_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*")


@require_safe
def serve(request: HttpRequest, name: str) -> HttpResponseBase:
    if not _NAME.fullmatch(name) or len(name) > 255:
        raise Http404("no such file")
    content_type = CONTENT_TYPES.get(Path(name).suffix.lower())
    folder = registry.media_folder(name)
    if content_type is None or folder is None:
        raise Http404("no such file")
    access = folder.visible(request, name)
    if access not in ("public", "private"):
        raise Http404("no such file")
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise Http404("no such file")
    accel = getattr(settings, "HERZSTADT_MEDIA_ACCEL_REDIRECT", "")
    response: HttpResponseBase
    if accel:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = accel + quote(name)
    else:
        response = FileResponse(path.open("rb"), content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = (
        f"public, max-age={PUBLIC_MAX_AGE}" if access == "public" else "private, no-store"
    )
    return response
