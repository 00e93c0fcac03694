"""The citizen pages: read without an account, contribute after sign-in, permission matrix for the five
actors, accessibility in German and English, XSS, images, GeoJSON."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image

from herzstadt.accounts.models import Role
from herzstadt.participation import services
from herzstadt.participation.models import Comment, Idea, Report, Support
from tests.conftest import login
from tests.core.test_views import check_accessible
from tests.factories import make_measure

pytestmark = pytest.mark.django_db


@pytest.fixture
def idea(process, make_user, point_inside):
    return services.post_idea(
        make_user(name="Anna"),
        process,
        title="Trinkbrunnen am Platz",
        body="Ein Trinkbrunnen für heiße Sommertage.",
        lon=point_inside[0],
        lat=point_inside[1],
    )


def url(name, **kw):
    from django.urls import reverse

    with translation.override("de"):
        return reverse(f"participation:{name}", kwargs=kw)


def test_pages_accessible_in_both_languages(client, process, idea):
    comment = services.add_comment(idea.author, idea, "Erster!")
    services.add_comment(idea.author, idea, "Antwort", parent=comment)
    for lang in ("de", "en"):
        with translation.override(lang):
            pages = [
                url("processes") if lang == "de" else "/en/participation/",
                process.get_absolute_url(),
                idea.get_absolute_url(),
            ]
        for page in pages:
            response = client.get(page)
            assert response.status_code == 200, page
            check_accessible(response.content.decode(), lang)


def test_idea_form_accessible_for_citizen(client, process, make_user):
    login(client, make_user())
    for lang, path in (
        ("de", "/beteiligung/test-pfaff/ideen/neu/"),
        ("en", "/en/participation/test-pfaff/ideas/new/"),
    ):
        response = client.get(path)
        assert response.status_code == 200
        check_accessible(response.content.decode(), lang)


def test_german_urls_and_english_content(client, process):
    assert url("process", slug="test-pfaff") == "/beteiligung/test-pfaff/"
    html = client.get("/en/participation/test-pfaff/").content.decode()
    assert "Phases" in html and "Sign in to take part" in html


# --- permission matrix -----------------------------------------------------------------------------
@pytest.mark.parametrize("actor", ["anonymous", "citizen", "moderator", "staff", "other_staff"])
def test_read_pages_open_to_everyone(client, actors, process, idea, actor):
    login(client, actors[actor])
    for page in (url("processes"), process.get_absolute_url(), idea.get_absolute_url()):
        assert client.get(page).status_code == 200


@pytest.mark.parametrize("actor", ["anonymous", "citizen", "moderator", "staff", "other_staff"])
def test_contributing_needs_sign_in(client, actors, process, idea, actor):
    user = actors[actor]
    login(client, user)
    posts = [
        (
            url("idea-create", slug=process.slug),
            {"title": "Neue Bank am Weg", "body": "Eine Bank zum Ausruhen für Ältere."},
        ),
        (url("comment", slug=process.slug, pk=idea.pk), {"body": "Gute Idee"}),
        (url("support", slug=process.slug, pk=idea.pk), {}),
        (url("idea-follow", slug=process.slug, pk=idea.pk), {}),
        (url("process-follow", slug=process.slug), {}),
        (url("report", slug=process.slug, pk=idea.pk), {"reason": "Test"}),
    ]
    for path, data in posts:
        response = client.post(path, data)
        assert response.status_code == 302, path
        if user is None:
            assert response["Location"].startswith("/accounts/login/"), path
    if user is None:
        assert (
            process.ideas.count() == 1
            and Comment.objects.filter(idea__process=process).count() == 0
        )
        assert (
            Support.objects.filter(idea__process=process).count() == 0
            and Report.objects.filter(idea__process=process).count() == 0
        )
    else:
        # staff of another city are citizens here: they may take part like anyone else
        assert Idea.objects.filter(author=user).count() == 1
        assert Comment.objects.filter(author=user).count() == 1
        assert Support.objects.filter(user=user).count() == 1
        assert Report.objects.filter(reporter=user).count() == 1


def test_unverified_person_sees_why(client, process, idea, make_user):
    login(client, make_user(verified=False))
    response = client.get(url("idea-create", slug=process.slug))
    assert response.status_code == 403
    assert "E-Mail-Adresse" in response.content.decode()
    response = client.post(url("support", slug=process.slug, pk=idea.pk))
    assert (
        response.status_code == 403 and Support.objects.filter(idea__process=process).count() == 0
    )


def test_posting_closed_outside_idea_phase(client, process, make_user):
    process.phases.filter(kind="ideas").update(kind="discussion")
    login(client, make_user())
    response = client.post(
        url("idea-create", slug=process.slug), {"title": "Neue Bank", "body": "x" * 30}
    )
    assert response.status_code == 403
    assert process.ideas.count() == 0


def test_unpublished_process_only_for_staff(client, process, actors):
    process.is_published = False
    process.save()
    expected = {
        "anonymous": 404,
        "citizen": 404,
        "moderator": 404,
        "staff": 200,
        "other_staff": 404,
    }
    for actor, status in expected.items():
        client.logout()
        login(client, actors[actor])
        assert client.get(process.get_absolute_url()).status_code == status, actor


def test_process_of_another_city_is_404(client, process, other_city, settings):
    settings.ALLOWED_HOSTS = ["*"]
    response = client.get(process.get_absolute_url(), HTTP_HOST="musterstadt.example")
    assert response.status_code == 404


# --- posting through the form ------------------------------------------------------------------------
def test_post_idea_via_form_with_german_decimal_comma(client, process, make_user, point_inside):
    login(client, make_user())
    lon, lat = point_inside
    response = client.post(
        url("idea-create", slug=process.slug),
        {
            "title": "Sitzbänke mit Lehne",
            "body": "Bänke mit Rückenlehne für ältere Menschen am Platz.",
            "lat": f"{lat:.5f}".replace(".", ","),
            "lon": f"{lon:.5f}",
            "location_text": "Am Kesselhaus",
            "category": process.categories.first().pk,
        },
    )
    idea = process.ideas.get()
    assert response.status_code == 302 and response["Location"] == idea.get_absolute_url()
    assert abs(idea.lat - lat) < 1e-4 and idea.location_text == "Am Kesselhaus"


def test_point_outside_district_gives_form_error(client, process, make_user):
    login(client, make_user())
    response = client.post(
        url("idea-create", slug=process.slug),
        {
            "title": "Irgendwo anders",
            "body": "Eine Idee weit weg vom Pfaff-Areal.",
            "lat": "49.40",
            "lon": "7.70",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "außerhalb" in html and 'class="error-summary"' in html
    assert process.ideas.count() == 0


def test_bad_coordinates_and_half_points(client, process, make_user):
    login(client, make_user())
    for data in (
        {"lat": "abc", "lon": "7.7"},
        {"lat": "49.44", "lon": ""},
        {"lat": "99", "lon": "7.7"},
    ):
        response = client.post(
            url("idea-create", slug=process.slug), {"title": "Eine Idee", "body": "y" * 30, **data}
        )
        assert response.status_code == 400, data
    assert process.ideas.count() == 0


def jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (40, 30), (200, 30, 60))
    exif = Image.Exif()
    exif[0x010F] = "Phone maker"
    exif[0x8825] = {2: (49.0, 26.0, 40.0)}  # GPS IFD
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_image_upload_reencoded_without_exif(client, process, make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    data = jpeg_with_gps()
    assert Image.open(io.BytesIO(data)).getexif()
    login(client, make_user())
    response = client.post(
        url("idea-create", slug=process.slug),
        {
            "title": "Bild vom Ort",
            "body": "So sieht es dort heute aus, leider sehr grau.",
            "image": SimpleUploadedFile("foto.jpg", data, content_type="image/jpeg"),
            "image_alt": "Grauer Parkplatz",
        },
    )
    assert response.status_code == 302
    idea = process.ideas.get()
    with Image.open(idea.image.path) as stored:
        assert stored.format == "JPEG" and not stored.getexif()
    html = client.get(idea.get_absolute_url()).content.decode()
    assert 'alt="Grauer Parkplatz"' in html


@pytest.mark.parametrize(
    ("name", "content", "alt"),
    [
        ("evil.jpg", b"<script>alert(1)</script>", "x"),  # not an image
        ("anim.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "x"),  # not an allowed type
        ("ok.jpg", None, ""),  # image without a description
    ],
)
def test_bad_images_rejected(client, process, make_user, settings, tmp_path, name, content, alt):
    settings.MEDIA_ROOT = tmp_path
    login(client, make_user())
    response = client.post(
        url("idea-create", slug=process.slug),
        {
            "title": "Mit Bild",
            "body": "Ein Text, der lang genug ist für die Prüfung.",
            "image": SimpleUploadedFile(name, content or jpeg_with_gps()),
            "image_alt": alt,
        },
    )
    assert response.status_code == 400
    assert process.ideas.count() == 0


def test_oversized_image_rejected(client, process, make_user, monkeypatch):
    from herzstadt.participation import forms

    monkeypatch.setattr(forms, "MAX_IMAGE_BYTES", 100)
    login(client, make_user())
    response = client.post(
        url("idea-create", slug=process.slug),
        {
            "title": "Großes Bild",
            "body": "z" * 30,
            "image": SimpleUploadedFile("a.jpg", jpeg_with_gps()),
            "image_alt": "a",
        },
    )
    assert response.status_code == 400 and "5 MB" in response.content.decode()


# --- XSS ---------------------------------------------------------------------------------------------
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_user_content_is_escaped(client, process, make_user):
    user = make_user(name=f"Mallory{XSS}"[:60])
    idea = services.post_idea(user, process, title=f"T {XSS}"[:140], body=f"Body {XSS}")
    services.add_comment(user, idea, f"Kommentar {XSS}")
    for page in (process.get_absolute_url(), idea.get_absolute_url()):
        html = client.get(page).content.decode()
        assert "<script>alert" not in html and "<img src=x onerror" not in html
        assert "&lt;script&gt;" in html


def test_staff_description_sanitised(client, process):
    process.description = '<p>Hallo <a href="javascript:alert(1)">x</a><script>alert(2)</script> <strong>ok</strong></p>'
    process.save()
    html = client.get(process.get_absolute_url()).content.decode()
    assert "<strong>ok</strong>" in html
    assert "javascript:" not in html and "<script>alert(2)" not in html


def test_csp_header_and_csrf(client, process, make_user):
    response = client.get(process.get_absolute_url())
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "object-src 'none'" in csp and "unsafe-inline" not in csp
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    login(strict, make_user())
    response = strict.post(
        url("idea-create", slug=process.slug), {"title": "Ohne Token", "body": "x" * 30}
    )
    assert response.status_code == 403 and process.ideas.count() == 0


# --- hidden content, answers, comments -----------------------------------------------------------------
def test_hidden_idea_shows_reason_not_content(client, process, idea, make_user, city):
    services.hide(make_user(Role.MODERATOR, city), idea, "Werbung")
    html = client.get(idea.get_absolute_url()).content.decode()
    assert "Werbung" in html and "Trinkbrunnen für heiße" not in html
    assert "Trinkbrunnen am Platz" not in client.get(process.get_absolute_url()).content.decode()
    login(client, make_user(Role.MODERATOR, city))
    assert "Trinkbrunnen für heiße" in client.get(idea.get_absolute_url()).content.decode()


def test_answered_idea_shows_status_reason_and_measure(client, idea, make_user, city):
    measure = make_measure(city, idea.process.district)
    services.answer_idea(make_user(Role.STAFF, city), idea, "accepted", "Kommt 2027.", measure)
    html = client.get(idea.get_absolute_url()).content.decode()
    assert "angenommen" in html and "Kommt 2027." in html and measure.get_absolute_url() in html


def test_comment_errors_shown_on_idea_page(client, process, idea, make_user):
    login(client, make_user())
    response = client.post(url("comment", slug=process.slug, pk=idea.pk), {"body": ""})
    assert response.status_code == 400
    assert 'class="error-summary"' in response.content.decode()


def test_reply_to_foreign_comment_rejected(client, process, idea, make_user):
    other = services.post_idea(
        idea.author, process, title="Andere Idee", body="Noch eine Idee hier."
    )
    foreign = services.add_comment(idea.author, other, "Dort")
    login(client, make_user())
    response = client.post(
        url("comment", slug=process.slug, pk=idea.pk), {"body": "Hallo", "parent": foreign.pk}
    )
    assert response.status_code == 400
    assert Comment.objects.filter(idea=idea).count() == 0


def test_support_toggle_via_form(client, process, idea, make_user):
    login(client, make_user())
    client.post(url("support", slug=process.slug, pk=idea.pk))
    client.post(url("support", slug=process.slug, pk=idea.pk))
    idea.refresh_from_db()
    assert idea.support_count == 1
    assert 'aria-pressed="true"' in client.get(idea.get_absolute_url()).content.decode()
    client.post(url("support", slug=process.slug, pk=idea.pk), {"action": "withdraw"})
    idea.refresh_from_db()
    assert idea.support_count == 0


def test_filters_and_bad_filter_values(client, process, idea):
    assert client.get(process.get_absolute_url() + "?status=accepted").status_code == 200
    html = client.get(
        process.get_absolute_url() + "?status=nonsense&sort=evil&page=abc"
    ).content.decode()
    assert "Trinkbrunnen am Platz" in html


def test_ideas_geojson(client, process, idea):
    services.post_idea(
        idea.author, process, title="Ohne Ort", body="Eine Idee ohne Punkt auf der Karte."
    )
    response = client.get(f"/api/v1/processes/{process.slug}/ideas.geojson")
    assert response.status_code == 200 and response["Content-Type"] == "application/geo+json"
    data = json.loads(response.content)
    assert [f["properties"]["name"] for f in data["features"]] == ["Trinkbrunnen am Platz"]
    lon, lat = data["features"][0]["geometry"]["coordinates"]
    assert (lon, lat) == (idea.lon, idea.lat)


def test_core_pages_show_participation(client, demo):
    from herzstadt.core.models import Measure
    from herzstadt.participation.models import Idea

    process_title = "Zukunft Pfaff-Areal: Wie wollen wir hier leben?"
    assert process_title in client.get("/").content.decode()
    assert process_title in client.get("/stadtteile/pfaff-areal/").content.decode()
    idea = Idea.objects.filter(measure__isnull=False).select_related("measure").first()
    html = client.get(idea.measure.get_absolute_url()).content.decode()
    assert idea.get_absolute_url() in html
    check_accessible(html, "de")
    other = Measure.objects.filter(city=demo, ideas__isnull=True, processes__isnull=True).first()
    assert "participation-title" not in client.get(other.get_absolute_url()).content.decode()


@pytest.mark.parametrize("actor", ["anonymous", "citizen", "moderator", "staff", "other_staff"])
def test_machine_readable_endpoints_for_each_actor(client, actors, process, idea, actor):
    """Public, language-independent data of published processes: the same for everyone, no personal
    data; an unpublished process is 404 for everyone (the back office has its own exports)."""
    login(client, actors[actor])
    endpoints = [
        f"/api/v1/processes/{process.slug}/ideas.geojson",
        f"/api/v1/processes/{process.slug}/open-data.json",
        f"/api/v1/processes/{process.slug}/open-data.csv",
        f"/api/v1/processes/{process.slug}/open-data.geojson",
    ]
    for endpoint in endpoints:
        response = client.get(endpoint)
        assert response.status_code == 200, endpoint
        body = response.content.decode("utf-8-sig")
        assert "Trinkbrunnen am Platz" in body and "Anna" not in body and "@example.org" not in body
    process.is_published = False
    process.save()
    for endpoint in endpoints:
        assert client.get(endpoint).status_code == 404, endpoint
