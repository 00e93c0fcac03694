"""Uploaded idea images are served, and only for published content (issue 10, "Media": every
uploaded image used to be a 404 because nothing served /media/)."""

from __future__ import annotations

import io
import re

import pytest
from django.utils import timezone
from PIL import Image

from herzstadt.accounts.models import Role
from herzstadt.participation.models import Idea
from tests.conftest import login
from tests.participation.test_uploads import encoded, upload
from tests.participation.test_views import url

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.HERZSTADT_MEDIA_ACCEL_REDIRECT = ""
    return tmp_path


def post_idea_with_image(client, process, user, fmt: str = "PNG") -> tuple[Idea, str]:
    """Post an idea with an image through the form; return it and the image's address on its page."""
    login(client, user)
    response = client.post(
        url("idea-create", slug=process.slug),
        {
            "title": "Bank am Kesselhaus",
            "body": "Eine Sitzbank vor dem Kesselhaus, mit Blick auf den Platz.",
            "image": upload(encoded(Image.new("RGB", (64, 48), (200, 40, 40)), fmt), f"b.{fmt}"),
            "image_alt": "Ein roter Platz",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    idea = Idea.objects.get(title="Bank am Kesselhaus")
    page = client.get(idea.get_absolute_url()).content.decode()
    src = re.search(r'<img src="([^"]+)" alt="Ein roter Platz"', page)
    assert src, "the idea page shows the image"
    client.logout()
    return idea, src.group(1)


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")],
)
def test_an_uploaded_image_is_served_with_its_type(client, process, make_user, fmt, content_type):
    idea, src = post_idea_with_image(client, process, make_user(), fmt)
    assert src == "/media/" + idea.image.name
    response = client.get(src)
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"].startswith("public")
    body = b"".join(response.streaming_content)
    with Image.open(io.BytesIO(body)) as img:
        assert img.format == fmt and img.size == (64, 48)


def test_the_image_of_a_hidden_idea_is_not_served(client, process, make_user):
    idea, src = post_idea_with_image(client, process, make_user())
    Idea.objects.filter(pk=idea.pk).update(hidden_at=timezone.now(), hidden_reason="Werbung")
    assert client.get(src).status_code == 404
    assert "Ein roter Platz" not in client.get(idea.get_absolute_url()).content.decode()
    # the city's moderators still see it, to check it, and nobody caches it
    login(client, make_user(Role.MODERATOR, process.city))
    response = client.get(src)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


def test_the_image_of_an_unpublished_process_is_not_served(client, process, make_user):
    _idea, src = post_idea_with_image(client, process, make_user())
    process.is_published = False
    process.save()
    assert client.get(src).status_code == 404
    login(client, make_user())
    assert client.get(src).status_code == 404


def test_the_image_is_not_served_for_another_city(client, process, make_user, other_city, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, other_city.domain]
    _idea, src = post_idea_with_image(client, process, make_user())
    assert client.get(src, HTTP_HOST=other_city.domain).status_code == 404


def test_a_replaced_or_unknown_file_is_not_served(client, process, make_user, media_root):
    idea, src = post_idea_with_image(client, process, make_user())
    stray = media_root / "ideas" / "stray.png"
    stray.write_bytes(encoded(Image.new("RGB", (4, 4)), "PNG"))
    assert client.get("/media/ideas/stray.png").status_code == 404  # on the disk, but no idea's
    Idea.objects.filter(pk=idea.pk).update(image="")
    assert client.get(src).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/media/ideas/../secret_key",
        "/media/ideas/%2e%2e/%2e%2e/secret_key",
        "/media/ideas/.hidden.png",
        "/media/secret_key",
        "/media/other/x.png",
        "/media/ideas/x.svg",
        "/media/ideas/x.html",
    ],
)
def test_nothing_else_under_media_is_served(client, process, make_user, media_root, path):
    (media_root / "secret_key").write_text("do not serve")
    (media_root / "ideas").mkdir(exist_ok=True)
    (media_root / "ideas" / "x.svg").write_text("<svg/>")
    assert client.get(path).status_code == 404


def test_only_get_and_head(client, process, make_user):
    _idea, src = post_idea_with_image(client, process, make_user())
    assert client.head(src).status_code == 200
    assert client.post(src).status_code == 405


def test_behind_nginx_the_file_is_handed_over_with_x_accel_redirect(
    client, process, make_user, settings
):
    idea, src = post_idea_with_image(client, process, make_user())
    settings.HERZSTADT_MEDIA_ACCEL_REDIRECT = "/_protected-media/"
    response = client.get(src)
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == "/_protected-media/" + idea.image.name
    assert response["Content-Type"] == "image/png"
    assert response.content == b""
    Idea.objects.filter(pk=idea.pk).update(hidden_at=timezone.now())
    response = client.get(src)
    assert response.status_code == 404 and "X-Accel-Redirect" not in response
