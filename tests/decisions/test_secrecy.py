"""Nothing in the database links a ballot to a person: every column of Ballot, PendingBallot and
Elector is inspected, no table points at a ballot, no time finer than a day is kept, and the log's
order is not the order of voting."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection, models

from herzstadt.core.models import City
from herzstadt.decisions import log, voting
from herzstadt.decisions.models import Ballot, Decision, Elector, PendingBallot
from tests.decisions.ballotkit import make_decision, make_electors

pytestmark = pytest.mark.django_db

#: everything a ballot row may say: which decision (and city), the choice, the coarse channel, the
#: receipt's hash, its place in the chain and the day its batch was appended
BALLOT_COLUMNS = {
    "id", "city", "decision", "seq", "choice", "channel", "receipt_hash", "day", "prev_hash",
    "entry_hash",
}  # fmt: skip
POOL_COLUMNS = {"id", "city", "decision", "choice", "channel", "receipt_hash"}
ELECTOR_COLUMNS = {"id", "city", "decision", "identifier_hash", "code_hash", "account", "has_voted"}


def _columns(model) -> dict[str, models.Field]:
    return {f.name: f for f in model._meta.concrete_fields}


@pytest.mark.parametrize(
    ("model", "allowed"), [(Ballot, BALLOT_COLUMNS), (PendingBallot, POOL_COLUMNS)]
)
def test_a_ballot_row_names_no_person_and_no_time(model, allowed):
    columns = _columns(model)
    assert set(columns) == allowed, "a new column on a ballot: check it cannot identify anyone"
    for name, field in columns.items():
        if field.is_relation:
            assert field.related_model in (City, Decision), name
        assert not isinstance(field, models.DateTimeField | models.TimeField), name
        if isinstance(field, models.DateField):
            assert name == "day"
        assert not getattr(field, "auto_now", False) and not getattr(field, "auto_now_add", False)
    # the database's own columns agree with the model (no column added by hand)
    with connection.cursor() as cursor:
        db_columns = {
            c.name for c in connection.introspection.get_table_description(
                cursor, model._meta.db_table
            )
        }  # fmt: skip
    assert db_columns == {columns[n].column for n in columns}


def test_the_elector_row_says_only_that_someone_voted():
    columns = _columns(Elector)
    assert set(columns) == ELECTOR_COLUMNS
    for name, field in columns.items():
        assert not isinstance(field, models.DateField | models.DateTimeField | models.TimeField)
        if field.is_relation:
            assert field.related_model not in (Ballot, PendingBallot), name


def test_no_table_points_at_a_ballot():
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if field.is_relation and field.concrete:
                assert field.related_model not in (Ballot, PendingBallot), (model, field.name)


def test_the_stored_ballot_holds_no_receipt_code_or_identifier(city, monkeypatch):
    monkeypatch.setenv("HERZSTADT_DECISIONS_MIX_BATCH", "3")
    decision = make_decision(city)
    electors = make_electors(decision, 3)
    receipts = [voting.cast(decision, e, {"1": 1}, "web") for e in electors]
    rows = str(list(Ballot.objects.values())) + str(list(PendingBallot.objects.values()))
    for elector, receipt in zip(electors, receipts, strict=True):
        assert receipt not in rows and receipt.replace("-", "") not in rows
        assert elector.identifier_hash not in rows
        assert f"'id': {elector.pk}," not in str(list(Ballot.objects.values("id")))


def test_the_pool_id_is_random(city):
    decision = make_decision(city)
    [elector] = make_electors(decision, 1)
    voting.cast(decision, elector, {"1": 1}, "web")
    assert PendingBallot.objects.get().id.version == 4  # random, not time-based (uuid1/uuid7)


def test_the_log_order_is_not_the_order_of_voting(city, monkeypatch):
    """Three batches of 20: within each, the log's order is a random permutation of the casting
    order (the chance that all three keep the casting order by accident is (1/20!)³)."""
    monkeypatch.setenv("HERZSTADT_DECISIONS_MIX_BATCH", "20")
    decision = make_decision(city)
    cast_order = [
        log.receipt_hash(voting.cast(decision, e, {"2": 1}, "web"))
        for e in make_electors(decision, 60)
    ]
    log_order = list(
        Ballot.objects.filter(decision=decision)
        .order_by("seq")
        .values_list("receipt_hash", flat=True)
    )
    assert sorted(log_order) == sorted(cast_order)
    batches = [(cast_order[i : i + 20], log_order[i : i + 20]) for i in range(0, 60, 20)]
    for cast_batch, log_batch in batches:
        assert set(cast_batch) == set(log_batch)  # a batch mixes only its own ballots
    assert any(c != lg for c, lg in batches)
    # nor does the row id give the casting order away: ids follow the log, not the casting
    ids = list(
        Ballot.objects.filter(decision=decision).order_by("seq").values_list("id", flat=True)
    )
    assert ids == sorted(ids)
