"""The survey pages: answering (for the five actors, signed in and anonymous), the thanks page and the
public results, in German and English, accessible and tenant-safe."""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from herzstadt.participation.models import Phase, Process, Survey, SurveyResponse
from herzstadt.participation.surveys import answering as surveys
from tests.conftest import login
from tests.core.test_views import check_accessible
from tests.participation.test_surveys import close_phase, make_survey, questions

pytestmark = pytest.mark.django_db

SIGNED_IN = ["citizen", "moderator", "staff", "other_staff"]
ALL_ACTORS = ["anonymous", *SIGNED_IN]


@pytest.fixture
def survey(process):
    return make_survey(process)


@pytest.fixture
def anon_survey(process):
    return make_survey(process, title="Offene Umfrage", allow_anonymous=True)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def no_time_trap(monkeypatch):
    monkeypatch.setattr(surveys, "MIN_FORM_SECONDS", 0)


def url(name: str, survey: Survey, lang: str = "de") -> str:
    with translation.override(lang):
        return reverse(
            f"participation:{name}", kwargs={"slug": survey.process.slug, "pk": survey.pk}
        )


def stored(survey: Survey):
    return SurveyResponse.objects.filter(survey=survey)


def form_data(survey: Survey, **override) -> dict:
    single, multiple, text, rating = questions(survey)
    data = {
        f"q{single.pk}": "2",
        f"q{multiple.pk}": ["0", "1"],
        f"q{text.pk}": "Mehr Bäume, bitte.",
        f"q{rating.pk}": "4",
    }
    data.update(override)
    return data


def token_from(html: str) -> str:
    match = re.search(r'name="form_token" value="([^"]+)"', html)
    assert match, "the anonymous form carries a token"
    return match.group(1)


def fresh_anonymous_post(client, survey, **override):
    """Open the form as a new visitor would, then send it."""
    html = client.get(url("survey", survey)).content.decode()
    return client.post(
        url("survey", survey), {**form_data(survey, **override), "form_token": token_from(html)}
    )


# --- the survey page for the five actors ----------------------------------------------------------
@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_survey_page_for_each_actor(client, actors, survey, actor):
    login(client, actors[actor])
    response = client.get(url("survey", survey))
    assert response.status_code == 200
    html = response.content.decode()
    assert survey.title in html and "Wie kommen Sie meistens?" in html
    single = questions(survey)[0]
    if actor == "anonymous":
        # read-only questions and a way to sign in that comes back here
        assert (
            f'name="q{single.pk}"' not in html
            and '<form method="post" action="' + url("survey", survey) not in html
        )
        assert "Zu Fuß" in html
        assert f"?next={url('survey', survey)}" in html
        assert 'name="form_token"' not in html
    else:
        assert (
            f'name="q{single.pk}"' in html and 'type="radio"' in html and 'type="checkbox"' in html
        )
        assert "<textarea" in html and 'maxlength="2000"' in html
        assert (
            'name="form_token"' not in html and 'name="website"' not in html
        )  # only for anonymous


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_answering_for_each_actor(client, actors, survey, actor):
    login(client, actors[actor])
    response = client.post(url("survey", survey), form_data(survey))
    if actor == "anonymous":
        assert response.status_code == 403
        assert not stored(survey).exists()
        return
    assert response.status_code == 302
    assert response["Location"] == url("survey-thanks", survey)
    response = stored(survey).get()
    assert response.user == actors[actor]
    single, multiple, text, rating = questions(survey)
    assert response.answers == {
        str(single.pk): "Bus",
        str(multiple.pk): ["Bänke", "Bäume"],
        str(text.pk): "Mehr Bäume, bitte.",
        str(rating.pk): 4,
    }


@pytest.mark.parametrize("actor", SIGNED_IN)
def test_a_second_submit_says_already_answered_and_offers_the_results(
    client, actors, survey, actor
):
    login(client, actors[actor])
    assert client.post(url("survey", survey), form_data(survey)).status_code == 302
    response = client.post(
        url("survey", survey), form_data(survey, **{f"q{questions(survey)[0].pk}": "0"})
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert url("survey-results", survey) in html
    assert 'type="radio"' not in html
    assert stored(survey).get().answers[str(questions(survey)[0].pk)] == "Bus"  # unchanged
    # the page itself says so too
    html = client.get(url("survey", survey, "en")).content.decode()
    assert (
        "You have already answered this survey" in html
        and url("survey-results", survey, "en") in html
    )


def test_unverified_people_are_asked_to_confirm_their_address(client, survey, make_user):
    login(client, make_user(verified=False))
    html = client.get(url("survey", survey, "en")).content.decode()
    assert "confirm your e-mail address" in html and 'type="radio"' not in html
    assert client.post(url("survey", survey), form_data(survey)).status_code == 403
    assert not stored(survey).exists()


# --- validation errors on the page ----------------------------------------------------------------
def test_errors_are_shown_next_to_the_fields_and_summarised(client, actors, survey):
    login(client, actors["citizen"])
    single, multiple, text, rating = questions(survey)
    data = form_data(
        survey, **{f"q{single.pk}": "", f"q{multiple.pk}": ["0", "9"], f"q{rating.pk}": "7"}
    )
    response = client.post(url("survey", survey, "en"), data)
    assert response.status_code == 400
    html = response.content.decode()
    check_accessible(html, "en")
    assert not stored(survey).exists()
    # the summary at the top links to the first control of each question with an error
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    for q in (single, multiple, rating):
        assert f'href="#q{q.pk}-' in summary
    assert f'href="#q{text.pk}"' not in summary
    # each error is tied to its group
    for q in (single, multiple, rating):
        assert f'id="q{q.pk}-error"' in html
        fieldset = re.search(rf'<fieldset id="q{q.pk}-group"[^>]*>', html).group(0)
        assert f'aria-describedby="q{q.pk}-error' in fieldset
    assert "Please answer this question." in html
    assert "Please choose only among the answers offered." in html
    assert "Please choose a value from 1 to 5." in html
    assert 'aria-invalid="true"' in html
    # what was entered is kept
    assert re.search(rf'id="q{multiple.pk}-0"[^>]*checked', html)
    assert "Mehr Bäume, bitte.</textarea>" in html


def test_required_questions_are_marked(client, actors, survey):
    login(client, actors["citizen"])
    html = client.get(url("survey", survey, "en")).content.decode()
    single, multiple, text, rating = questions(survey)
    for q in (single, rating):
        fieldset = re.search(rf'<fieldset id="q{q.pk}-group"[^>]*>', html).group(0)
        assert 'aria-required="true"' in fieldset and 'role="radiogroup"' in fieldset
        legend = html.split(fieldset, 1)[1].split("</legend>", 1)[0]
        assert "(required)" in legend
        assert re.search(rf'id="q{q.pk}-1"[^>]*required', html)
    legend = html.split(f'<fieldset id="q{multiple.pk}-group"', 1)[1].split("</legend>", 1)[0]
    assert "(required)" not in legend
    # the ends of the rating scale are labelled, and a hint explains the scale
    assert f'<label for="q{rating.pk}-1">1 (lowest)</label>' in html
    assert f'<label for="q{rating.pk}-5">5 (highest)</label>' in html
    assert f'id="q{rating.pk}-help"' in html
    # free text: a label, a hint with the limit
    assert f'<label for="q{text.pk}">' in html and f'aria-describedby="q{text.pk}-help"' in html


def test_the_english_page_shows_translated_questions_and_choices(client, actors, survey):
    login(client, actors["citizen"])
    html = client.get(url("survey", survey, "en")).content.decode()
    assert "How do you get to the Pfaff-Areal?" in html and "How do you usually come?" in html
    assert "On foot" in html and "Zu Fuß" not in html
    # the German text is stored whatever the language of the page
    client.post(
        url("survey", survey, "en"), form_data(survey, **{f"q{questions(survey)[0].pk}": "0"})
    )
    assert stored(survey).get().answers[str(questions(survey)[0].pk)] == "Zu Fuß"


# --- anonymous answers ----------------------------------------------------------------------------
def test_anonymous_visitors_answer_when_the_survey_allows_it(client, anon_survey, no_time_trap):
    response = client.get(url("survey", anon_survey))
    assert "no-cache" in response["Cache-Control"]  # a one-time token must not be cached
    html = response.content.decode()
    assert 'name="form_token"' in html
    honeypot = re.search(r'<input type="text" id="survey-website"[^>]*>', html).group(0)
    assert 'tabindex="-1"' in honeypot and 'autocomplete="off"' in honeypot
    wrapper = html.rsplit('<div class="visually-hidden" aria-hidden="true">', 1)[1].split(
        "</div>", 1
    )[0]
    assert 'for="survey-website"' in wrapper
    response = client.post(
        url("survey", anon_survey), {**form_data(anon_survey), "form_token": token_from(html)}
    )
    assert response.status_code == 302 and response["Location"] == url("survey-thanks", anon_survey)
    row = stored(anon_survey).get()
    assert row.user is None and len(row.token_hash) == 64
    assert surveys.cookie_name(anon_survey) in response.cookies
    cookie = response.cookies[surveys.cookie_name(anon_survey)]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    # the same browser is told it has answered (a soft check)
    html = client.get(url("survey", anon_survey, "en")).content.decode()
    assert "You have already answered this survey from this browser" in html
    assert 'name="form_token"' not in html
    assert client.post(url("survey", anon_survey), form_data(anon_survey)).status_code == 409
    assert stored(anon_survey).count() == 1


def test_a_forged_answered_cookie_is_ignored(client, anon_survey):
    client.cookies[surveys.cookie_name(anon_survey)] = str(anon_survey.pk)
    html = client.get(url("survey", anon_survey)).content.decode()
    assert 'name="form_token"' in html


def test_a_filled_honeypot_stores_nothing(client, anon_survey, no_time_trap):
    html = client.get(url("survey", anon_survey)).content.decode()
    data = {
        **form_data(anon_survey),
        "form_token": token_from(html),
        "website": "http://spam.example",
    }
    response = client.post(url("survey", anon_survey, "en"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "Your answers could not be accepted." in body
    assert "honeypot" not in body.lower() and "bot" not in body.lower()
    assert not stored(anon_survey).exists()
    assert surveys.cookie_name(anon_survey) not in response.cookies


def test_a_form_sent_too_fast_is_refused_and_kept(client, anon_survey):
    response = fresh_anonymous_post(client, anon_survey)
    assert response.status_code == 400
    html = response.content.decode()
    assert not stored(anon_survey).exists()
    check_accessible(html, "de")
    assert 'class="error-summary"' in html
    assert re.search(rf'id="q{questions(anon_survey)[0].pk}-2"[^>]*checked', html)  # answers kept
    assert 'name="form_token"' in html  # with its token, to send again


def test_a_replayed_form_is_refused(client, anon_survey, no_time_trap):
    html = client.get(url("survey", anon_survey)).content.decode()
    data = {**form_data(anon_survey), "form_token": token_from(html)}
    assert client.post(url("survey", anon_survey), data).status_code == 302
    client.cookies.clear()  # a bot would not keep cookies either
    response = client.post(url("survey", anon_survey, "en"), data)
    assert response.status_code == 409
    assert "This form has already been sent" in response.content.decode()
    assert stored(anon_survey).count() == 1


@pytest.mark.parametrize("token", ["", "abc", "Zm9v:1abcde:forged"])
def test_a_forged_token_is_refused(client, anon_survey, no_time_trap, token):
    response = client.post(
        url("survey", anon_survey, "en"), {**form_data(anon_survey), "form_token": token}
    )
    assert response.status_code == 400
    assert "The form could not be verified" in response.content.decode()
    assert not stored(anon_survey).exists()


def test_a_tampered_token_is_refused(client, anon_survey, no_time_trap):
    token = token_from(client.get(url("survey", anon_survey)).content.decode())
    nonce, ts, sig = token.split(":")
    for bad in (f"x{nonce}:{ts}:{sig}", f"{nonce}:{ts}:{sig[::-1]}"):
        response = client.post(
            url("survey", anon_survey), {**form_data(anon_survey), "form_token": bad}
        )
        assert response.status_code == 400
    assert not stored(anon_survey).exists()


def test_anonymous_answers_are_rate_limited(client, anon_survey, no_time_trap, monkeypatch):
    monkeypatch.setattr(surveys, "RATE_LIMIT", 2)
    for _ in range(2):
        client.cookies.clear()
        assert fresh_anonymous_post(client, anon_survey).status_code == 302
    client.cookies.clear()
    response = fresh_anonymous_post(client, anon_survey)
    assert response.status_code == 429
    assert stored(anon_survey).count() == 2
    # another address is not affected
    html = client.get(url("survey", anon_survey)).content.decode()
    response = client.post(
        url("survey", anon_survey),
        {**form_data(anon_survey), "form_token": token_from(html)},
        REMOTE_ADDR="198.51.100.99",
    )
    assert response.status_code == 302


def test_signed_in_people_need_no_token_on_an_anonymous_survey(client, actors, anon_survey):
    login(client, actors["citizen"])
    assert client.post(url("survey", anon_survey), form_data(anon_survey)).status_code == 302
    assert stored(anon_survey).get().user == actors["citizen"]


# --- phases, publication, tenancy -----------------------------------------------------------------
@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_a_closed_phase_shows_a_notice_and_refuses_answers(
    client, actors, process, anon_survey, actor
):
    close_phase(process)
    login(client, actors[actor])
    response = client.get(url("survey", anon_survey, "en"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "This survey is not open in the current phase of the process." in html
    assert 'type="radio"' not in html and "How do you usually come?" in html
    assert url("survey-results", anon_survey, "en") in html
    data = {**form_data(anon_survey), "form_token": surveys.issue_token(anon_survey)}
    assert client.post(url("survey", anon_survey), data).status_code == 403
    assert not stored(anon_survey).exists()


def test_a_process_without_an_active_phase_refuses_answers(client, actors, process, survey):
    Phase.objects.filter(process=process).delete()
    login(client, actors["citizen"])
    assert client.post(url("survey", survey), form_data(survey)).status_code == 403


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_unpublished_processes_and_wrong_addresses_are_not_found(
    client, actors, process, survey, actor
):
    login(client, actors[actor])
    with translation.override("de"):
        wrong_slug = reverse(
            "participation:survey", kwargs={"slug": "anderer-prozess", "pk": survey.pk}
        )
        no_such = reverse(
            "participation:survey", kwargs={"slug": process.slug, "pk": survey.pk + 999}
        )
    assert client.get(wrong_slug).status_code == 404
    assert client.get(no_such).status_code == 404
    Process.objects.filter(pk=process.pk).update(is_published=False)
    for name in ("survey", "survey-results", "survey-thanks"):
        # the city's staff preview a draft's survey page (test_ux_drafts.py)
        preview = actor == "staff" and name == "survey"
        assert client.get(url(name, survey)).status_code == (200 if preview else 404)
    posted = client.post(url("survey", survey), form_data(survey)).status_code
    assert posted == (403 if actor == "staff" else 404)
    assert not stored(survey).exists()


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_a_survey_is_not_found_from_another_citys_host(client, actors, survey, settings, actor):
    settings.ALLOWED_HOSTS = ["musterstadt.example", "testserver"]
    login(client, actors[actor])
    for name in ("survey", "survey-results", "survey-thanks"):
        assert client.get(url(name, survey), HTTP_HOST="musterstadt.example").status_code == 404
    response = client.post(
        url("survey", survey), form_data(survey), HTTP_HOST="musterstadt.example"
    )
    assert response.status_code == 404
    assert not stored(survey).exists()


def test_a_survey_of_another_citys_process_is_not_found_here(
    client, actors, other_city, survey, process
):
    """Even under this city's process slug: the survey's own city decides."""
    foreign = Process.objects.create(
        city=other_city, slug=process.slug, title="Fremd", summary="x", is_published=True
    )
    Survey.objects.filter(pk=survey.pk).update(city=other_city, process=foreign)
    login(client, actors["citizen"])
    assert client.get(url("survey", survey)).status_code == 404


# --- thanks and results ---------------------------------------------------------------------------
@pytest.mark.parametrize("public", [True, False])
def test_the_thanks_page_links_to_public_results_only(client, process, public):
    survey = make_survey(process, results_public=public)
    html = client.get(url("survey-thanks", survey, "en")).content.decode()
    assert "Thank you for your answers" in html
    assert (url("survey-results", survey, "en") in html) is public
    assert process.get_absolute_url() in html or "/en/" in html


def answered_by_three(survey, make_user):
    single, multiple, text, rating = questions(survey)
    for picks in (
        ("0", ["0", "1"], "Geheimer Text eins", "5"),
        ("0", ["1"], "", "3"),
        ("3", [], "Geheimer Text zwei", "4"),
    ):
        surveys.answer_survey(
            survey,
            {
                str(single.pk): picks[0],
                str(multiple.pk): picks[1],
                str(text.pk): picks[2],
                str(rating.pk): picks[3],
            },
            user=make_user(),
        )


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_public_results_for_each_actor(client, actors, survey, make_user, actor):
    answered_by_three(survey, make_user)
    login(client, actors[actor])
    response = client.get(url("survey-results", survey, "en"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "3 responses so far." in html
    assert "Geheimer Text" not in html  # free text stays in the back office
    assert "2 free-text answers." in html
    assert "Average rating: 4.0 out of 5." in html
    assert '<meter min="0" max="100" value="66.7" aria-hidden="true"></meter> 66.7 %' in html
    assert '<th scope="row">On foot</th><td>2</td>' in html
    assert " style=" not in html  # the CSP forbids inline styles


def test_german_results_use_german_numbers(client, survey, make_user):
    answered_by_three(survey, make_user)
    html = client.get(url("survey-results", survey)).content.decode()
    assert 'value="66.7"' in html and "66,7 %" in html
    assert '<th scope="row">Zu Fuß</th><td>2</td>' in html


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_results_that_are_not_public_are_not_found(client, actors, process, actor):
    survey = make_survey(process, results_public=False)
    login(client, actors[actor])
    assert client.get(url("survey-results", survey)).status_code == 404
    if actor != "anonymous":
        # nor are they linked after answering
        client.post(url("survey", survey), form_data(survey))
        html = client.get(url("survey", survey)).content.decode()
        assert url("survey-results", survey) not in html


# --- accessibility --------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("actor", ["anonymous", "citizen"])
def test_survey_pages_are_accessible(client, actors, survey, anon_survey, make_user, lang, actor):
    login(client, actors[actor])
    for s in (survey, anon_survey):
        response = client.get(url("survey", s, lang))
        assert response.status_code == 200
        html = response.content.decode()
        check_accessible(html, lang)
        assert " style=" not in html and "<script>" not in html
    answered_by_three(survey, make_user)
    for name in ("survey-results", "survey-thanks"):
        response = client.get(url(name, survey, lang))
        assert response.status_code == 200
        check_accessible(response.content.decode(), lang)


def test_the_closed_and_answered_pages_are_accessible(client, actors, survey, process):
    login(client, actors["citizen"])
    client.post(url("survey", survey), form_data(survey))
    check_accessible(client.get(url("survey", survey)).content.decode(), "de")
    close_phase(process)
    check_accessible(client.get(url("survey", survey, "en")).content.decode(), "en")


def test_the_pages_speak_german_first(client, actors, survey, make_user):
    login(client, actors["citizen"])
    html = client.get(url("survey", survey)).content.decode()
    assert url("survey", survey).startswith("/beteiligung/") and "/umfrage/" in url(
        "survey", survey
    )
    assert "(Pflichtfrage)" in html and "Antworten senden" in html and "1 (niedrigste)" in html
    assert "Send answers" not in html
    response = client.post(
        url("survey", survey), form_data(survey, **{f"q{questions(survey)[3].pk}": "9"})
    )
    assert "Bitte wählen Sie einen Wert von 1 bis 5." in response.content.decode()
    answered_by_three(survey, make_user)
    html = client.get(url("survey-results", survey)).content.decode()
    assert (
        "Ergebnisse: " in html
        and "Bisher 3 Antworten." in html
        and "Durchschnittliche Bewertung" in html
    )
