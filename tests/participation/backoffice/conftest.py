"""Fixtures of the back-office tests: a process with content to moderate and answer, and the same
kinds of objects in another city (whose ids must never be reachable from this city's back office)."""

import datetime as dt

import pytest
from django.utils import timezone

from herzstadt.accounts import commands as account_commands
from herzstadt.accounts.models import Membership, Role
from herzstadt.participation import services
from herzstadt.participation.models import (
    Category,
    Comment,
    Idea,
    Phase,
    Process,
    Question,
    Report,
    Survey,
)
from tests.conftest import bo_url  # noqa: F401 - the back-office tests import it from here


@pytest.fixture
def world(process, actors, make_user, point_inside):
    """Content in the demo city's process: an idea (by Anna, with a point), a comment (by Bert), one
    open report on each, a survey with a question, a blocked person."""
    anna = make_user(name="Anna")
    bert = make_user(name="Bert")
    reporter = make_user(name="Rita")
    idea = services.post_idea(
        anna,
        process,
        title="Trinkbrunnen",
        body="Ein Brunnen am Platz.",
        lon=point_inside[0],
        lat=point_inside[1],
    )
    comment = services.add_comment(bert, idea, "Unfreundlicher Kommentar")
    idea_report = services.report(reporter, idea, "Das ist Werbung.")
    comment_report = services.report(reporter, comment, "Beleidigend.")
    survey = Survey.objects.create(city=process.city, process=process, title="Umfrage Pfaff")
    question = Question.objects.create(
        city=process.city,
        survey=survey,
        kind="single",
        text="Wie oft?",
        choices=["oft", "selten"],
        position=1,
    )
    troll = make_user(name="Troll")
    account_commands.block_user(actors["moderator"], process.city, troll, "Spam")
    return {
        "process": process,
        "idea": idea,
        "comment": comment,
        "idea_report": idea_report,
        "comment_report": comment_report,
        "survey": survey,
        "question": question,
        "phase": process.phases.get(kind="ideas"),
        "category": process.categories.first(),
        "anna": anna,
        "bert": bert,
        "reporter": reporter,
        "troll": troll,
    }


@pytest.fixture
def foreign(other_city, make_user):
    """The same kinds of objects in the other city (Musterstadt)."""
    now = timezone.now()
    proc = Process.objects.create(
        city=other_city,
        slug="fremd",
        title="Fremdes Verfahren",
        summary="Anderswo",
        is_published=True,
    )
    phase = Phase.objects.create(
        city=other_city,
        process=proc,
        kind="ideas",
        title="Ideen",
        start=now - dt.timedelta(days=1),
        end=now + dt.timedelta(days=9),
    )
    category = Category.objects.create(city=other_city, process=proc, name="Fremd")
    author = make_user(name="Fremde Autorin")
    idea = Idea.objects.create(
        city=other_city, process=proc, author=author, title="Fremde Idee", body="Text"
    )
    comment = Comment.objects.create(
        city=other_city, idea=idea, author=author, body="Fremder Kommentar"
    )
    report = Report.objects.create(city=other_city, idea=idea, reporter=make_user(), reason="Grund")
    survey = Survey.objects.create(city=other_city, process=proc, title="Fremde Umfrage")
    question = Question.objects.create(city=other_city, survey=survey, kind="text", text="Was?")
    blocked = make_user(name="Fremd Gesperrt")
    Membership.objects.create(city=other_city, user=blocked, blocked_at=now, blocked_reason="x")
    moderator = make_user(Role.MODERATOR, other_city, name="Fremder Moderator")
    hidden_idea = Idea.objects.create(
        city=other_city,
        process=proc,
        author=author,
        title="Versteckt",
        body="x",
        hidden_at=now,
        hidden_reason="r",
    )
    return {
        "process": proc,
        "phase": phase,
        "category": category,
        "idea": idea,
        "hidden_idea": hidden_idea,
        "comment": comment,
        "report": report,
        "survey": survey,
        "question": question,
        "blocked": blocked,
        "moderator": moderator,
    }
