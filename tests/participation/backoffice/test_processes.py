"""Processes, phases, categories, surveys and questions: plain forms with validation, and the commands
behind them check the role themselves."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from herzstadt.core.models import District
from herzstadt.participation.backoffice import commands
from herzstadt.participation.models import Category, Phase, Process, Question, Survey
from tests.conftest import login
from tests.participation.backoffice.conftest import bo_url

pytestmark = pytest.mark.django_db


def local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def test_create_and_edit_a_process(client, city, actors):
    login(client, actors["staff"])
    district = District.objects.get(city=city, slug="pfaff-areal")
    data = {
        "title": "Neuer Park",
        "slug": "neuer-park",
        "summary": "Wie soll der Park aussehen?",
        "description": "",
        "district": district.pk,
    }
    response = client.post(bo_url("process-create"), data)
    assert response.status_code == 302 and response["Location"] == bo_url(
        "process", slug="neuer-park"
    )
    process = Process.objects.get(slug="neuer-park")
    # a new process is a draft; publishing is an explicit action (tests/participation/test_ux_drafts.py)
    assert process.city == city and process.district == district and not process.is_published
    # the slug is unique per city
    response = client.post(bo_url("process-create"), data)
    assert response.status_code == 200 and 'aria-invalid="true"' in response.content.decode()
    assert Process.objects.filter(slug="neuer-park").count() == 1
    # editing may change the address
    response = client.post(bo_url("process-edit", slug="neuer-park"), {**data, "slug": "park"})
    assert response.status_code == 302 and response["Location"] == bo_url("process", slug="park")
    process.refresh_from_db()
    assert process.slug == "park"


def test_invalid_process_shows_errors_next_to_fields(client, city, actors):
    login(client, actors["staff"])
    response = client.post(
        bo_url("process-create"), {"title": "", "slug": "kein slug!", "summary": ""}
    )
    assert response.status_code == 200
    html = response.content.decode()
    for field in ("title", "slug", "summary"):
        assert f'id="id_{field}_error"' in html
        assert f'aria-describedby="id_{field}_error"' in html or f'id_{field}_error"' in html
    assert not Process.objects.filter(title="").exists()


def test_phase_create_validates_order_and_overlap(client, process, actors):
    login(client, actors["staff"])
    url = bo_url("phase-create", slug=process.slug)
    evaluation = process.phases.get(kind="evaluation")
    start = evaluation.end + dt.timedelta(days=1)
    base = {"kind": "results", "title": "Ergebnisse", "description": ""}
    # end before start
    response = client.post(
        url, {**base, "start": local(start), "end": local(start - dt.timedelta(days=1))}
    )
    assert response.status_code == 200 and 'id="id_end_error"' in response.content.decode()
    # overlapping the evaluation phase
    response = client.post(
        url,
        {
            **base,
            "start": local(evaluation.start + dt.timedelta(days=1)),
            "end": local(start + dt.timedelta(days=5)),
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_start_error"' in html and evaluation.title in html
    assert process.phases.count() == 3
    # fine
    response = client.post(
        url, {**base, "start": local(start), "end": local(start + dt.timedelta(days=10))}
    )
    assert response.status_code == 302
    assert process.phases.filter(kind="results").exists()


def test_phases_may_touch_and_edit_ignores_itself(client, city, actors):
    process = Process.objects.create(city=city, slug="p2", title="P2", summary="s")
    t0 = timezone.localtime().replace(second=0, microsecond=0) + dt.timedelta(days=3)
    first = Phase.objects.create(
        city=city,
        process=process,
        kind="information",
        title="Info",
        start=t0,
        end=t0 + dt.timedelta(days=2),
    )
    login(client, actors["staff"])
    response = client.post(
        bo_url("phase-create", slug="p2"),
        {
            "kind": "ideas",
            "title": "Ideen",
            "start": local(first.end),
            "end": local(first.end + dt.timedelta(days=5)),
        },
    )
    assert response.status_code == 302
    # moving the first phase within its own span is no overlap with itself
    response = client.post(
        bo_url("phase-edit", slug="p2", pk=first.pk),
        {
            "kind": "information",
            "title": "Info neu",
            "start": local(t0 - dt.timedelta(days=1)),
            "end": local(first.end),
        },
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.title == "Info neu"
    # delete
    assert client.post(bo_url("phase-delete", slug="p2", pk=first.pk)).status_code == 302
    assert not Phase.objects.filter(pk=first.pk).exists()


def test_categories(client, process, actors):
    login(client, actors["staff"])
    response = client.post(bo_url("category-create", slug=process.slug), {"name": "Wohnen"})
    assert response.status_code == 302
    category = Category.objects.get(process=process, name="Wohnen")
    response = client.post(bo_url("category-create", slug=process.slug), {"name": "wohnen"})
    assert response.status_code == 200 and 'id="id_name_error"' in response.content.decode()
    client.post(
        bo_url("category-edit", slug=process.slug, pk=category.pk), {"name": "Wohnen und Leben"}
    )
    category.refresh_from_db()
    assert category.name == "Wohnen und Leben" and category.city_id == process.city_id
    client.post(bo_url("category-delete", slug=process.slug, pk=category.pk))
    assert not Category.objects.filter(pk=category.pk).exists()


def test_survey_and_questions(client, process, actors):
    login(client, actors["staff"])
    response = client.post(
        bo_url("survey-create", slug=process.slug),
        {"title": "Wie mobil?", "description": "", "allow_anonymous": "on", "results_public": ""},
    )
    survey = Survey.objects.get(process=process, title="Wie mobil?")
    assert response.status_code == 302 and response["Location"] == bo_url(
        "survey-edit", slug=process.slug, pk=survey.pk
    )
    assert (
        survey.allow_anonymous and not survey.results_public and survey.city_id == process.city_id
    )
    url = bo_url("question-create", slug=process.slug, pk=survey.pk)
    base = {
        "text": "Womit kommen Sie?",
        "help_text": "",
        "scale_max": 5,
        "required": "on",
        "position": 1,
    }
    # a single choice needs two choices
    response = client.post(url, {**base, "kind": "single", "choices_text": "Rad"})
    assert response.status_code == 200 and 'id="id_choices_text_error"' in response.content.decode()
    # a rating scale runs to 2..10
    response = client.post(url, {**base, "kind": "rating", "scale_max": 11})
    assert response.status_code == 200 and 'id="id_scale_max_error"' in response.content.decode()
    # free text has no choices
    response = client.post(url, {**base, "kind": "text", "choices_text": "a\nb"})
    assert response.status_code == 200 and 'id="id_choices_text_error"' in response.content.decode()
    assert not survey.questions.exists()
    response = client.post(
        url, {**base, "kind": "multiple", "choices_text": " Rad \r\n\r\nBus\nAuto\n"}
    )
    assert response.status_code == 302
    question = Question.objects.get(survey=survey)
    assert question.choices == ["Rad", "Bus", "Auto"] and question.city_id == process.city_id
    edit = bo_url("question-edit", slug=process.slug, pk=survey.pk, qpk=question.pk)
    assert "Rad\nBus\nAuto" in client.get(edit).content.decode()
    client.post(edit, {**base, "kind": "rating", "scale_max": 7, "choices_text": ""})
    question.refresh_from_db()
    assert question.kind == "rating" and question.choices == [] and question.scale_max == 7
    client.post(bo_url("question-delete", slug=process.slug, pk=survey.pk, qpk=question.pk))
    assert not survey.questions.exists()


def test_commands_check_the_role_themselves(process, actors, other_city):
    now = timezone.now()
    phase = Phase(
        process=process,
        kind="results",
        title="x",
        start=now + dt.timedelta(days=40),
        end=now + dt.timedelta(days=50),
    )
    for actor in ("citizen", "moderator", "other_staff"):
        with pytest.raises(PermissionDenied):
            commands.save_phase(actors[actor], phase)
        with pytest.raises(PermissionDenied):
            commands.save_process(actors[actor], process.city, process)
    with pytest.raises(ValidationError):
        commands.save_phase(
            actors["staff"],
            Phase(
                process=process,
                kind="results",
                title="x",
                start=now,
                end=now + dt.timedelta(days=1),
            ),
        )
    foreign = District.objects.create(
        city=other_city,
        slug="d",
        name="D",
        boundary={"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
    )
    process.district = foreign
    with pytest.raises(ValidationError):
        commands.save_process(actors["staff"], process.city, process)
    assert commands.save_phase(actors["staff"], phase).pk
