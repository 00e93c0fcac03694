"""The phase kind "Kompass-Bewertung": registered through the registry; citizens rate a measure
against each value (−2 … +2) while the phase is open; one rating per person, changeable; their
personal data export and erasure."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from herzstadt.compass.models import Rating
from herzstadt.compass.rating import PHASE_KIND, erase_personal_data, export_personal_data
from herzstadt.core import registry
from tests.compass.ui_factories import make_value
from tests.conftest import login
from tests.factories import make_measure, make_process

pytestmark = pytest.mark.django_db


def url(name: str, **kwargs) -> str:
    with translation.override("de"):
        return reverse(f"compass:{name}", kwargs=kwargs)


@pytest.fixture
def rating_process(city):
    return make_process(
        city,
        slug="kompass-bewertung",
        phases=("information", PHASE_KIND, "results"),
        active=PHASE_KIND,
    )


@pytest.fixture
def setup(city, rating_process):
    values = [make_value(city, "Klima"), make_value(city, "Teilhabe")]
    measure = make_measure(city, slug="leihraeder", title="Leihräder")
    return values, measure


def test_phase_and_process_kind_are_registered():
    kind = registry.phase_kinds()[PHASE_KIND]
    assert "compass.rate" in kind.features
    assert PHASE_KIND in registry.process_kinds()["compass"].phase_kinds


def test_citizen_rates_and_changes_the_rating(client, city, rating_process, setup, make_user):
    (climate, share), measure = setup
    user = make_user()
    login(client, user)
    page = client.get(url("rate", slug=rating_process.slug, measure=measure.slug))
    assert page.status_code == 200 and "Klima" in page.content.decode()
    response = client.post(
        url("rate", slug=rating_process.slug, measure=measure.slug),
        {f"value_{climate.pk}": "2", f"value_{share.pk}": "-1"},
    )
    assert response.status_code == 302
    assert dict(Rating.objects.filter(user=user).values_list("value_id", "score")) == {
        climate.pk: 2,
        share.pk: -1,
    }
    assert Rating.objects.get(user=user, value=climate).process_id == rating_process.pk
    client.post(
        url("rate", slug=rating_process.slug, measure=measure.slug),
        {f"value_{climate.pk}": "1", f"value_{share.pk}": ""},
    )
    assert dict(Rating.objects.filter(user=user).values_list("value_id", "score")) == {
        climate.pk: 1
    }
    listing = client.get(url("rate-list", slug=rating_process.slug)).content.decode()
    assert "Leihräder" in listing


def test_out_of_range_score_is_refused(client, city, rating_process, setup, make_user):
    (climate, _share), measure = setup
    login(client, make_user())
    response = client.post(
        url("rate", slug=rating_process.slug, measure=measure.slug), {f"value_{climate.pk}": "5"}
    )
    assert response.status_code == 400
    assert not Rating.objects.exists()


def test_anonymous_is_sent_to_sign_in(client, rating_process, setup):
    (climate, _share), measure = setup
    response = client.post(
        url("rate", slug=rating_process.slug, measure=measure.slug), {f"value_{climate.pk}": "1"}
    )
    assert response.status_code == 302 and "next=" in response["Location"]
    assert not Rating.objects.exists()


def test_closed_phase_refuses(client, city, setup, make_user):
    (climate, _share), measure = setup
    closed = make_process(city, slug="vorbei", phases=(PHASE_KIND, "results"), active="results")
    ideas = make_process(city, slug="ideen")  # an ideas phase does not open the rating
    login(client, make_user())
    for p in (closed, ideas):
        response = client.post(
            url("rate", slug=p.slug, measure=measure.slug), {f"value_{climate.pk}": "1"}
        )
        assert response.status_code == 403
    assert not Rating.objects.exists()


def test_process_with_a_measure_rates_only_that_measure(
    client, city, rating_process, setup, make_user
):
    (_climate, _share), measure = setup
    other = make_measure(city, slug="andere", title="Andere")
    rating_process.measure = measure
    rating_process.save()
    login(client, make_user())
    assert client.get(url("rate", slug=rating_process.slug, measure=other.slug)).status_code == 404
    assert "Andere" not in client.get(url("rate-list", slug=rating_process.slug)).content.decode()


def test_unpublished_or_foreign_process_is_404(client, city, other_city, setup):
    _values, _measure = setup
    draft = make_process(
        city, slug="entwurf", phases=(PHASE_KIND,), active=PHASE_KIND, is_published=False
    )
    foreign = make_process(other_city, slug="fremd", phases=(PHASE_KIND,), active=PHASE_KIND)
    for p in (draft, foreign):
        assert client.get(url("rate-list", slug=p.slug)).status_code == 404


def test_compass_page_invites_to_rate(client, rating_process, setup):
    html = client.get(url("home")).content.decode()
    assert url("rate-list", slug=rating_process.slug) in html


def test_personal_data(city, rating_process, setup, make_user):
    (climate, share), measure = setup
    user, other = make_user(), make_user()
    Rating.objects.create(city=city, measure=measure, value=climate, user=user, score=2)
    Rating.objects.create(city=city, measure=measure, value=share, user=other, score=1)
    data = export_personal_data(user)["compass_ratings"]
    assert [(r["measure"], r["value"], r["score"]) for r in data] == [("Leihräder", "Klima", 2)]
    erase_personal_data(user)
    assert list(Rating.objects.values_list("user", flat=True)) == [other.pk]
