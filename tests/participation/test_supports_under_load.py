"""200 people support one idea at the same moment, against a real ``herzstadt serve --workers 2``
(issue 8, finding 7: on PostgreSQL 90 of them got a 500 "too many clients already"). Now every
request queues for one of the pool's connections: no response ≥ 500, and the count is exact."""

from __future__ import annotations

import threading

import pytest
from django.urls import reverse
from django.utils import translation

from herzstadt.participation import services
from herzstadt.participation.models import Idea, Support
from tests.serverutil import Server, environment_for_test_database, post_form, signed_in_cookies

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PEOPLE = 200


def test_200_simultaneous_supports_are_all_answered_and_counted_exactly(
    process, make_user, tmp_path
):
    idea = services.post_idea(
        make_user(), process, title="Mehr Bänke", body="Auf dem ganzen Pfaff-Areal, bitte."
    )
    browsers = [signed_in_cookies(make_user()) for _ in range(PEOPLE)]
    with translation.override("de"):
        path = reverse("participation:support", args=[process.slug, idea.pk])

    with Server(tmp_path / "server", workers=2, env=environment_for_test_database()) as server:
        barrier = threading.Barrier(PEOPLE)
        statuses: list[int] = []
        failures: list[BaseException] = []

        def click(cookies):
            try:
                barrier.wait(timeout=60)
                status, _body = post_form(server.port, path, cookies, {}, timeout=120)
                statuses.append(status)
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=click, args=(c,)) for c in browsers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        log = server.output()

    assert failures == [], failures[:3]
    assert len(statuses) == PEOPLE
    assert [s for s in statuses if s >= 500] == [], log[-3000:]
    assert statuses.count(302) == PEOPLE, sorted(set(statuses))
    idea.refresh_from_db()
    assert idea.support_count == PEOPLE == Support.objects.filter(idea=idea).count()
    assert Idea.objects.get(pk=idea.pk).support_count == PEOPLE
