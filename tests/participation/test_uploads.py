"""Uploaded images cannot exhaust a worker's memory (issue 8, finding 9: a 154 KB PNG of 6300 × 6300
pixels cost 3.7 s and +517 MiB, six at once 3.3 GiB)."""

from __future__ import annotations

import io
import struct
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageFile

from herzstadt.participation import forms, images
from tests.conftest import login
from tests.participation.test_views import url


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` × ``height`` pixels in a few bytes (a decompression bomb's header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


def encoded(img: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def big_png() -> bytes:
    """The finding's file: a PNG of 6300 × 6300 pixels that compresses to a few hundred kilobytes."""
    data = encoded(Image.new("RGB", (6300, 6300), (90, 140, 60)), "PNG")
    assert len(data) < 1_000_000
    return data


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if any image is decoded."""

    def refuse(self):
        raise AssertionError(f"an image of {self.size} was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


@pytest.fixture
def decoded_sizes(monkeypatch):
    """The sizes at which images are decoded."""
    sizes = []
    original = ImageFile.ImageFile.load

    def load(self):
        if self.tile:
            sizes.append(self.size)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return sizes


def upload(data: bytes, name: str = "bild.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


# --- the pixel limit, checked from the header -----------------------------------------------------


@pytest.mark.django_db
def test_the_big_png_is_refused_with_a_friendly_form_error_before_decoding(
    client, process, make_user, big_png, no_decoding
):
    login(client, make_user())
    response = client.post(
        url("idea-create", slug=process.slug),
        {
            "title": "Riesiges Bild",
            "body": "Ein Text, der lang genug ist für die Prüfung.",
            "image": upload(big_png),
            "image_alt": "Eine grüne Fläche",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "zu viele Pixel (6300 × 6300)" in html and "höchstens 12 Megapixel" in html
    assert process.ideas.count() == 0


@pytest.mark.parametrize(("width", "height"), [(30_000, 30_000), (100_000, 200), (65_535, 65_535)])
def test_decompression_bombs_are_refused_from_their_header(width, height, no_decoding):
    with pytest.raises(ValidationError) as refused:
        forms.clean_image(upload(png_header(width, height)))
    assert refused.value.code == "pixels"


def test_the_pixel_limit_is_a_setting(settings, no_decoding):
    settings.HERZSTADT_UPLOAD_MAX_PIXELS = 1_000_000
    with pytest.raises(ValidationError) as refused:
        forms.clean_image(upload(png_header(1001, 1000)))
    assert refused.value.code == "pixels"
    assert images.decoded_bytes_bound() == 4_000_000


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "ICO"])
def test_no_other_decoder_runs_on_uploaded_bytes(fmt):
    with pytest.raises(ValidationError) as refused:
        forms.clean_image(upload(encoded(Image.new("RGB", (20, 20)), fmt), f"x.{fmt.lower()}"))
    assert refused.value.code == "format"


def test_a_truncated_image_is_refused_politely():
    data = encoded(Image.new("RGB", (400, 300), (1, 2, 3)), "JPEG")[:300]
    with pytest.raises(ValidationError):
        forms.clean_image(upload(data, "cut.jpg"))


# --- decoding in bounded memory -------------------------------------------------------------------


def test_a_large_jpeg_is_decoded_at_a_reduced_scale(decoded_sizes):
    data = encoded(Image.new("RGB", (4000, 3000), (200, 30, 60)), "JPEG", quality=80)
    stored = forms.clean_image(upload(data, "foto.jpg"))
    assert decoded_sizes == [(2000, 1500)]  # draft: half the size, a quarter of the memory
    with Image.open(io.BytesIO(stored.read())) as result:
        assert result.format == "JPEG" and max(result.size) <= images.STORED_SIZE


def test_a_rotated_photo_is_rotated_after_scaling_down(decoded_sizes):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° on display
    data = encoded(Image.new("RGB", (4000, 2000), (0, 90, 200)), "JPEG", exif=exif)
    stored = forms.clean_image(upload(data, "hoch.jpg"))
    with Image.open(io.BytesIO(stored.read())) as result:
        assert result.size == (1000, 2000) and not result.getexif()
    assert max(w * h for w, h in decoded_sizes) <= 2000 * 1000


def _rss() -> int:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_memory_stays_bounded_for_an_image_at_the_pixel_limit():
    """Loosely: processing a PNG of 12 million pixels raises the process's memory by far less than
    the finding's 517 MiB (its decoded size is bounded by 4 bytes per pixel)."""
    data = encoded(Image.new("RGB", (4000, 3000), (10, 20, 30)), "PNG")
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _rss())
            time.sleep(0.002)

    before = _rss()
    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        forms.clean_image(upload(data))
    finally:
        done.set()
        sampler.join()
    grown = peak[0] - before
    assert grown < images.decoded_bytes_bound() + 64 * 1024 * 1024, grown


# --- one image at a time per worker -----------------------------------------------------------------


def test_a_second_image_waits_for_its_turn_and_gets_a_friendly_try_again(settings):
    settings.HERZSTADT_UPLOAD_WAIT = 0.2
    small = encoded(Image.new("RGB", (40, 30)), "PNG")
    assert images._one_at_a_time.acquire(timeout=5)  # another upload is being processed
    try:
        with pytest.raises(ValidationError) as busy:
            forms.clean_image(upload(small))
        assert busy.value.code == "busy"
    finally:
        images._one_at_a_time.release()
    assert forms.clean_image(upload(small)).size > 0  # its turn has come


def test_simultaneous_uploads_are_processed_one_after_the_other(monkeypatch):
    running, most = [0], [0]
    lock = threading.Lock()
    original = images._process

    def watched(upload_file):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.02)
            return original(upload_file)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(images, "_process", watched)
    data = encoded(Image.new("RGB", (300, 200)), "JPEG")
    errors = []

    def one():
        try:
            forms.clean_image(upload(data, "a.jpg"))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and most[0] == 1


@pytest.mark.django_db
def test_busy_is_a_friendly_form_error_on_the_page(client, process, make_user, settings):
    settings.HERZSTADT_UPLOAD_WAIT = 0.1
    login(client, make_user())
    assert images._one_at_a_time.acquire(timeout=5)
    try:
        response = client.post(
            url("idea-create", slug=process.slug),
            {
                "title": "Bild vom Ort",
                "body": "Ein Text, der lang genug ist für die Prüfung.",
                "image": upload(encoded(Image.new("RGB", (40, 30)), "PNG")),
                "image_alt": "Ein Bild",
            },
        )
    finally:
        images._one_at_a_time.release()
    assert response.status_code == 400
    assert "Bitte versuchen Sie es gleich noch einmal" in response.content.decode()


def test_bad_upload_settings_are_configuration_errors():
    from herzstadt import config

    with pytest.raises(config.ConfigError, match="HERZSTADT_UPLOAD_MAX_PIXELS"):
        config.load({"HERZSTADT_UPLOAD_MAX_PIXELS": "lots"})
    with pytest.raises(config.ConfigError, match="HERZSTADT_UPLOAD_WAIT"):
        config.load({"HERZSTADT_UPLOAD_WAIT": "0"})
    assert (
        config.load({"HERZSTADT_UPLOAD_MAX_PIXELS": "24_000_000"}).upload_max_pixels == 24_000_000
    )
