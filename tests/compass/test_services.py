"""Computing, storing, claiming and publishing indicators; the KPI entities against the Smart Data
Model's JSON schema; the DCAT datasets; the transfer part. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from herzstadt.compass import publish, services, transfer
from herzstadt.compass.datasets import datasets
from herzstadt.compass.models import Goal, Indicator, IndicatorValue, Value
from herzstadt.core.models import District, Measure
from tests.compass.test_formulas import FakeSource

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 2, 10, 7, tzinfo=UTC)
Q = dt.timedelta(minutes=15)


def steady_source(value=30.0, start=NOW - dt.timedelta(days=2), end=NOW):
    points = []
    t = start
    while t < end:
        points.append((t, value))
        t += Q
    return FakeSource({("AirQualityObserved", "no2"): [("a", points)]})


@pytest.fixture
def indicator(city):
    return Indicator.objects.create(
        city=city,
        slug="no2",
        name="NO2",
        unit="µg/m³",
        target=20.0,
        warning=40.0,
        period="P1D",
        schedule_minutes=15,
        formula={
            "kind": "aggregate",
            "entity_type": "AirQualityObserved",
            "attribute": "no2",
            "method": "avg",
        },
        district=District.objects.get(city=city, slug="pfaff-areal"),
    )


@pytest.mark.django_db
def test_compute_stores_the_newest_complete_period_and_updates_last(indicator):
    value = services.compute_indicator(indicator, now=NOW, source=steady_source(), publish=False)
    assert value.pk is not None
    assert value.period_end == dt.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # the 15-minute grid
    assert value.period_start == value.period_end - dt.timedelta(days=1)
    assert value.value == pytest.approx(30.0)
    assert value.coverage == 1.0
    assert value.city_id == indicator.city_id
    indicator.refresh_from_db()
    assert indicator.last_value == pytest.approx(30.0)
    assert indicator.last_coverage == 1.0
    assert indicator.last_period_end == value.period_end
    assert indicator.last_error == ""
    assert indicator.light() == "amber"
    # the same period again: updated, not duplicated
    services.compute_indicator(
        indicator, now=NOW + dt.timedelta(minutes=5), source=steady_source(10.0), publish=False
    )
    assert IndicatorValue.objects.filter(indicator=indicator).count() == 1
    indicator.refresh_from_db()
    assert indicator.last_value == pytest.approx(10.0)
    assert indicator.light() == "green"


@pytest.mark.django_db
def test_a_period_without_data_is_stored_as_none(indicator):
    value = services.compute_indicator(indicator, now=NOW, source=FakeSource(), publish=False)
    assert value.pk is not None and value.value is None and value.coverage == 0.0
    indicator.refresh_from_db()
    assert indicator.last_value is None and indicator.light() == ""


@pytest.mark.django_db
def test_a_broken_formula_records_the_error_and_stores_nothing(indicator):
    indicator.formula = {"kind": "aggregate", "entity_type": "X"}
    indicator.save()
    value = services.compute_indicator(indicator, now=NOW, source=FakeSource(), publish=False)
    assert value.pk is None
    indicator.refresh_from_db()
    assert indicator.last_error
    assert indicator.last_computed_at == NOW
    assert not IndicatorValue.objects.filter(indicator=indicator).exists()


@pytest.mark.django_db
def test_old_values_are_thinned_to_one_a_day(indicator):
    for hours in range(0, 24 * 10, 6):
        end = dt.datetime(2026, 2, 15, tzinfo=UTC) + dt.timedelta(hours=hours)
        IndicatorValue.objects.create(
            city=indicator.city,
            indicator=indicator,
            period_start=end - dt.timedelta(days=1),
            period_end=end,
            value=1.0,
            computed_at=end,
        )
    services.compute_indicator(indicator, now=NOW, source=steady_source(), publish=False)
    ends = list(
        IndicatorValue.objects.filter(indicator=indicator).values_list("period_end", flat=True)
    )
    cutoff = NOW - services.KEEP_DENSE
    old = [e for e in ends if e < cutoff]
    assert old and all(e.hour == 0 and e.minute == 0 for e in old)
    assert any(e >= cutoff and e.hour != 0 for e in ends)


@pytest.mark.django_db
def test_due_indicators_are_claimed_once(indicator, city):
    other = Indicator.objects.create(
        city=city,
        slug="later",
        name="Later",
        formula={"kind": "constant", "value": 1},
        schedule_minutes=60,
        last_computed_at=NOW - dt.timedelta(minutes=30),
    )
    Indicator.objects.create(city=city, slug="empty", name="No formula")
    claimed = services.due(NOW)
    assert [i.pk for i in claimed] == [indicator.pk]
    # a second worker at the same moment finds nothing left
    assert services.due(NOW) == []
    # an hour later the hourly one is due again, the other one as well
    later = services.due(NOW + dt.timedelta(minutes=31))
    assert {i.pk for i in later} == {indicator.pk, other.pk}


@pytest.mark.django_db
def test_compute_due_and_the_command(indicator, city, monkeypatch):
    monkeypatch.setattr(
        services, "source_for", lambda ind: steady_source(end=NOW + dt.timedelta(days=1))
    )
    assert services.compute_due(NOW) == 1
    assert IndicatorValue.objects.filter(indicator=indicator).count() == 1
    call_command("compute_indicators", "kaiserslautern")
    call_command("compute_indicators", "--due")
    with pytest.raises(Exception, match="unknown cities"):
        call_command("compute_indicators", "nowhere")


# ------------------------------------------------------------------------------- publication
def _validator():
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    schema = json.loads((publish.SDM_DIR / "schema.json").read_text())
    common = json.loads((publish.SDM_DIR / "common-schema.json").read_text())
    registry = Registry().with_resource(
        "https://smart-data-models.github.io/data-models/common-schema.json",
        Resource.from_contents(common),
    )
    return Draft202012Validator(
        schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


@pytest.mark.django_db
def test_kpi_entities_validate_against_the_smart_data_model(indicator, city):
    goal = Goal.objects.create(
        city=city,
        value=Value.objects.create(city=city, slug="klima", name="Klima"),
        slug="luft",
        title="Saubere Luft",
    )
    indicator.goals.add(goal)
    validator = _validator()
    # before any value, with a value, with every light
    docs = [publish.entity(indicator, NOW)]
    for v in (10.0, 30.0, 50.0):
        services.compute_indicator(indicator, now=NOW, source=steady_source(v), publish=False)
        docs.append(publish.entity(indicator, NOW))
    for doc in docs:
        errors = list(validator.iter_errors(publish.key_values(doc)))
        assert not errors, errors
    assert docs[-1]["kpiValue"]["value"] == 50.0
    assert docs[-1]["currentStanding"]["value"] == "bad"
    assert docs[1]["currentStanding"]["value"] == "good"
    assert docs[-1]["businessTarget"]["value"] == "Saubere Luft"
    assert docs[-1]["aggregatedData"]["value"] == [
        {"entityType": "AirQualityObserved", "attrs": ["no2"]}
    ]
    assert publish.frequency(15) == "hourly" and publish.frequency(1440) == "daily"
    # a bad entity fails the schema (the validator checks something)
    assert list(
        validator.iter_errors(
            {"id": "x", "type": "KeyPerformanceIndicator", "currentStanding": "great"}
        )
    )


@pytest.mark.django_db
def test_published_entities_are_in_the_broker_and_validate(indicator, city):
    from herzstadt.ngsi.auth import system_principal
    from herzstadt.ngsi.errors import NgsiError
    from herzstadt.ngsi.routes import ROUTER
    from herzstadt.ngsi.service import Req
    from herzstadt.urbandata.broker import get_broker

    services.compute_indicator(indicator, now=NOW, source=steady_source(25.0))
    broker = get_broker()
    op = ROUTER.match(f"entities/{publish.entity_id(indicator)}")
    route, args = op[0], op[1]
    get = route.methods["GET"]
    req = Req(
        principal=system_principal(city.ngsi_tenant, "test"),
        tenant=city.ngsi_tenant,
        ctx=broker.resolver.get([publish.CORE_CONTEXT, publish.sdm_context()]),
    )
    params = get.parse({"options": "keyValues"}, broker.config)
    result = get.handler(broker, req, params, *args)
    body = result.body
    assert body["type"] == "KeyPerformanceIndicator"
    assert body["kpiValue"] == 25.0
    errors = list(_validator().iter_errors(body))
    assert not errors, errors
    # hidden: removed from the broker
    indicator.is_public = False
    indicator.save()
    assert publish.publish(indicator, NOW)
    with pytest.raises(NgsiError):
        get.handler(broker, req, params, *args)


# ------------------------------------------------------------------------------- open data
@pytest.mark.django_db
def test_one_dataset_per_public_indicator(indicator, city):
    from herzstadt.compass.publish import TYPE_IRI
    from herzstadt.urbandata.access import save_settings, settings_of

    Indicator.objects.create(city=city, slug="hidden", name="Hidden", is_public=False)
    found = datasets(city)
    assert [d.identifier for d in found] == ["compass-no2"]
    urls = [d.url for d in found[0].distributions]
    assert urls == ["/kompass/indikatoren/no2.csv", "/kompass/indikatoren/no2.json"]
    assert found[0].spatial == indicator.district.boundary
    # the city publishes the type as open data: the NGSI-LD entity and its history too
    services.compute_indicator(indicator, now=NOW, source=steady_source())
    save_settings(city, [TYPE_IRI], settings_of(city).cors_origins, [])
    urls = [d.url for d in datasets(city)[0].distributions]
    assert any(
        u.startswith("/ngsi-ld/v1/entities?type=") and "KeyPerformanceIndicator" in u for u in urls
    )
    assert any(u.startswith("/ngsi-ld/v1/temporal/entities?") for u in urls)


# ------------------------------------------------------------------------------- transfer
@pytest.fixture
def measure(city):
    from herzstadt.core.models import FieldOfAction

    foa = FieldOfAction.objects.create(city=city, slug="umwelt", name="Umwelt")
    return Measure.objects.create(
        city=city, slug="luftmessnetz", title="Luftmessnetz", summary="s", field_of_action=foa
    )


@pytest.mark.django_db
def test_export_and_adopt_indicator_definitions(indicator, measure, other_city, make_user):
    from herzstadt.accounts.models import Role
    from herzstadt.core.models import FieldOfAction

    indicator.formula = {**indicator.formula, "district": "pfaff-areal"}
    indicator.save()
    indicator.measures.add(measure)
    data = transfer.export(measure)
    assert data["format"] == 1 and data["indicators"][0]["slug"] == "no2"
    assert transfer.export(Measure(city=measure.city, pk=10**9)) is None

    foa = FieldOfAction.objects.create(city=other_city, slug="umwelt", name="Umwelt")
    theirs = Measure.objects.create(
        city=other_city, slug="luft", title="Luft", summary="s", field_of_action=foa
    )
    Indicator.objects.create(city=other_city, slug="no2", name="taken")
    staff = make_user(Role.STAFF, other_city)
    hostile = json.loads(json.dumps(data))
    hostile["indicators"] += [
        {"name": "Bad", "formula": {"kind": "python", "code": "import os"}},
        {"name": "", "formula": {"kind": "constant", "value": 1}},
        "not an object",
        {"name": "Weird period", "period": "P1000Y", "formula": {"kind": "constant", "value": 1}},
        {
            "name": "Link",
            "reference_url": "javascript:alert(1)",
            "formula": {"kind": "constant", "value": 1},
        },
    ]
    text = transfer.adopt(theirs, hostile, staff)
    assert "(4 " in text and "NO2, Link" in text
    made = {i.name: i for i in Indicator.objects.filter(city=other_city).exclude(name="taken")}
    assert set(made) == {"NO2", "Link"}
    adopted = made["NO2"]
    assert adopted.slug == "no2-2"
    assert "district" not in adopted.formula  # the partner's district means nothing here
    assert list(adopted.measures.all()) == [theirs]
    assert made["Link"].reference_url == ""
    citizen = make_user()
    with pytest.raises(PermissionDenied):
        transfer.adopt(theirs, data, citizen)
    with pytest.raises(ValidationError):
        transfer.adopt(theirs, {"format": 1, "indicators": [{}] * 31}, staff)
    with pytest.raises(ValidationError):
        transfer.adopt(theirs, ["x"], staff)
