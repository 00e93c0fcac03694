"""Answering the survey of a process, the thanks page and the public results.

A survey is reached through its process (``/beteiligung/<process>/umfrage/<id>/``) and only in the
current city; the process must be published. Who may answer and how anonymous answers are protected
is decided in :mod:`herzstadt.participation.surveys.answering`.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from herzstadt.core import permissions
from herzstadt.participation.models import Survey
from herzstadt.participation.surveys import answering as surveys
from herzstadt.participation.surveys.forms import SurveyForm, display_choices


def _survey(request: HttpRequest, slug: str, pk: int, preview: bool = False) -> Survey:
    """A published survey of a published process of this city. With ``preview`` the city's staff
    also see drafts (a preview that cannot be answered: ``participation.answer_survey`` needs both
    published)."""
    city = request.city
    if not city:
        raise Http404
    survey = get_object_or_404(
        Survey.objects.select_related("process", "city").prefetch_related("process__phases"),
        pk=pk,
        city_id=city.pk,
        process__city_id=city.pk,
        process__slug=slug,
    )
    if not is_public(survey) and not (
        preview and permissions.allowed(request.user, "participation.manage", city)
    ):
        raise Http404
    return survey


def is_public(survey: Survey) -> bool:
    return survey.is_published and survey.process.is_published


def _results_url(survey: Survey) -> str:
    return reverse(
        "participation:survey-results", kwargs={"slug": survey.process.slug, "pk": survey.pk}
    )


def _render_survey(
    request: HttpRequest,
    survey: Survey,
    *,
    form: SurveyForm | None = None,
    status: int = 200,
    notice: str = "",
    already: bool = False,
    token: str = "",
) -> HttpResponse:
    """The survey page. ``token``: the form token to send again — the one the person's corrected
    form already carried (verified), so the time trap counts from when they first opened the form
    and never refuses someone quickly fixing an error."""
    questions = form.questions if form is not None else list(survey.questions.all())
    user = request.user
    allowed = surveys.access(survey, user)
    if user.is_authenticated:
        answered = already or surveys.has_answered(survey, user)
        answered_here = False
    else:
        answered = already
        answered_here = not already and surveys.answered_in_browser(request, survey)
    show_form = allowed.can_answer and not answered and not answered_here
    if form is None:
        form = SurveyForm(survey, questions)
    context = {
        "survey": survey,
        "process": survey.process,
        "form": form,
        "access": allowed,
        "answered": answered,
        "answered_here": answered_here,
        "show_form": show_form,
        "anonymous_form": show_form and not user.is_authenticated,
        "token": (token or surveys.issue_token(survey))
        if show_form and not user.is_authenticated
        else "",
        "token_field": surveys.TOKEN_FIELD,
        "honeypot_field": surveys.HONEYPOT_FIELD,
        "results_url": _results_url(survey) if survey.results_public else "",
        "notice": notice,
        "preview": not is_public(survey),
    }
    return render(request, "participation/survey_detail.html", context, status=status)


@never_cache  # the anonymous form carries a one-time token
@require_http_methods(["GET", "HEAD", "POST"])
def survey(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    survey = _survey(request, slug, pk, preview=True)
    if request.method != "POST":
        return _render_survey(request, survey)

    user = request.user
    allowed = surveys.access(survey, user)
    if not allowed.can_answer:
        return _render_survey(request, survey, status=403, notice=allowed.reason)
    if not user.is_authenticated and surveys.answered_in_browser(request, survey):
        return _render_survey(request, survey, status=409)

    form = SurveyForm(survey, list(survey.questions.all()), request.POST)
    posted_token = "" if user.is_authenticated else request.POST.get(surveys.TOKEN_FIELD, "")
    try:
        surveys.answer_survey(
            survey,
            form.raw_answers(),
            user=user,
            token=posted_token,
            honeypot=request.POST.get(surveys.HONEYPOT_FIELD, ""),
            ip=surveys.client_ip(request),
        )
    except PermissionDenied as e:
        return _render_survey(request, survey, status=403, notice=str(e) or allowed.reason)
    except surveys.AlreadyAnswered as e:
        return _render_survey(request, survey, status=409, notice=e.message, already=True)
    except surveys.Rejected as e:
        if e.reason in ("honeypot", "rate_limited"):
            return render(
                request,
                "participation/survey_message.html",
                {"survey": survey, "process": survey.process, "message": e.message},
                status=e.status,
            )
        form.non_field_errors.append(str(e.message))
        # "too fast": the same token again, so its first timestamp still counts
        keep = posted_token if e.reason == "too_fast" else ""
        return _render_survey(request, survey, form=form, status=e.status, token=keep)
    except ValidationError as e:
        form.add_errors(e)
        # the token was verified before the answers were checked; keep it for the correction
        return _render_survey(request, survey, form=form, status=400, token=posted_token)
    response = redirect("participation:survey-thanks", slug=survey.process.slug, pk=survey.pk)
    surveys.remember_in_browser(request, response, survey)
    return response


@require_http_methods(["GET", "HEAD"])
def survey_thanks(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    survey = _survey(request, slug, pk)
    context = {
        "survey": survey,
        "process": survey.process,
        "results_url": _results_url(survey) if survey.results_public else "",
    }
    return render(request, "participation/survey_thanks.html", context)


@require_http_methods(["GET", "HEAD"])
def survey_results(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    survey = _survey(request, slug, pk)
    if not survey.results_public:
        raise Http404
    results = surveys.aggregate(survey)
    for row in results["questions"]:
        if "options" in row:
            for option, label in zip(
                row["options"], display_choices(row["question"]), strict=False
            ):
                option["display"] = label
    context = {"survey": survey, "process": survey.process, "results": results}
    return render(request, "participation/survey_results.html", context)


urlpatterns = [
    path(_("participation/<slug:slug>/survey/<int:pk>/"), survey, name="survey"),
    path(
        _("participation/<slug:slug>/survey/<int:pk>/thanks/"), survey_thanks, name="survey-thanks"
    ),
    path(
        _("participation/<slug:slug>/survey/<int:pk>/results/"),
        survey_results,
        name="survey-results",
    ),
]
