import pytest

from herzstadt.participation.models import Idea, Process, SurveyResponse
from herzstadt.participation.phases import Feature

pytestmark = pytest.mark.django_db


def test_demo_has_a_living_process(demo):
    process = Process.objects.get(city=demo, slug="zukunft-pfaff-areal")
    assert process.allows(Feature.POST_IDEA)
    ideas = Idea.objects.filter(process=process)
    assert ideas.count() >= 8
    assert ideas.exclude(status="received").count() >= 3
    assert ideas.filter(measure__isnull=False).exists()
    assert sum(i.support_count for i in ideas) == sum(i.supports.count() for i in ideas)
    district = process.district
    assert all(district.contains(i.lon, i.lat) for i in ideas if i.has_point)
    assert SurveyResponse.objects.filter(survey__process=process).count() >= 20


def test_demo_load_is_idempotent(demo):
    from herzstadt.demo import load_demo

    before = Idea.objects.count()
    load_demo()
    assert Idea.objects.count() == before
