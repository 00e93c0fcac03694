"""Supports are counted exactly when many arrive at once (SQLite and PostgreSQL)."""

import threading

import pytest
from django.db import connection

from herzstadt.participation import services
from herzstadt.participation.models import Idea, Support

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_simultaneous_supports_counted_exactly(process, make_user):
    idea = services.post_idea(
        make_user(), process, title="Viel Zuspruch", body="Eine Idee, die alle mögen."
    )
    people = [make_user() for _ in range(16)]
    # every person clicks twice at the same moment: 32 requests, 16 supports
    attempts = people + people
    barrier = threading.Barrier(len(attempts))
    results, errors = [], []

    def click(user):
        try:
            barrier.wait()
            results.append(services.support(user, Idea.objects.get(pk=idea.pk)))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(u,)) for u in attempts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results.count(True) == 16 and results.count(False) == 16
    idea.refresh_from_db()
    assert idea.support_count == 16 == Support.objects.filter(idea=idea).count()

    # and withdrawing at once as well
    barrier = threading.Barrier(len(people))

    def withdraw(user):
        try:
            barrier.wait()
            services.withdraw_support(user, Idea.objects.get(pk=idea.pk))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=withdraw, args=(u,)) for u in people[:10]]
    barrier = threading.Barrier(10)
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    idea.refresh_from_db()
    assert idea.support_count == 6 == Support.objects.filter(idea=idea).count()
