"""Nobody supports their own idea (issue 10, trust): the use case refuses, the page shows no button."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from herzstadt.participation import services
from herzstadt.participation.models import Support
from tests.conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def author(make_user):
    return make_user(name="Anna")


@pytest.fixture
def idea(process, author):
    return services.post_idea(author, process, title="Mehr Bänke", body="Bänke am Gleis 1.")


def test_the_use_case_refuses_supporting_ones_own_idea(idea, author):
    with pytest.raises(PermissionDenied) as refused:
        services.support(author, idea)
    assert "Ihre eigene Idee" in str(refused.value)
    idea.refresh_from_db()
    assert idea.support_count == 0 and not Support.objects.exists()


def test_others_still_support_it(idea, make_user):
    assert services.support(make_user(), idea) is True


def test_the_page_shows_no_button_to_the_author_but_says_why(client, idea, author, make_user):
    html = login(client, author).get(idea.get_absolute_url()).content.decode()
    assert 'aria-pressed="false"' not in html
    assert "Das ist Ihre eigene Idee" in html
    other = login(client, make_user()).get(idea.get_absolute_url()).content.decode()
    assert 'aria-pressed="false"' in other and "Das ist Ihre eigene Idee" not in other


def test_posting_the_form_anyway_is_refused_with_the_reason(client, idea, author):
    url = reverse("participation:support", kwargs={"slug": idea.process.slug, "pk": idea.pk})
    response = login(client, author).post(url)
    assert response.status_code == 403
    assert "Das ist Ihre eigene Idee" in response.content.decode()
    idea.refresh_from_db()
    assert idea.support_count == 0
