"""The survey use case: validation of every kind of question, who may answer, one response per
person, the anonymous protections (form token, time trap, replay, honeypot, rate limit), results."""

import datetime as dt
import re
import threading
import time

import pytest
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from herzstadt.accounts.models import Membership
from herzstadt.participation.models import Question, QuestionKind, Survey, SurveyResponse
from herzstadt.participation.surveys import answering as surveys

pytestmark = pytest.mark.django_db


def make_survey(process, **kwargs) -> Survey:
    """A survey with one question of each kind: single (required), multiple (optional), text
    (optional), rating 1..5 (required)."""
    city = process.city
    kwargs.setdefault("is_published", True)
    survey = Survey.objects.create(
        city=city,
        process=process,
        title=kwargs.pop("title", "Wie kommen Sie zum Pfaff-Areal?"),
        description="Eine kurze Umfrage zur Mobilität.",
        i18n={"en": {"title": "How do you get to the Pfaff-Areal?"}},
        **kwargs,
    )
    Question.objects.create(
        city=city,
        survey=survey,
        kind=QuestionKind.SINGLE,
        text="Wie kommen Sie meistens?",
        choices=["Zu Fuß", "Rad", "Bus", "Auto"],
        i18n={
            "en": {"text": "How do you usually come?", "choices": ["On foot", "Bike", "Bus", "Car"]}
        },
        position=1,
    )
    Question.objects.create(
        city=city,
        survey=survey,
        kind=QuestionKind.MULTIPLE,
        text="Was fehlt?",
        choices=["Bänke", "Bäume", "Radbügel"],
        required=False,
        position=2,
    )
    Question.objects.create(
        city=city,
        survey=survey,
        kind=QuestionKind.TEXT,
        text="Was möchten Sie uns noch sagen?",
        help_text="Zum Beispiel Orte, die Ihnen wichtig sind.",
        required=False,
        position=3,
    )
    Question.objects.create(
        city=city,
        survey=survey,
        kind=QuestionKind.RATING,
        text="Wie zufrieden sind Sie?",
        scale_max=5,
        position=4,
    )
    return survey


def questions(survey):
    single, multiple, text, rating = survey.questions.all()
    return single, multiple, text, rating


def valid_answers(survey, **override):
    single, multiple, text, rating = questions(survey)
    answers = {
        str(single.pk): "1",
        str(multiple.pk): ["0", "2"],
        str(text.pk): " Mehr Schatten ",
        str(rating.pk): "4",
    }
    answers.update({str(k): v for k, v in override.items()})
    return answers


@pytest.fixture
def survey(process):
    return make_survey(process)


@pytest.fixture
def anon_survey(process):
    return make_survey(process, title="Offene Umfrage", allow_anonymous=True)


@pytest.fixture
def no_time_trap(monkeypatch):
    monkeypatch.setattr(surveys, "MIN_FORM_SECONDS", 0)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _english():
    """Messages are checked in English (the msgids); German is tested through the pages."""
    with translation.override("en"):
        yield


def stored():
    """Responses to the tests' surveys (the demo city brings a survey with answers of its own)."""
    return SurveyResponse.objects.filter(survey__process__slug="test-pfaff")


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


# --- validation of each kind of question ---------------------------------------------------------
def test_single_choice_accepts_an_index_or_the_exact_text_and_stores_the_text(survey):
    single = questions(survey)[0]
    assert surveys.clean_answer(single, "2") == "Bus"
    assert surveys.clean_answer(single, 0) == "Zu Fuß"
    assert surveys.clean_answer(single, "Auto") == "Auto"
    assert surveys.clean_answer(single, ["3"]) == "Auto"


@pytest.mark.parametrize(
    "bad", ["4", 4, -1, "-1", "Flugzeug", "auto", "1.0", "²", True, ["0", "1"], {"x": 1}]
)
def test_single_choice_refuses_anything_not_offered(survey, bad):
    single = questions(survey)[0]
    with pytest.raises(ValidationError) as e:
        surveys.clean_answer(single, bad)
    assert e.value.error_list[0].code == "invalid_choice"


def test_multiple_choice_stores_texts_in_question_order_each_once(survey):
    multiple = questions(survey)[1]
    assert surveys.clean_answer(multiple, ["2", "0", "Radbügel", ""]) == ["Bänke", "Radbügel"]
    assert surveys.clean_answer(multiple, "1") == ["Bäume"]


@pytest.mark.parametrize("bad", [["0", "7"], ["Bänke", "Brunnen"], [True]])
def test_multiple_choice_refuses_choices_not_offered(survey, bad):
    multiple = questions(survey)[1]
    with pytest.raises(ValidationError) as e:
        surveys.clean_answer(multiple, bad)
    assert e.value.error_list[0].code == "invalid_choice"


def test_free_text_is_stripped_and_limited_to_2000_characters(survey):
    text = questions(survey)[2]
    assert surveys.clean_answer(text, "  Mehr Bäume\r\nbitte ") == "Mehr Bäume\nbitte"
    assert surveys.clean_answer(text, "x" * 2000) == "x" * 2000
    with pytest.raises(ValidationError) as e:
        surveys.clean_answer(text, "x" * 2001)
    assert e.value.error_list[0].code == "max_length"
    with pytest.raises(ValidationError):
        surveys.clean_answer(text, ["a", "b"])


@pytest.mark.parametrize(("raw", "value"), [("1", 1), ("5", 5), (3, 3), (" 2 ", 2)])
def test_rating_within_the_scale(survey, raw, value):
    rating = questions(survey)[3]
    assert surveys.clean_answer(rating, raw) == value


@pytest.mark.parametrize("bad", ["0", "6", 0, 6, -1, "drei", "2.5", True, "٣"])
def test_rating_outside_the_scale_is_refused(survey, bad):
    rating = questions(survey)[3]
    with pytest.raises(ValidationError) as e:
        surveys.clean_answer(rating, bad)
    assert e.value.error_list[0].code == "out_of_range"


def test_rating_respects_a_custom_scale(survey):
    rating = questions(survey)[3]
    rating.scale_max = 10
    assert surveys.clean_answer(rating, "10") == 10
    with pytest.raises(ValidationError):
        surveys.clean_answer(rating, "11")


@pytest.mark.parametrize("missing", [None, "", "   ", [], [""]])
def test_required_questions_must_be_answered_optional_ones_not(survey, missing):
    single, multiple, text, rating = questions(survey)
    for required in (single, rating):
        with pytest.raises(ValidationError) as e:
            surveys.clean_answer(required, missing)
        assert e.value.error_list[0].code == "required"
    for optional in (multiple, text):
        assert surveys.clean_answer(optional, missing) is None


def test_clean_answers_reports_errors_per_question_and_ignores_unknown_keys(survey):
    single, multiple, text, rating = questions(survey)
    with pytest.raises(ValidationError) as e:
        surveys.clean_answers(
            survey.questions.all(), {str(single.pk): "9", str(multiple.pk): ["0"]}
        )
    assert set(errors_of(e)) == {str(single.pk), str(rating.pk)}
    cleaned = surveys.clean_answers(
        survey.questions.all(), {**valid_answers(survey), "999": "x", "q1": "y"}
    )
    assert cleaned == {
        str(single.pk): "Rad",
        str(multiple.pk): ["Bänke", "Radbügel"],
        str(text.pk): "Mehr Schatten",
        str(rating.pk): 4,
    }


def test_unanswered_optional_questions_are_not_stored(survey, make_user):
    single, multiple, _text, rating = questions(survey)
    response = surveys.answer_survey(
        survey, {str(single.pk): "0", str(multiple.pk): [], str(rating.pk): "5"}, user=make_user()
    )
    assert response.answers == {str(single.pk): "Zu Fuß", str(rating.pk): 5}


# --- signed-in people -----------------------------------------------------------------------------
def test_a_citizen_answers_once(survey, make_user):
    citizen = make_user()
    response = surveys.answer_survey(survey, valid_answers(survey), user=citizen)
    response.refresh_from_db()
    assert response.user == citizen and response.token_hash == "" and response.city == survey.city
    single, multiple, text, rating = questions(survey)
    assert response.answers == {
        str(single.pk): "Rad",
        str(multiple.pk): ["Bänke", "Radbügel"],
        str(text.pk): "Mehr Schatten",
        str(rating.pk): 4,
    }
    with pytest.raises(surveys.AlreadyAnswered):
        surveys.answer_survey(survey, valid_answers(survey), user=citizen)
    assert SurveyResponse.objects.filter(survey=survey).count() == 1
    assert surveys.has_answered(survey, citizen)


def test_a_race_past_the_check_ends_in_the_unique_constraint(survey, make_user, monkeypatch):
    """The IntegrityError path: both requests passed the quick check before either wrote."""
    citizen = make_user()
    surveys.answer_survey(survey, valid_answers(survey), user=citizen)
    monkeypatch.setattr(surveys, "_already_stored", lambda *a: False)
    with pytest.raises(surveys.AlreadyAnswered):
        surveys.answer_survey(survey, valid_answers(survey), user=citizen)
    # ...and the surrounding transaction is still usable.
    assert SurveyResponse.objects.filter(survey=survey).count() == 1


def test_each_person_answers_each_survey(process, survey, make_user):
    other = make_survey(process, title="Zweite Umfrage")
    a, b = make_user(), make_user()
    for person in (a, b):
        for s in (survey, other):
            surveys.answer_survey(s, valid_answers(s), user=person)
    assert stored().count() == 4


def test_invalid_answers_store_nothing(survey, make_user):
    with pytest.raises(ValidationError):
        surveys.answer_survey(
            survey, valid_answers(survey, **{str(questions(survey)[3].pk): "9"}), user=make_user()
        )
    assert not stored().exists()


def test_unverified_and_blocked_people_may_not_answer(survey, make_user):
    unverified = make_user(verified=False)
    with pytest.raises(PermissionDenied, match="confirm your e-mail"):
        surveys.answer_survey(survey, valid_answers(survey), user=unverified)
    blocked = make_user()
    Membership.objects.create(city=survey.city, user=blocked, blocked_at=timezone.now())
    with pytest.raises(PermissionDenied, match="blocked"):
        surveys.answer_survey(survey, valid_answers(survey), user=blocked)
    assert not stored().exists()


def test_staff_of_another_city_answer_like_any_citizen(survey, actors):
    surveys.answer_survey(survey, valid_answers(survey), user=actors["other_staff"])
    assert SurveyResponse.objects.filter(user=actors["other_staff"]).exists()


def close_phase(process):
    """Move the process into its evaluation phase (which allows no answers)."""
    now = timezone.now()
    ideas = process.phases.get(kind="ideas")
    ideas.end = now - dt.timedelta(hours=1)
    ideas.save()
    evaluation = process.phases.get(kind="evaluation")
    evaluation.start = now - dt.timedelta(hours=1)
    evaluation.save()


def test_no_answers_outside_a_phase_that_allows_them(survey, process, make_user):
    close_phase(process)
    survey = Survey.objects.get(pk=survey.pk)
    with pytest.raises(PermissionDenied, match="not open"):
        surveys.answer_survey(survey, valid_answers(survey), user=make_user())
    assert not surveys.access(survey, None).can_answer
    assert not stored().exists()


def test_no_answers_in_an_unpublished_process(survey, process, make_user):
    process.is_published = False
    process.save()
    survey = Survey.objects.get(pk=survey.pk)
    with pytest.raises(PermissionDenied):
        surveys.answer_survey(survey, valid_answers(survey), user=make_user())


def test_the_discussion_phase_allows_answers(survey, process, make_user):
    process.phases.filter(kind="ideas").update(kind="discussion")
    survey = Survey.objects.get(pk=survey.pk)
    surveys.answer_survey(survey, valid_answers(survey), user=make_user())
    assert stored().count() == 1


# --- anonymous answers ----------------------------------------------------------------------------
def test_anonymous_answers_only_when_the_survey_allows_them(survey, anon_survey, no_time_trap):
    with pytest.raises(PermissionDenied, match="sign in"):
        surveys.answer_survey(survey, valid_answers(survey), token=surveys.issue_token(survey))
    response = surveys.answer_survey(
        anon_survey,
        valid_answers(anon_survey),
        token=surveys.issue_token(anon_survey),
        ip="192.0.2.7",
    )
    response.refresh_from_db()
    assert response.user is None
    assert re.fullmatch(r"[0-9a-f]{64}", response.token_hash)
    assert stored().count() == 1


def test_the_stored_hash_is_keyed_and_reveals_neither_nonce_nor_address(anon_survey, no_time_trap):
    token = surveys.issue_token(anon_survey)
    nonce = signing.TimestampSigner(salt=f"herzstadt.participation.survey.{anon_survey.pk}").unsign(
        token
    )
    response = surveys.answer_survey(
        anon_survey, valid_answers(anon_survey), token=token, ip="192.0.2.7"
    )
    assert response.token_hash == surveys.token_hash(anon_survey, nonce)
    assert nonce not in response.token_hash
    import hashlib

    assert (
        response.token_hash != hashlib.sha256(nonce.encode()).hexdigest()
    )  # keyed, not a bare hash
    row = SurveyResponse.objects.filter(pk=response.pk).values().get()
    assert "192.0.2.7" not in str(row)


def test_a_filled_honeypot_is_refused_quietly(anon_survey, no_time_trap):
    with pytest.raises(surveys.Rejected) as e:
        surveys.answer_survey(
            anon_survey,
            valid_answers(anon_survey),
            token=surveys.issue_token(anon_survey),
            honeypot="http://spam.example",
        )
    assert e.value.reason == "honeypot" and e.value.status == 400
    assert "could not be accepted" in str(e.value.message)
    assert not stored().exists()


def test_a_form_sent_too_fast_is_refused(anon_survey):
    token = surveys.issue_token(anon_survey)
    with pytest.raises(surveys.Rejected) as e:
        surveys.answer_survey(anon_survey, valid_answers(anon_survey), token=token)
    assert e.value.reason == "too_fast"
    assert not stored().exists()


def test_the_time_trap_lets_a_form_through_after_the_minimum(anon_survey, monkeypatch):
    monkeypatch.setattr(surveys, "MIN_FORM_SECONDS", 3)
    issued = time.time() - 4
    monkeypatch.setattr(
        signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(int(issued))
    )
    token = surveys.issue_token(anon_survey)
    monkeypatch.undo()
    monkeypatch.setattr(surveys, "MIN_FORM_SECONDS", 3)
    surveys.answer_survey(anon_survey, valid_answers(anon_survey), token=token)
    assert stored().count() == 1


def test_an_expired_form_is_refused(anon_survey, monkeypatch, no_time_trap):
    old = int(time.time()) - surveys.MAX_FORM_SECONDS - 10
    with monkeypatch.context() as m:
        m.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(old))
        token = surveys.issue_token(anon_survey)
    with pytest.raises(surveys.Rejected) as e:
        surveys.answer_survey(anon_survey, valid_answers(anon_survey), token=token)
    assert e.value.reason == "expired"
    assert not stored().exists()


def test_a_replayed_form_is_refused(anon_survey, no_time_trap):
    token = surveys.issue_token(anon_survey)
    surveys.answer_survey(anon_survey, valid_answers(anon_survey), token=token)
    with pytest.raises(surveys.AlreadyAnswered, match="already been sent"):
        surveys.answer_survey(anon_survey, valid_answers(anon_survey), token=token)
    assert stored().count() == 1


def test_a_replay_racing_past_the_check_hits_the_unique_constraint(
    anon_survey, no_time_trap, monkeypatch
):
    token = surveys.issue_token(anon_survey)
    surveys.answer_survey(anon_survey, valid_answers(anon_survey), token=token)
    monkeypatch.setattr(surveys, "_already_stored", lambda *a: False)
    with pytest.raises(surveys.AlreadyAnswered):
        surveys.answer_survey(anon_survey, valid_answers(anon_survey), token=token)
    assert stored().count() == 1


def forge(token: str, salt: str) -> list[str]:
    nonce, ts, sig = token.split(":")
    return [
        "",
        "nonsense",
        f"{nonce}x:{ts}:{sig}",  # another nonce under the old signature
        f"{nonce}:{signing.b62_encode(signing.b62_decode(ts) - 3600)}:{sig}",  # backdated
        f"{nonce}:{ts}:{sig[:-2]}AA",  # tampered signature
        signing.TimestampSigner(salt="herzstadt.participation.survey.0").sign(nonce),  # other salt
        signing.TimestampSigner(key="not-the-key", salt=salt).sign(nonce),  # other key
    ]


def test_forged_or_tampered_tokens_are_refused(anon_survey, process, no_time_trap):
    token = surveys.issue_token(anon_survey)
    other = make_survey(process, title="Andere", allow_anonymous=True)
    salt = f"herzstadt.participation.survey.{anon_survey.pk}"
    for bad in [*forge(token, salt), surveys.issue_token(other)]:
        with pytest.raises(surveys.Rejected) as e:
            surveys.answer_survey(anon_survey, valid_answers(anon_survey), token=bad)
        assert e.value.reason == "invalid", bad
    assert not stored().exists()
    # The genuine token still works.
    surveys.answer_survey(anon_survey, valid_answers(anon_survey), token=token)


def test_anonymous_answers_are_rate_limited_per_address(
    anon_survey, no_time_trap, monkeypatch, make_user
):
    monkeypatch.setattr(surveys, "RATE_LIMIT", 3)
    for _ in range(3):
        surveys.answer_survey(
            anon_survey,
            valid_answers(anon_survey),
            token=surveys.issue_token(anon_survey),
            ip="198.51.100.1",
        )
    with pytest.raises(surveys.Rejected) as e:
        surveys.answer_survey(
            anon_survey,
            valid_answers(anon_survey),
            token=surveys.issue_token(anon_survey),
            ip="198.51.100.1",
        )
    assert e.value.reason == "rate_limited" and e.value.status == 429
    # Another address is not affected.
    surveys.answer_survey(
        anon_survey,
        valid_answers(anon_survey),
        token=surveys.issue_token(anon_survey),
        ip="198.51.100.2",
    )
    assert stored().count() == 4
    # A signed-in person answering from the limited address is not limited: the limit is for
    # anonymous answers only (the person is counted once by the database instead).
    signed_in = surveys.answer_survey(
        anon_survey, valid_answers(anon_survey), user=make_user(), ip="198.51.100.1"
    )
    assert signed_in.user_id is not None and stored().count() == 5
    # The cache keys hold a keyed hash, not the address.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM herzstadt_cache")
        keys = [row[0] for row in cursor.fetchall()]
    assert any("survey-rate" in key for key in keys)
    assert all("198.51.100" not in key for key in keys)


def test_rejected_and_invalid_anonymous_answers_do_not_count_towards_the_limit(
    anon_survey, no_time_trap, monkeypatch
):
    monkeypatch.setattr(surveys, "RATE_LIMIT", 1)
    with pytest.raises(ValidationError):
        surveys.answer_survey(
            anon_survey, {}, token=surveys.issue_token(anon_survey), ip="198.51.100.1"
        )
    surveys.answer_survey(
        anon_survey,
        valid_answers(anon_survey),
        token=surveys.issue_token(anon_survey),
        ip="198.51.100.1",
    )
    assert stored().count() == 1


def test_client_ip_ignores_forwarded_headers_unless_proxies_are_trusted(settings):
    from django.test import RequestFactory

    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.2"
    )
    assert surveys.client_ip(request) == "10.0.0.1"
    settings.HERZSTADT_TRUSTED_PROXY_HOPS = 1
    assert surveys.client_ip(request) == "10.0.0.2"
    settings.HERZSTADT_TRUSTED_PROXY_HOPS = 2
    assert surveys.client_ip(request) == "203.0.113.9"
    v6 = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2:3:4:5:6")
    settings.HERZSTADT_TRUSTED_PROXY_HOPS = 0
    assert surveys.client_ip(v6) == "2001:db8:1:2::"


# --- results --------------------------------------------------------------------------------------
def test_aggregate_counts_percentages_means_and_hides_free_text(survey, make_user):
    single, multiple, text, rating = questions(survey)
    for answers in (
        {single.pk: "0", multiple.pk: ["0", "1"], text.pk: "geheim", rating.pk: "5"},
        {single.pk: "0", multiple.pk: ["1"], rating.pk: "4"},
        {single.pk: "2", rating.pk: "1"},
        {single.pk: "3", multiple.pk: ["1", "2"], text.pk: "auch geheim", rating.pk: "4"},
    ):
        surveys.answer_survey(survey, {str(k): v for k, v in answers.items()}, user=make_user())
    result = surveys.aggregate(survey)
    assert result["responses"] == 4
    by_kind = {row["kind"]: row for row in result["questions"]}
    assert [(o["label"], o["count"], o["percent"]) for o in by_kind["single"]["options"]] == [
        ("Zu Fuß", 2, 50.0),
        ("Rad", 0, 0.0),
        ("Bus", 1, 25.0),
        ("Auto", 1, 25.0),
    ]
    assert by_kind["multiple"]["answered"] == 3
    assert [(o["label"], o["count"], o["percent"]) for o in by_kind["multiple"]["options"]] == [
        ("Bänke", 1, 33.3),
        ("Bäume", 3, 100.0),
        ("Radbügel", 1, 33.3),
    ]
    assert by_kind["rating"]["mean"] == 3.5
    assert [(d["value"], d["count"]) for d in by_kind["rating"]["distribution"]] == [
        (1, 1),
        (2, 0),
        (3, 0),
        (4, 2),
        (5, 1),
    ]
    assert by_kind["text"]["answered"] == 2
    assert "geheim" not in repr(result)


def test_aggregate_without_responses(survey):
    result = surveys.aggregate(survey)
    assert result["responses"] == 0
    rating = next(row for row in result["questions"] if row["kind"] == "rating")
    assert rating["mean"] is None and all(d["percent"] == 0 for d in rating["distribution"])


# --- concurrency ----------------------------------------------------------------------------------
def _race(target, n: int = 2):
    """Run ``target`` in ``n`` threads released at the same moment; return their outcomes."""
    from django.db import connections

    barrier = threading.Barrier(n)
    outcomes: list = []

    def run():
        try:
            barrier.wait()
            outcomes.append(target())
        except Exception as e:  # collected for the assertions
            outcomes.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_threads_with_the_same_person_store_one_response(process, make_user, monkeypatch):
    survey = make_survey(process)
    citizen = make_user()
    answers = valid_answers(survey)
    # Both threads pass the quick check, as in a real race; the constraint decides.
    monkeypatch.setattr(surveys, "_already_stored", lambda *a: False)
    outcomes = _race(
        lambda: surveys.answer_survey(Survey.objects.get(pk=survey.pk), answers, user=citizen)
    )
    assert SurveyResponse.objects.filter(survey=survey, user=citizen).count() == 1
    assert sum(isinstance(o, SurveyResponse) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, surveys.AlreadyAnswered) for o in outcomes) == 1, outcomes


@pytest.mark.django_db(transaction=True)
def test_two_threads_with_the_same_token_store_one_response(process, monkeypatch):
    monkeypatch.setattr(surveys, "MIN_FORM_SECONDS", 0)
    survey = make_survey(process, allow_anonymous=True)
    token = surveys.issue_token(survey)
    answers = valid_answers(survey)
    monkeypatch.setattr(surveys, "_already_stored", lambda *a: False)
    outcomes = _race(
        lambda: surveys.answer_survey(Survey.objects.get(pk=survey.pk), answers, token=token)
    )
    assert SurveyResponse.objects.filter(survey=survey).count() == 1
    assert sum(isinstance(o, SurveyResponse) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, surveys.AlreadyAnswered) for o in outcomes) == 1, outcomes
