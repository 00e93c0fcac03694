"""Uploaded images, decoded in bounded memory and one at a time per worker (issue 8, finding 9).

A 154 KB PNG of 6300 × 6300 pixels used to cost 3.7 s and 517 MiB (decoded in full, copied by the EXIF
rotation, then scaled down), and six at once 3.3 GiB. Now:

- the pixel count is read from the file's header and checked before anything is decoded
  (``HERZSTADT_UPLOAD_MAX_PIXELS``, 12 million by default), which also refuses decompression bombs;
- only JPEG, PNG and WebP are opened at all (no other decoder runs on uploaded bytes);
- a JPEG is decoded at a reduced scale straight away (``draft``: 1/2, 1/4 or 1/8 of its size, whatever
  still covers the stored size), a PNG or WebP at its full size, which the pixel limit bounds: at most
  4 bytes per pixel, 48 MB at 12 million pixels; the picture is scaled down before it is rotated, so no
  full-size copy is made;
- at most one image is processed at a time per worker process: an upload that would wait longer than
  ``HERZSTADT_UPLOAD_WAIT`` seconds for its turn is answered with a friendly "try again" form error.
  Uploads are handled by synchronous views, which Django runs in threads: the waiting never blocks the
  event loop.

Re-encoding drops EXIF data such as the GPS position of the phone that took the picture (privacy by
design) and anything hidden in the file.
"""

from __future__ import annotations

import io
import threading
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
#: the longest side of a stored image
STORED_SIZE = 2000
#: bytes per decoded pixel at most (RGBA, or 32-bit grey)
BYTES_PER_PIXEL = 4

_one_at_a_time = threading.BoundedSemaphore(1)


def max_pixels() -> int:
    return int(getattr(settings, "HERZSTADT_UPLOAD_MAX_PIXELS", 12_000_000))


def wait_seconds() -> float:
    return float(getattr(settings, "HERZSTADT_UPLOAD_WAIT", 10.0))


def decoded_bytes_bound() -> int:
    """The most memory one image may take when decoded."""
    return max_pixels() * BYTES_PER_PIXEL


def process_upload(upload) -> ContentFile:
    """Check and re-encode an uploaded image; raises a ``ValidationError`` with a friendly message."""
    if not _one_at_a_time.acquire(timeout=wait_seconds()):
        raise ValidationError(
            _("Many images are being processed right now. Please try again in a moment."),
            code="busy",
        )
    try:
        return _process(upload)
    finally:
        _one_at_a_time.release()


def _process(upload) -> ContentFile:
    try:
        upload.seek(0)
        with Image.open(upload, formats=list(FORMATS)) as probe:
            fmt = probe.format
            _check_size(probe)
            probe.verify()
        upload.seek(0)
        with Image.open(upload, formats=list(FORMATS)) as img:
            _check_size(img)
            if fmt == "JPEG":  # decode at 1/2, 1/4 or 1/8 of the size, still covering the target
                img.draft(None, _target_size(img.size))
            img.thumbnail((STORED_SIZE, STORED_SIZE))
            img = ImageOps.exif_transpose(img)  # type: ignore[assignment]  # on the small picture: no full-size copy
            if fmt == "JPEG" and img.mode not in ("RGB", "L"):
                img = img.convert("RGB")  # type: ignore[assignment]
            out = io.BytesIO()
            if fmt == "PNG":
                img.save(out, format=fmt)
            else:
                img.save(out, format=fmt, quality=85)
    except ValidationError:
        raise
    except Image.DecompressionBombError:
        raise ValidationError(
            _("The image has too many pixels. Please upload a smaller picture."), code="pixels"
        ) from None
    except UnidentifiedImageError:
        raise ValidationError(
            _("Please upload a JPEG, PNG or WebP image."), code="format"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise ValidationError(_("This file is not an image we can read."), code="broken") from None
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.{FORMATS[fmt]}")  # type: ignore[index]


def _target_size(size: tuple[int, int]) -> tuple[int, int]:
    """The stored size: the longest side at most STORED_SIZE, the aspect ratio kept."""
    width, height = size
    factor = min(1.0, STORED_SIZE / max(width, height))
    return max(1, int(width * factor)), max(1, int(height * factor))


def _check_size(img: Image.Image) -> None:
    """From the header only: nothing has been decoded yet."""
    width, height = img.size
    if width <= 0 or height <= 0:
        raise ValidationError(_("This file is not an image we can read."), code="broken")
    if width * height > max_pixels():
        raise ValidationError(
            _(
                "The image has too many pixels (%(width)d × %(height)d). Please upload a smaller "
                "picture of at most %(megapixels)d megapixels."
            )
            % {"width": width, "height": height, "megapixels": max_pixels() // 1_000_000},
            code="pixels",
        )
