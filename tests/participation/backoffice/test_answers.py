"""Answering ideas: the list filtered by status, one form per idea, notifications."""

import pytest

from herzstadt.accounts.models import Notification
from herzstadt.participation import services
from herzstadt.participation.models import Idea
from herzstadt.participation.notifications import NotificationKind
from tests.conftest import login
from tests.factories import make_measure
from tests.participation.backoffice.conftest import bo_url

pytestmark = pytest.mark.django_db


def _post(idea, **fields):
    return {f"idea-{idea.pk}-{k}": v for k, v in fields.items()}


def test_answer_notifies_author_and_followers(client, world, actors, make_user, city):
    idea, anna = world["idea"], world["anna"]
    follower = make_user(name="Fiona")
    services.follow(follower, idea=idea)
    measure = make_measure(city, world["process"].district)
    login(client, actors["staff"])
    url = bo_url("ideas", slug=world["process"].slug)
    response = client.post(
        bo_url("idea-answer", slug=world["process"].slug, pk=idea.pk),
        {
            **_post(idea, status="accepted", reason="Wir bauen ihn 2026.", measure=measure.pk),
            "next": url + "?status=received",
        },
    )
    assert response.status_code == 302 and response["Location"] == url + "?status=received"
    idea.refresh_from_db()
    assert (idea.status, idea.status_reason, idea.measure) == (
        "accepted",
        "Wir bauen ihn 2026.",
        measure,
    )
    assert idea.status_changed_at is not None
    answered = Notification.objects.filter(kind=NotificationKind.ANSWERED, subject=idea.title)
    assert set(answered.values_list("user_id", flat=True)) >= {anna.pk, follower.pk}
    assert not answered.filter(user=actors["staff"]).exists()


def test_reason_is_required_except_for_received(client, world, actors):
    idea = world["idea"]
    login(client, actors["staff"])
    response = client.post(
        bo_url("idea-answer", slug=world["process"].slug, pk=idea.pk),
        _post(idea, status="rejected", reason=" "),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-invalid="true"' in html and f'id="id_idea-{idea.pk}-reason_error"' in html
    idea.refresh_from_db()
    assert idea.status == "received"
    assert not Notification.objects.filter(kind=NotificationKind.ANSWERED).exists()


def test_list_filters_by_status(client, world, actors, process):
    Idea.objects.create(
        city=process.city, process=process, title="Schon angenommen", body="x", status="accepted"
    )
    login(client, actors["staff"])
    base = bo_url("ideas", slug=process.slug)
    html = client.get(base).content.decode()
    assert "Trinkbrunnen" in html and "Schon angenommen" in html
    html = client.get(base + "?status=accepted").content.decode()
    assert "Schon angenommen" in html and "Trinkbrunnen" not in html
    html = client.get(base + "?status=received").content.decode()
    assert "Schon angenommen" not in html and "Trinkbrunnen" in html
    # one form per idea, with unique field ids
    assert f'id="id_idea-{world["idea"].pk}-status"' in html
    assert client.get(base + "?status=bogus").status_code == 200  # invalid filter: ignored
