"""Accessibility of the back-office pages in German and English (one h1, headings in order, labels,
landmarks), and that the English pages are English."""

import pytest

from tests.conftest import login
from tests.core.test_views import check_accessible
from tests.participation.backoffice.conftest import bo_url

pytestmark = pytest.mark.django_db


def pages(w):
    p = w["process"].slug
    return [
        ("home", {}),
        ("moderation", {}),
        ("hidden", {}),
        ("blocked", {}),
        ("idea-hide", {"pk": w["idea"].pk}),
        ("comment-block", {"pk": w["comment"].pk}),
        ("report-dismiss", {"pk": w["idea_report"].pk}),
        ("unblock", {"user_id": w["troll"].pk}),
        ("process-create", {}),
        ("process", {"slug": p}),
        ("process-edit", {"slug": p}),
        ("phase-create", {"slug": p}),
        ("phase-edit", {"slug": p, "pk": w["phase"].pk}),
        ("phase-delete", {"slug": p, "pk": w["phase"].pk}),
        ("category-create", {"slug": p}),
        ("survey-create", {"slug": p}),
        ("survey-edit", {"slug": p, "pk": w["survey"].pk}),
        ("question-create", {"slug": p, "pk": w["survey"].pk}),
        ("question-edit", {"slug": p, "pk": w["survey"].pk, "qpk": w["question"].pk}),
        ("ideas", {"slug": p}),
        ("idea-answer", {"slug": p, "pk": w["idea"].pk}),
        ("statistics", {"slug": p}),
        ("exports", {"slug": p}),
        ("roles", {}),
        ("role-remove", {"user_id": w["moderator"].pk}),
    ]


def test_pages_are_accessible_in_german_and_english(client, world, actors):
    from herzstadt.participation.models import SurveyResponse

    world["moderator"] = actors["moderator"]
    SurveyResponse.objects.create(
        city=world["process"].city,
        survey=world["survey"],
        answers={str(world["question"].pk): "oft"},
    )
    login(client, actors["staff"])
    for name, kwargs in pages(world):
        for lang in ("de", "en"):
            url = bo_url(name, lang, **kwargs)
            response = client.get(url)
            assert response.status_code == 200, url
            html = response.content.decode()
            check_accessible(html, lang)
            assert " style=" not in html, f"inline style on {url}"


def test_form_errors_are_accessible(client, world, actors):
    login(client, actors["staff"])
    for lang in ("de", "en"):
        response = client.post(bo_url("process-create", lang), {"title": ""})
        html = response.content.decode()
        check_accessible(html, lang)
        assert 'role="alert"' in html and 'href="#id_title"' in html


def test_english_pages_are_english_and_german_pages_german(client, world, actors):
    login(client, actors["moderator"])
    en = client.get(bo_url("moderation", "en")).content.decode()
    assert "Reports" in en and "Hide" in en and "Meldungen" not in en
    de = client.get(bo_url("moderation", "de")).content.decode()
    assert "Meldungen" in de and "Ausblenden" in de


def test_moderators_do_not_see_staff_links(client, world, actors):
    login(client, actors["moderator"])
    html = client.get(bo_url("home")).content.decode()
    assert bo_url("roles") not in html and bo_url("process-create") not in html
    assert world["process"].get_absolute_url() in html
    login(client, actors["staff"])
    html = client.get(bo_url("home")).content.decode()
    assert bo_url("roles") in html and bo_url("process", slug=world["process"].slug) in html
