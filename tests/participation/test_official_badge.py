"""Contributions of the city's team carry an official badge in words (issue 10, trust)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from herzstadt.accounts.models import Role
from herzstadt.participation import services

pytestmark = pytest.mark.django_db

MODERATION = "Stadt Kaiserslautern · Moderation"
ADMINISTRATION = "Stadt Kaiserslautern · Stadtverwaltung"


def test_ideas_and_comments_of_the_team_carry_the_badge(
    client, city, other_city, process, make_user
):
    staff = make_user(Role.STAFF, city, name="Frau Berger")
    idea = services.post_idea(staff, process, title="Sitzbänke", body="Vorschlag der Stadt.")
    services.add_comment(
        make_user(Role.MODERATOR, city, name="Mo"), idea, "Bitte sachlich bleiben."
    )
    services.add_comment(make_user(name="Bürgerin"), idea, "Gute Idee!")
    services.add_comment(make_user(Role.STAFF, other_city, name="Fremd"), idea, "Bei uns auch.")
    html = client.get(idea.get_absolute_url()).content.decode()
    assert html.count(ADMINISTRATION) == 1 and html.count(MODERATION) == 1
    assert '<span class="badge official">' in html
    process_page = client.get(process.get_absolute_url()).content.decode()
    assert ADMINISTRATION in process_page


def test_citizens_get_no_badge(client, process, make_user):
    idea = services.post_idea(make_user(), process, title="Brunnen", body="Ein Trinkbrunnen.")
    html = client.get(idea.get_absolute_url()).content.decode()
    assert "badge official" not in html


def test_the_citys_answer_says_it_is_the_city(client, process, make_user):
    idea = services.post_idea(make_user(), process, title="Brunnen", body="Ein Trinkbrunnen.")
    idea.status, idea.status_reason, idea.status_changed_at = (
        "review",
        "Wir prüfen.",
        timezone.now(),
    )
    idea.save()
    html = client.get(idea.get_absolute_url()).content.decode()
    assert '<span class="badge official">Stadt Kaiserslautern</span>' in html


def test_the_badge_costs_one_query_per_page_not_one_per_comment(client, city, process, make_user):
    idea = services.post_idea(make_user(), process, title="Brunnen", body="Ein Trinkbrunnen.")
    authors = [make_user(Role.MODERATOR, city) for _ in range(2)]

    def membership_queries(n_comments):
        for i in range(n_comments):
            services.add_comment(authors[i % 2], idea, f"Kommentar {i}")
        with CaptureQueriesContext(connection) as queries:
            client.get(idea.get_absolute_url())
        return sum('"accounts_membership"."role"' in q["sql"] and "IN" in q["sql"] for q in queries)

    assert membership_queries(2) == membership_queries(6) == 1
