"""Issue 10, small things on the citizen pages: the active phase says what it is once; the message about
a new comment appears next to that comment (where the redirect lands), not scrolled off at the top."""

from __future__ import annotations

import re

import pytest

from herzstadt.participation import services
from herzstadt.participation.models import Comment, Phase
from tests.conftest import login
from tests.participation.test_views import url

pytestmark = pytest.mark.django_db


def _active_card(html: str) -> str:
    return re.search(r'<li class="phase phase-active".*?</li>', html, re.S).group(0)


def test_active_phase_card_says_it_once(client, process):
    phase = Phase.objects.get(process=process, kind="ideas")
    phase.description = "Ideen einreichen, verorten, kommentieren und unterstützen."
    phase.save()
    card = _active_card(client.get(process.get_absolute_url()).content.decode())
    assert card.count("Ideen einreichen") == 1
    assert "Reichen Sie" not in card and "Post your ideas" not in card
    # without a description of its own, the phase invites in the words of its kind
    phase.description = ""
    phase.save()
    card = _active_card(client.get(process.get_absolute_url()).content.decode())
    assert card.count("<p><strong>") == 1


def test_comment_message_is_next_to_the_comment(client, process, make_user):
    author = make_user()
    idea = services.post_idea(author, process, title="Bänke", body="Mehr Bänke am Platz.")
    earlier = services.add_comment(author, idea, "Erster Kommentar")
    login(client, make_user())
    response = client.post(url("comment", slug=process.slug, pk=idea.pk), {"body": "Gute Idee"})
    comment = Comment.objects.exclude(pk=earlier.pk).get(idea=idea)
    assert response.status_code == 302
    assert response["Location"].endswith(f"#comment-{comment.pk}")
    html = client.get(response["Location"].split("#")[0]).content.decode()
    item = re.search(rf'<li class="comment" id="comment-{comment.pk}">.*?</article>', html, re.S)
    assert "Ihr Kommentar ist veröffentlicht." in item.group(0)
    assert 'role="status">Ihr Kommentar' in item.group(0)
    assert html.count("Ihr Kommentar ist veröffentlicht.") == 1  # not at the top as well
    # shown once: the next view has no message
    assert "Ihr Kommentar ist" not in client.get(idea.get_absolute_url()).content.decode()
    # a page-wide message still appears at the top
    client.post(url("support", slug=process.slug, pk=idea.pk))
    assert "Danke für Ihre Unterstützung" in client.get(idea.get_absolute_url()).content.decode()
