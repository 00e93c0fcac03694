"""Issue 10, part 7: draft and published states for processes and surveys. Drafts are seen only by
the city's staff (a preview); a survey without questions cannot be published; publishing is an
explicit action in the back office; surveys that existed before are published by the migration."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from herzstadt.participation.backoffice import commands
from herzstadt.participation.models import Process, Question, QuestionKind, Survey
from tests.conftest import bo_url, login

pytestmark = pytest.mark.django_db


def public_url(survey: Survey) -> str:
    with translation.override("de"):
        return reverse(
            "participation:survey", kwargs={"slug": survey.process.slug, "pk": survey.pk}
        )


def add_question(survey: Survey) -> Question:
    return Question.objects.create(
        city=survey.city, survey=survey, kind=QuestionKind.TEXT, text="Was wünschen Sie sich?"
    )


def test_a_new_survey_is_a_draft_only_staff_preview(client, process, actors):
    login(client, actors["staff"])
    response = client.post(
        bo_url("survey-create", slug=process.slug), {"title": "Wie mobil?", "description": ""}
    )
    survey = Survey.objects.get(process=process, title="Wie mobil?")
    assert response.status_code == 302 and not survey.is_published
    add_question(survey)
    expected = {"anonymous": 404, "citizen": 404, "moderator": 404, "other_staff": 404}
    for actor, status in expected.items():
        client.logout()
        login(client, actors[actor])
        assert client.get(public_url(survey)).status_code == status, actor
        assert "Wie mobil?" not in client.get(process.get_absolute_url()).content.decode()
    # a citizen cannot answer a draft, even knowing its address
    login(client, actors["citizen"])
    assert client.post(public_url(survey), {f"q{survey.questions.get().pk}": "Bäume"}).status_code
    assert not survey.responses.exists()
    client.logout()
    login(client, actors["staff"])
    html = client.get(public_url(survey)).content.decode()
    assert "Vorschau eines Entwurfs" in html and "Was wünschen Sie sich?" in html
    assert 'name="form_token"' not in html and "Antworten senden" not in html
    listing = client.get(process.get_absolute_url()).content.decode()
    assert "Wie mobil?" in listing and "Entwurf" in listing
    assert client.post(public_url(survey), {}).status_code == 403


def test_a_survey_without_questions_cannot_be_published(client, process, actors):
    survey = Survey.objects.create(city=process.city, process=process, title="Leer")
    login(client, actors["staff"])
    publish = bo_url("survey-publish", slug=process.slug, pk=survey.pk)
    response = client.post(publish, {"action": "publish"}, follow=True)
    survey.refresh_from_db()
    assert not survey.is_published
    assert "ohne Fragen kann nicht veröffentlicht werden" in response.content.decode()
    with pytest.raises(ValidationError):
        commands.publish_survey(actors["staff"], survey)
    question = add_question(survey)
    response = client.post(publish, {"action": "publish"})
    survey.refresh_from_db()
    assert response.status_code == 302 and survey.is_published
    client.logout()
    assert client.get(public_url(survey)).status_code == 200
    # the only question of a published survey cannot be deleted
    login(client, actors["staff"])
    delete = bo_url("question-delete", slug=process.slug, pk=survey.pk, qpk=question.pk)
    response = client.post(delete, follow=True)
    assert survey.questions.count() == 1
    assert "einzige Frage" in response.content.decode()
    # taken back to a draft, it disappears for the public again
    client.post(publish, {"action": "unpublish"})
    survey.refresh_from_db()
    assert not survey.is_published
    client.logout()
    assert client.get(public_url(survey)).status_code == 404


@pytest.mark.parametrize(
    ("actor", "status", "published"),
    [
        ("anonymous", 302, False),
        ("citizen", 403, False),
        ("moderator", 403, False),
        ("other_staff", 403, False),
        ("staff", 302, True),
    ],
)
def test_publishing_is_an_explicit_staff_action(client, process, actors, actor, status, published):
    Process.objects.filter(pk=process.pk).update(is_published=False)
    survey = Survey.objects.create(city=process.city, process=process, title="U")
    add_question(survey)
    login(client, actors[actor])
    for name, kwargs in (
        ("process-publish", {"slug": process.slug}),
        ("survey-publish", {"slug": process.slug, "pk": survey.pk}),
    ):
        address = bo_url(name, **kwargs)
        assert client.get(address).status_code == 405  # never by following a link
        response = client.post(address, {"action": "publish"})
        assert response.status_code == status, (name, actor)
    process.refresh_from_db()
    survey.refresh_from_db()
    assert process.is_published is published and survey.is_published is published


def test_a_draft_process_is_a_staff_preview(client, process, actors):
    Process.objects.filter(pk=process.pk).update(is_published=False)
    login(client, actors["staff"])
    html = client.get(process.get_absolute_url()).content.decode()
    assert "Vorschau eines Entwurfs" in html
    hub = client.get(bo_url("process", slug=process.slug)).content.decode()
    assert "Entwurf" in hub and "Verfahren veröffentlichen" in hub
    client.post(bo_url("process-publish", slug=process.slug), {"action": "publish"})
    client.logout()
    assert client.get(process.get_absolute_url()).status_code == 200
    # the edit form no longer publishes as a side effect
    login(client, actors["staff"])
    form = client.get(bo_url("process-edit", slug=process.slug)).content.decode()
    assert 'name="is_published"' not in form


@pytest.mark.django_db(transaction=True)
def test_the_migration_publishes_surveys_that_existed(city):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from tests.factories import make_process

    process = make_process(city)
    executor = MigrationExecutor(connection)
    before = [("participation", "0004_ux_look_leichte_sprache")]
    after = [("participation", "0005_ux_own_survey_drafts")]
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps.get_model("participation", "Survey")
        old.objects.create(city_id=city.pk, process_id=process.pk, title="Alt", i18n={})
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(after)
        migrated = executor.loader.project_state(after).apps.get_model("participation", "Survey")
        assert migrated.objects.get(title="Alt").is_published
        assert not migrated.objects.create(
            city_id=city.pk, process_id=process.pk, title="Neu", i18n={}
        ).is_published
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(latest)
