"""Formatting on the participation pages (issue 10): process descriptions, phase texts and the city's
answers render safe Markdown; the answer box says what is true for each status."""

import pytest
from django.utils import timezone

from herzstadt.participation import services
from herzstadt.participation.models import IdeaStatus
from tests.factories import make_measure

pytestmark = pytest.mark.django_db


@pytest.fixture
def idea(process, make_user):
    return services.post_idea(make_user(), process, title="Mehr Bänke", body="Bänke am Gleis 1.")


@pytest.fixture
def measure(city):
    return make_measure(city, slug="baenke", title="Sitzmöbel im Quartier", summary="Bänke.")


def test_process_description_and_phase_texts_keep_paragraphs_lists_and_links(client, process):
    process.description = "Erster Absatz.\n\n- Punkt A\n- Punkt B\n\nMehr: https://example.org/plan"
    process.save()
    phase = process.phases.first()
    phase.description = "Wir **informieren**:\n\n- Termin 1\n- Termin 2"
    phase.save()
    html = client.get(process.get_absolute_url()).content.decode()
    assert "<p>Erster Absatz.</p>" in html and "<li>Punkt A</li>" in html
    assert '<a href="https://example.org/plan" rel="nofollow ugc noopener">' in html
    assert "<strong>informieren</strong>" in html and "<li>Termin 2</li>" in html


def test_addresses_in_the_citys_answer_are_links_and_scripts_are_not(client, idea):
    idea.status = IdeaStatus.REVIEW
    idea.status_reason = "Siehe https://www.kaiserslautern.de/x <script>alert(1)</script>"
    idea.status_changed_at = timezone.now()
    idea.save()
    html = client.get(idea.get_absolute_url()).content.decode()
    assert '<a href="https://www.kaiserslautern.de/x" rel="nofollow ugc noopener">' in html
    assert "<script>alert(1)" not in html
    assert "Status seit" in html and "prüft diese Idee" in html


@pytest.mark.parametrize(
    ("status", "says", "never"),
    [
        (IdeaStatus.ACCEPTED, "Soll umgesetzt werden durch die Maßnahme", "Umgesetzt durch"),
        (IdeaStatus.IMPLEMENTED, "Umgesetzt durch die Maßnahme", "Soll umgesetzt"),
        (IdeaStatus.REVIEW, "Zugehörige Maßnahme:", "Umgesetzt durch"),
    ],
)
def test_the_answer_box_says_what_is_true_for_the_status(
    client, idea, measure, status, says, never
):
    idea.status, idea.status_reason, idea.measure = status, "Begründung.", measure
    idea.status_changed_at = timezone.now()
    idea.save()
    html = client.get(idea.get_absolute_url()).content.decode()
    box = html[html.index('class="status-box') : html.index("</section>", html.index("status-box"))]
    assert says in box and never not in box
    assert f'<a href="{measure.get_absolute_url()}">Sitzmöbel im Quartier</a>' in box
    if status == IdeaStatus.ACCEPTED:
        assert "Umgesetzt ist sie noch nicht" in box
