import pytest


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """allauth counts attempts in the cache; every test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def contributions(process, make_user):
    """Anna took part in everything; Bert supported and commented on her idea and answered a survey."""
    from herzstadt.accounts.models import Notification
    from herzstadt.participation import services
    from herzstadt.participation.models import Survey, SurveyResponse
    from herzstadt.participation.notifications import NotificationKind

    anna = make_user(name="Anna")
    bert = make_user(name="Bert")
    idea = services.post_idea(anna, process, title="Mehr Bäume", body="Am Gleis entlang.")
    other = services.post_idea(bert, process, title="Radweg", body="Quer über das Areal.")
    services.support(anna, other)
    services.support(bert, idea)
    comment = services.add_comment(anna, other, "Gute Idee!")
    services.add_comment(bert, idea, "Finde ich auch.", parent=None)
    services.follow(anna, process=process)
    report = services.report(anna, other, "Doppelt eingereicht")
    survey = Survey.objects.create(city=process.city, process=process, title="Wohnen")
    SurveyResponse.objects.create(city=process.city, survey=survey, user=anna, answers={"1": "ja"})
    SurveyResponse.objects.create(
        city=process.city, survey=survey, user=bert, answers={"1": "nein"}
    )
    Notification.objects.create(
        city=process.city,
        user=anna,
        kind=NotificationKind.ANSWERED,
        subject="Mehr Bäume",
        url=idea.get_absolute_url(),
    )
    return {
        "anna": anna,
        "bert": bert,
        "idea": idea,
        "other": other,
        "comment": comment,
        "report": report,
        "survey": survey,
    }


@pytest.fixture(autouse=True)
def _german_first():
    """Requests leave their language active in the test thread; every test starts in German."""
    from django.utils import translation

    translation.activate("de")
    yield
    translation.activate("de")
