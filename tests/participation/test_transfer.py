"""The participation part of a measure another city takes over ("participation-process"):
export a template from a measure, adopt it for another city's measure as drafts."""

import copy
import datetime as dt
import itertools
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from herzstadt.accounts.models import Role
from herzstadt.core import registry
from herzstadt.core.models import City, Measure
from herzstadt.participation import transfer
from herzstadt.participation.models import Category, Phase, Process, Question, Survey
from tests.factories import make_city, make_measure, make_process

pytestmark = pytest.mark.django_db


def _survey(process, published=True):
    survey = Survey.objects.create(
        city=process.city, process=process, title="Umfrage", is_published=published
    )
    Question.objects.create(
        city=process.city,
        survey=survey,
        kind="single",
        text="Wie kommen Sie hin?",
        choices=["Rad", "Bus"],
        i18n={"en": {"text": "How do you get there?"}},
    )
    Question.objects.create(
        city=process.city, survey=survey, kind="rating", text="Wie gut?", scale_max=7, position=1
    )
    return survey


@pytest.fixture
def origin(city):
    measure = make_measure(city)
    process = make_process(city, phases=("information", "ideas", "results"))
    process.measure = measure
    process.save()
    _survey(process)
    _survey(process, published=False)  # a draft survey is not part of the template
    return measure


@pytest.fixture
def adopter(db, make_user):
    other = make_city(slug="solingen", name="Solingen")
    return other, make_measure(other, slug="offene-daten"), make_user(Role.STAFF, other)


def test_registered_as_a_transfer_part():
    keys = [p.key for p in registry.transfer_parts()]
    assert "participation-process" in keys


def test_export_is_a_template_without_dates_or_people(origin):
    data = transfer.export(origin)
    assert data["format"] == 1
    [proc] = data["processes"]
    assert proc["title"] == "Testprozess Pfaff-Areal"
    assert [p["kind"] for p in proc["phases"]] == ["information", "ideas", "results"]
    assert [p["duration_days"] for p in proc["phases"]] == [10, 20, 10]
    assert sorted(c["name"] for c in proc["categories"]) == ["Grün und Klima", "Mobilität"]
    [survey] = proc["surveys"]
    assert [q["kind"] for q in survey["questions"]] == ["single", "rating"]
    assert survey["questions"][0]["choices"] == ["Rad", "Bus"]
    assert survey["questions"][0]["en"] == {"text": "How do you get there?"}
    assert survey["questions"][1]["scale_max"] == 7
    text = json.dumps(data)
    for private in ("start", "end", "author", "idea", "answers", "slug", "city"):
        assert f'"{private}"' not in text
    json.dumps(data)  # serialisable


def test_no_template_without_a_published_process(city):
    measure = make_measure(city)
    assert transfer.export(measure) is None
    draft = make_process(city, is_published=False)
    draft.measure = measure
    draft.save()
    assert transfer.export(measure) is None


def test_round_trip_creates_drafts_from_today(origin, adopter):
    other, measure, staff = adopter
    text = transfer.adopt(measure, transfer.export(origin), staff)
    assert text == (
        "Beteiligungsverfahren „Testprozess Pfaff-Areal“ als Entwurf mit 3 Phasen und 1 Umfrage"
    )
    process = Process.objects.get(city=other)
    assert not process.is_published and process.measure == measure
    assert process.slug == "testprozess-pfaff-areal"
    phases = list(process.phases.order_by("start"))
    assert [p.kind for p in phases] == ["information", "ideas", "results"]
    assert phases[0].start == timezone.make_aware(
        dt.datetime.combine(timezone.localdate(), dt.time())
    )
    for before, after in itertools.pairwise(phases):
        assert before.end == after.start
    assert all(p.city == other for p in phases)
    assert Category.objects.filter(process=process).count() == 2
    survey = Survey.objects.get(process=process)
    assert not survey.is_published and survey.city == other
    assert list(survey.questions.values_list("kind", "scale_max", "position")) == [
        ("single", 5, 0),
        ("rating", 7, 1),
    ]
    # the origin is untouched, a second adoption gets its own short name
    transfer.adopt(measure, transfer.export(origin), staff)
    assert Process.objects.filter(city=other).count() == 2
    assert Process.objects.filter(slug="testprozess-pfaff-areal-2", city=other).exists()


def test_round_trip_of_the_demo_process(demo, make_user):
    origin = Measure.objects.get(city=demo, processes__isnull=False)
    data = json.loads(json.dumps(transfer.export(origin)))  # as it travels over the network
    other = City.objects.get(slug="wolfsburg")
    measure = Measure.objects.get(city=other, slug="mobilitaetsbeteiligung-wolfsburg")
    assert transfer.export(measure) is None
    text = transfer.adopt(measure, data, make_user(Role.STAFF, other))
    assert "als Entwurf mit 5 Phasen und 1 Umfrage" in text
    process = Process.objects.get(city=other, measure=measure)
    assert process.phases.count() == 5 and process.surveys.get().questions.count() == 4
    assert not Process.objects.filter(city=other, is_published=True, measure=measure).exists()


def test_only_staff_of_the_adopting_city(origin, adopter, make_user, city):
    other, measure, _staff = adopter
    data = transfer.export(origin)
    for user in (make_user(), make_user(Role.STAFF, city)):
        with pytest.raises(PermissionDenied):
            transfer.adopt(measure, data, user)
    assert not Process.objects.filter(city=other).exists()


def _mutations():
    def at(path, value):
        def apply(data):
            target = data
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value

        return apply

    p = ("processes", 0)
    return {
        "not an object": lambda d: d.clear() or d.update({"processes": "x"}),
        "no processes": at(("processes",), []),
        "future format": at(("format",), 99),
        "title too long": at((*p, "title"), "x" * 201),
        "title empty": at((*p, "title"), "   "),
        "title a number": at((*p, "title"), 5),
        "phase duration zero": at((*p, "phases", 0, "duration_days"), 0),
        "phase duration huge": at((*p, "phases", 0, "duration_days"), 10**9),
        "phase duration bool": at((*p, "phases", 0, "duration_days"), True),
        "phase not an object": at((*p, "phases", 0), "information"),
        "question kind": at((*p, "surveys", 0, "questions", 0, "kind"), "upload"),
        "one choice": at((*p, "surveys", 0, "questions", 0, "choices"), ["nur eine"]),
        "choices not texts": at((*p, "surveys", 0, "questions", 0, "choices"), [{"a": 1}, 2]),
        "scale": at((*p, "surveys", 0, "questions", 1, "scale_max"), 1000),
        "required not bool": at((*p, "surveys", 0, "questions", 1, "required"), "yes"),
        "translation not an object": at((*p, "en"), "Title"),
        "too many phases": at((*p, "phases"), [{"kind": "ideas", "duration_days": 1}] * 13),
        "nul": at((*p, "description"), "a\x00b"),
    }


@pytest.mark.parametrize("name", sorted(_mutations()))
def test_hostile_templates_are_refused_and_nothing_is_written(origin, adopter, name):
    _other, measure, staff = adopter
    data = copy.deepcopy(transfer.export(origin))
    _mutations()[name](data)
    before = (Process.objects.count(), Phase.objects.count(), Question.objects.count())
    with pytest.raises(ValidationError):
        transfer.adopt(measure, data, staff)
    assert (Process.objects.count(), Phase.objects.count(), Question.objects.count()) == before


@pytest.mark.parametrize("data", [None, [], "text", 3, {"processes": None}])
def test_non_templates_are_refused(adopter, data):
    _other, measure, staff = adopter
    with pytest.raises(ValidationError):
        transfer.adopt(measure, data, staff)


def test_unknown_phase_kinds_are_skipped_with_a_note(origin, adopter):
    _other, measure, staff = adopter
    data = transfer.export(origin)
    data["processes"][0]["phases"][1]["kind"] = "compass.rate"
    data["processes"][0]["kind"] = "no-such-kind"
    text = transfer.adopt(measure, data, staff)
    assert "mit 2 Phasen" in text
    assert "übersprungen" in text and "compass.rate" in text and "no-such-kind" in text
    process = Process.objects.get(measure=measure)
    assert process.kind == "ideas"
    assert list(process.phases.values_list("kind", flat=True)) == ["information", "results"]


def test_export_costs_a_fixed_number_of_queries(origin, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        transfer.export(origin)
