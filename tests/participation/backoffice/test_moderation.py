"""The moderation queue: report → hide → report resolved; restore; dismiss; block → no more posting."""

import re

import pytest
from django.core.exceptions import PermissionDenied

from herzstadt.accounts import roles
from herzstadt.participation import services
from herzstadt.participation.models import Report
from tests.conftest import login
from tests.participation.backoffice.conftest import bo_url

pytestmark = pytest.mark.django_db


def test_queue_lists_open_reports_with_content_reason_reporter_and_date(client, world, actors):
    login(client, actors["moderator"])
    html = client.get(bo_url("moderation")).content.decode()
    assert "2 offene Meldungen" in html or "2 open reports" in html
    for text in (
        "Trinkbrunnen",
        "Ein Brunnen am Platz.",
        "Das ist Werbung.",
        "Unfreundlicher Kommentar",
        "Beleidigend.",
        "Rita",
    ):
        assert text in html
    assert (
        not re.search(r"person\d+", html) and "@example.org" not in html
    )  # no usernames, no e-mail
    # inline forms for each action
    assert bo_url("idea-hide", pk=world["idea"].pk) in html
    assert bo_url("comment-block", pk=world["comment"].pk) in html
    assert bo_url("report-dismiss", pk=world["idea_report"].pk) in html


def test_hide_resolves_the_report_and_restore_shows_again(client, world, actors):
    login(client, actors["moderator"])
    idea, rep = world["idea"], world["idea_report"]
    queue = bo_url("moderation")
    response = client.post(bo_url("idea-hide", pk=idea.pk), {"reason": "Werbung", "next": queue})
    assert response.status_code == 302 and response["Location"] == queue
    idea.refresh_from_db()
    rep.refresh_from_db()
    assert idea.is_hidden and idea.hidden_reason == "Werbung"
    assert (
        rep.resolved_at is not None
        and rep.resolved_by == actors["moderator"]
        and "Werbung" in rep.resolution
    )
    html = client.get(queue).content.decode()
    assert "Das ist Werbung." not in html and "Beleidigend." in html
    hidden = client.get(bo_url("hidden")).content.decode()
    assert "Trinkbrunnen" in hidden and "Werbung" in hidden
    response = client.post(bo_url("idea-restore", pk=idea.pk), {"next": bo_url("hidden")})
    assert response.status_code == 302 and response["Location"] == bo_url("hidden")
    idea.refresh_from_db()
    assert not idea.is_hidden and idea.hidden_reason == ""
    assert "Trinkbrunnen" not in client.get(bo_url("hidden")).content.decode()


def test_hide_needs_a_reason(client, world, actors):
    login(client, actors["moderator"])
    comment = world["comment"]
    response = client.post(bo_url("comment-hide", pk=comment.pk), {"reason": "   "})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-invalid="true"' in html and 'role="alert"' in html
    comment.refresh_from_db()
    assert not comment.is_hidden
    assert Report.objects.get(pk=world["comment_report"].pk).resolved_at is None


def test_dismiss_closes_the_report_and_keeps_the_content(client, world, actors):
    login(client, actors["moderator"])
    rep = world["comment_report"]
    response = client.post(
        bo_url("report-dismiss", pk=rep.pk), {"resolution": "Kritik ist erlaubt"}
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.resolved_at is not None and rep.resolution == "Kritik ist erlaubt"
    world["comment"].refresh_from_db()
    assert not world["comment"].is_hidden
    # a dismissed report cannot be dismissed twice
    assert client.post(bo_url("report-dismiss", pk=rep.pk)).status_code == 404


def test_unsafe_next_is_ignored(client, world, actors):
    login(client, actors["moderator"])
    response = client.post(
        bo_url("report-dismiss", pk=world["idea_report"].pk), {"next": "https://evil.example/phish"}
    )
    assert response.status_code == 302 and response["Location"] == bo_url("moderation")


def test_block_the_author_stops_their_contributions(client, world, actors, process):
    login(client, actors["moderator"])
    bert, comment = world["bert"], world["comment"]
    response = client.post(bo_url("comment-block", pk=comment.pk), {"reason": ""})
    assert response.status_code == 200 and not roles.is_blocked(bert, process.city)
    response = client.post(bo_url("comment-block", pk=comment.pk), {"reason": "Beleidigungen"})
    assert response.status_code == 302
    bert = type(bert).objects.get(pk=bert.pk)
    assert roles.is_blocked(bert, process.city)
    with pytest.raises(PermissionDenied):
        services.post_idea(bert, process, title="Neu", body="Noch eine")
    with pytest.raises(PermissionDenied):
        services.add_comment(bert, world["idea"], "Noch einer")
    blocked = client.get(bo_url("blocked")).content.decode()
    assert "Bert" in blocked and "Beleidigungen" in blocked
    queue = client.get(bo_url("moderation")).content.decode()
    assert (
        "Die Person ist in dieser Stadt gesperrt." in queue
        or "The author is blocked in this city." in queue
    )
    # unblock: Bert may post again
    assert client.post(bo_url("unblock", user_id=bert.pk)).status_code == 302
    bert = type(bert).objects.get(pk=bert.pk)
    assert not roles.is_blocked(bert, process.city)
    assert services.post_idea(bert, process, title="Wieder da", body="Danke").pk


def test_moderators_cannot_be_blocked(client, world, actors, process):
    login(client, actors["moderator"])
    idea = services.post_idea(actors["staff"], process, title="Von der Stadt", body="Info")
    services.report(world["reporter"], idea, "Unsinn")
    queue = client.get(bo_url("moderation")).content.decode()
    assert bo_url("idea-block", pk=idea.pk) not in queue  # no block form for staff content
    response = client.post(bo_url("idea-block", pk=idea.pk), {"reason": "Test"})
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    assert not roles.is_blocked(actors["staff"], process.city)


def test_action_pages_work_without_the_queue(client, world, actors):
    """Every action has its own page (GET), e.g. for a link from the idea page."""
    login(client, actors["moderator"])
    html = client.get(bo_url("idea-hide", pk=world["idea"].pk)).content.decode()
    assert "Trinkbrunnen" in html and 'name="reason"' in html
    html = client.get(bo_url("report-dismiss", pk=world["idea_report"].pk)).content.decode()
    assert "Das ist Werbung." in html and "Rita" in html
