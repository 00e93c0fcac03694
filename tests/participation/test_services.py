"""The participation use cases: permissions, phases, the district check, counters, notifications."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from herzstadt.accounts import commands as account_commands
from herzstadt.accounts.models import Notification, Role
from herzstadt.core.models import Measure
from herzstadt.participation import services
from herzstadt.participation.models import Comment, Follow, IdeaStatus, Report, Support
from herzstadt.participation.phases import Feature

pytestmark = pytest.mark.django_db


def idea_of(user, process, **kw):
    kw.setdefault("title", "Mehr Bäume am Platz")
    kw.setdefault("body", "Schatten und Kühlung für alle im Sommer.")
    return services.post_idea(user, process, **kw)


def test_phase_decides_what_is_allowed(process):
    assert process.active_phase().kind == "ideas"
    assert process.allows(Feature.POST_IDEA)
    later = timezone.now() + dt.timedelta(days=15)  # evaluation phase
    assert process.active_phase(later).kind == "evaluation"
    assert not process.allows(Feature.COMMENT, later)
    assert not process.allows(Feature.POST_IDEA, timezone.now() + dt.timedelta(days=400))


def test_unpublished_process_allows_nothing(process):
    process.is_published = False
    process.save()
    assert not process.allows(Feature.POST_IDEA)


def test_post_idea_inside_district(process, make_user, point_inside):
    user = make_user()
    idea = idea_of(user, process, lon=point_inside[0], lat=point_inside[1])
    assert idea.has_point and idea.author == user and idea.city == process.city
    assert Follow.objects.filter(user=user, idea=idea).exists(), "authors follow their ideas"


@pytest.mark.parametrize(
    ("lon", "lat", "field"),
    [(7.70, 49.40, "lat"), (7.7556, None, "lat"), (200.0, 49.44, "lat")],
)
def test_post_idea_point_checked_by_server(process, make_user, lon, lat, field):
    with pytest.raises(ValidationError) as err:
        idea_of(make_user(), process, lon=lon, lat=lat)
    assert field in err.value.message_dict
    assert process.ideas.count() == 0


def test_post_idea_needs_sign_in_verification_and_open_phase(process, make_user):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        idea_of(AnonymousUser(), process)
    with pytest.raises(PermissionDenied, match="E-Mail-Adresse"):
        idea_of(make_user(verified=False), process)
    process.phases.filter(kind="ideas").update(kind="discussion")
    with pytest.raises(PermissionDenied, match="Phase"):
        idea_of(make_user(), process)
    assert process.ideas.count() == 0


def test_blocked_person_cannot_contribute(process, make_user, city):
    moderator = make_user(Role.MODERATOR, city)
    troll = make_user()
    account_commands.block_user(moderator, city, troll, "Beleidigungen")
    with pytest.raises(PermissionDenied, match="gesperrt"):
        idea_of(troll, process)
    account_commands.unblock_user(moderator, city, troll)
    assert idea_of(troll, process).pk


def test_category_of_another_process_rejected(process, make_user):
    from herzstadt.participation.models import Category, Process

    other = Process.objects.create(city=process.city, slug="anderes", title="Anderes", summary="x")
    foreign = Category.objects.create(city=process.city, process=other, name="Fremd")
    with pytest.raises(ValidationError):
        idea_of(make_user(), process, category=foreign)


def test_threaded_comments_count_and_notify(process, make_user):
    author, alice, bob = make_user(), make_user(), make_user()
    idea = idea_of(author, process)
    first = services.add_comment(alice, idea, "Gute Idee!")
    reply = services.add_comment(bob, idea, "Finde ich auch.", parent=first)
    assert reply.parent == first
    idea.refresh_from_db()
    assert idea.comment_count == 2
    # the author follows the idea: two comments → two notifications; alice gets a reply notice
    assert Notification.objects.filter(user=author).count() == 2
    assert Notification.objects.filter(user=alice, kind="reply").count() == 1
    assert not Notification.objects.filter(user=bob).exists(), (
        "nobody is notified of their own comment"
    )


def test_reply_to_comment_of_another_idea_rejected(process, make_user):
    user = make_user()
    a, b = idea_of(user, process), idea_of(user, process, title="Zweite Idee")
    comment = services.add_comment(user, a, "Hallo")
    with pytest.raises(ValidationError):
        services.add_comment(user, b, "Antwort", parent=comment)


def test_support_once_and_withdraw(process, make_user):
    idea = idea_of(make_user(), process)
    fan = make_user()
    assert services.support(fan, idea) is True
    assert services.support(fan, idea) is False
    idea.refresh_from_db()
    assert idea.support_count == 1 == Support.objects.filter(idea=idea).count()
    assert services.withdraw_support(fan, idea) is True
    assert services.withdraw_support(fan, idea) is False
    idea.refresh_from_db()
    assert idea.support_count == 0


def test_report_once_until_handled(process, make_user, city):
    idea = idea_of(make_user(), process)
    reporter = make_user()
    first = services.report(reporter, idea, "Werbung")
    assert services.report(reporter, idea, "nochmal") == first
    with pytest.raises(ValidationError):
        services.report(make_user(), idea, "   ")
    moderator = make_user(Role.MODERATOR, city)
    services.hide(moderator, idea, "Werbung")
    first.refresh_from_db()
    assert first.resolved_by == moderator and first.resolved_at
    assert Report.objects.filter(resolved_at__isnull=True).count() == 0


def test_hidden_idea_cannot_be_supported_or_commented(process, make_user, city):
    idea = idea_of(make_user(), process)
    services.hide(make_user(Role.MODERATOR, city), idea, "Off-topic")
    with pytest.raises(PermissionDenied):
        services.support(make_user(), idea)
    with pytest.raises(PermissionDenied):
        services.add_comment(make_user(), idea, "Hallo")


def test_only_moderators_hide_and_only_of_their_city(process, make_user, city, other_city):
    idea = idea_of(make_user(), process)
    for outsider in (make_user(), make_user(Role.STAFF, other_city)):
        with pytest.raises(PermissionDenied):
            services.hide(outsider, idea, "x")
    moderator = make_user(Role.MODERATOR, city)
    services.hide(moderator, idea, "Spam")
    services.restore(moderator, idea)
    idea.refresh_from_db()
    assert not idea.is_hidden


def test_moderators_cannot_block_staff(city, make_user):
    with pytest.raises(PermissionDenied):
        account_commands.block_user(
            make_user(Role.MODERATOR, city), city, make_user(Role.STAFF, city), "x"
        )


def test_answer_idea_with_measure_notifies(process, make_user, city, other_city):
    author = make_user()
    idea = idea_of(author, process)
    staff = make_user(Role.STAFF, city)
    measure = Measure.objects.filter(city=city).first()
    with pytest.raises(ValidationError):
        services.answer_idea(staff, idea, IdeaStatus.ACCEPTED, "  ")
    with pytest.raises(PermissionDenied):
        services.answer_idea(make_user(Role.MODERATOR, city), idea, IdeaStatus.ACCEPTED, "ok")
    with pytest.raises(PermissionDenied):
        services.answer_idea(make_user(Role.STAFF, other_city), idea, IdeaStatus.ACCEPTED, "ok")
    services.answer_idea(staff, idea, IdeaStatus.ACCEPTED, "Wird umgesetzt.", measure)
    idea.refresh_from_db()
    assert (idea.status, idea.measure, idea.status_reason) == (
        "accepted",
        measure,
        "Wird umgesetzt.",
    )
    assert Notification.objects.filter(user=author, kind="answered").count() == 1


def test_new_idea_notifies_process_followers(process, make_user):
    follower = make_user()
    services.follow(follower, process=process)
    services.follow(follower, process=process)  # idempotent
    idea_of(make_user(), process)
    assert Notification.objects.filter(user=follower, kind="new_idea").count() == 1
    assert services.unfollow(follower, process=process) is True


def test_notification_message_in_reader_language(process, make_user):
    from django.utils import translation

    follower = make_user()
    services.follow(follower, process=process)
    idea_of(make_user(), process, title="Trinkbrunnen")
    note = Notification.objects.get(user=follower)
    with translation.override("de"):
        assert note.message == "Neue Idee: Trinkbrunnen"
    with translation.override("en"):
        assert note.message == "New idea: Trinkbrunnen"


def test_comment_on_hidden_parent_keeps_tree(process, make_user, city):
    user = make_user()
    idea = idea_of(user, process)
    parent = services.add_comment(user, idea, "Eins")
    services.hide(make_user(Role.MODERATOR, city), parent, "Beleidigung")
    services.add_comment(make_user(), idea, "Zwei", parent=parent)
    assert Comment.objects.filter(parent=parent).count() == 1
