"""Issue 10, part 9: forms that help people correct errors. After an error the title starts with
"Fehler: " and the error summary takes the focus; all field errors come at once; a chosen image that
cannot be kept is named with a plain request to choose it again; the survey time trap never refuses a
quick correction; an over-long search is refused with a message instead of showing everything."""

import re
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from herzstadt.accounts.models import Role
from tests.conftest import bo_url, login
from tests.factories import make_measure
from tests.participation.test_survey_views import form_data, stored, token_from
from tests.participation.test_survey_views import url as survey_url
from tests.participation.test_surveys import make_survey, questions
from tests.participation.test_views import jpeg_with_gps, url

pytestmark = pytest.mark.django_db


def title_of(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip()


def test_error_pages_say_error_in_the_title_and_focus_the_summary(client, process, make_user):
    login(client, make_user())
    ok = client.get(url("idea-create", slug=process.slug)).content.decode()
    assert not title_of(ok).startswith("Fehler")
    assert "error-focus.js" not in ok
    response = client.post(url("idea-create", slug=process.slug), {"title": "", "body": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert title_of(html).startswith("Fehler: Idee")
    summary = re.search(r'<div class="error-summary"[^>]*>', html).group(0)
    assert 'tabindex="-1"' in summary and "autofocus" in summary
    assert "herzstadt/error-focus.js" in html
    with translation.override("en"):
        en = client.post(
            reverse("participation:idea-create", kwargs={"slug": process.slug}), {"title": ""}
        )
    assert title_of(en.content.decode()).startswith("Error: ")


def test_all_field_errors_come_at_once(client, process, make_user, settings, tmp_path):
    """A bad image and a point outside the district: both errors on the first try."""
    settings.MEDIA_ROOT = tmp_path
    login(client, make_user())
    response = client.post(
        url("idea-create", slug=process.slug),
        {
            "title": "Irgendwo",
            "body": "Eine Idee weit weg vom Pfaff-Areal.",
            "lat": "49.40",
            "lon": "7.70",
            "image": SimpleUploadedFile("evil.jpg", b"<script>", content_type="image/jpeg"),
            "image_alt": "x",
        },
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert "image" in form.errors and "lat" in form.errors
    assert "außerhalb" in str(form.errors["lat"])
    assert process.ideas.count() == 0


def test_a_good_image_is_named_and_asked_for_again(client, process, make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    login(client, make_user())
    response = client.post(
        url("idea-create", slug=process.slug),
        {
            "title": "Bild",  # too short
            "body": "So sieht es dort heute aus, leider sehr grau.",
            "image": SimpleUploadedFile("foto.jpg", jpeg_with_gps(), content_type="image/jpeg"),
            "image_alt": "Grauer Parkplatz",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Gewähltes Bild: foto.jpg" in html
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert "foto.jpg" in summary and "erneut" in summary
    assert process.ideas.count() == 0
    assert not list(tmp_path.rglob("*.jpg"))  # nothing stored half-way


def test_a_bad_image_is_not_asked_for_again(client, process, make_user):
    login(client, make_user())
    response = client.post(
        url("idea-create", slug=process.slug),
        {
            "title": "Mit Bild",
            "body": "Ein Text, der lang genug ist für die Prüfung.",
            "image": SimpleUploadedFile("evil.jpg", b"<script>", content_type="image/jpeg"),
            "image_alt": "x",
        },
    )
    assert response.status_code == 400
    assert "Gewähltes Bild" not in response.content.decode()


def test_the_survey_time_trap_never_refuses_a_correction(client, process, monkeypatch):
    survey = make_survey(process, title="Offene Umfrage", allow_anonymous=True)
    clock = [time.time()]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    html = client.get(survey_url("survey", survey)).content.decode()
    first = token_from(html)
    clock[0] += 10  # the person answers, forgetting a required question
    single = questions(survey)[0]
    response = client.post(
        survey_url("survey", survey),
        {**form_data(survey, **{f"q{single.pk}": ""}), "form_token": first},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert title_of(html).startswith("Fehler: ")
    assert token_from(html) == first  # the form keeps its first, earlier timestamp
    clock[0] += 1  # and corrects it at once
    response = client.post(
        survey_url("survey", survey), {**form_data(survey), "form_token": token_from(html)}
    )
    assert response.status_code == 302
    assert stored(survey).count() == 1


def test_a_survey_sent_too_fast_keeps_its_token(client, process, monkeypatch):
    survey = make_survey(process, title="Offene Umfrage", allow_anonymous=True)
    clock = [time.time()]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    first = token_from(client.get(survey_url("survey", survey)).content.decode())
    response = client.post(survey_url("survey", survey), {**form_data(survey), "form_token": first})
    assert response.status_code == 400 and not stored(survey).exists()
    assert token_from(response.content.decode()) == first
    clock[0] += 5
    response = client.post(survey_url("survey", survey), {**form_data(survey), "form_token": first})
    assert response.status_code == 302


def test_an_over_long_measure_search_is_refused_with_a_message(client, city):
    make_measure(city, title="Trinkbrunnen")
    with translation.override("de"):
        address = reverse("core:measures")
    assert "Trinkbrunnen" in client.get(address, {"q": "brunnen"}).content.decode()
    response = client.get(address, {"q": "x" * 5000})
    html = response.content.decode()
    assert "Es wurde nichts gesucht" in html and "100" in html
    assert "Trinkbrunnen" not in html
    assert title_of(html).startswith("Fehler: ")


def test_an_over_long_back_office_search_is_refused(client, process, city, make_user):
    from herzstadt.participation import services

    services.post_idea(
        make_user(), process, title="Trinkbrunnen", body="Ein Brunnen für heiße Tage, bitte."
    )
    login(client, make_user(Role.STAFF, city))
    address = bo_url("ideas", slug=process.slug)
    assert "Trinkbrunnen" in client.get(address).content.decode()
    html = client.get(address, {"q": "x" * 5000}).content.decode()
    assert "Es wurde nichts gesucht" in html and "Trinkbrunnen" not in html
