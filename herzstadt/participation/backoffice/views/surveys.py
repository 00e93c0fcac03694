"""Surveys of a process and their questions. Staff of the current city; writes go through
``backoffice.commands``."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from herzstadt.accounts.backoffice.access import GET_POST, form_data, staff_required
from herzstadt.core.models import City
from herzstadt.participation.backoffice import commands
from herzstadt.participation.backoffice.forms import QuestionForm, SurveyForm
from herzstadt.participation.backoffice.views.common import form_page, get_process, hub
from herzstadt.participation.models import Process, Question, Survey
from herzstadt.web.forms import apply_errors


@GET_POST
@staff_required
def survey_create(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    process = get_process(city, slug)
    form = SurveyForm(process, form_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            survey = commands.save_survey(request.user, form.save(commit=False))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("The survey is created as a draft. Add its questions, then publish it."),
            )
            return redirect("backoffice:survey-edit", slug=process.slug, pk=survey.pk)
    return form_page(
        request,
        form,
        title=_("New survey"),
        back=hub(process),
        submit=_("Create"),
        process=process,
    )


def _survey(process: Process, pk: int) -> Survey:
    return get_object_or_404(Survey, pk=pk, process=process)


@GET_POST
@staff_required
def survey_edit(request: HttpRequest, city: City, slug: str, pk: int) -> HttpResponse:
    process = get_process(city, slug)
    survey = _survey(process, pk)
    form = SurveyForm(process, form_data(request), instance=_survey(process, pk))
    if request.method == "POST" and form.is_valid():
        try:
            commands.save_survey(request.user, form.save(commit=False))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The survey is saved."))
            return redirect("backoffice:survey-edit", slug=process.slug, pk=survey.pk)
    context = {
        "form": form,
        "process": process,
        "survey": survey,
        "questions": survey.questions.order_by("position", "id"),
        "response_count": survey.responses.count(),
    }
    return render(request, "participation/backoffice/survey.html", context)


def _question_form(
    request: HttpRequest, process: Process, survey: Survey, form, title: str, submit: str
):
    if request.method == "POST" and form.is_valid():
        try:
            commands.save_question(request.user, form.save(commit=False))
        except ValidationError as exc:
            apply_errors(form, exc, {"choices": "choices_text"})
        else:
            messages.success(request, _("The question is saved."))
            return redirect("backoffice:survey-edit", slug=process.slug, pk=survey.pk)
    back = reverse("backoffice:survey-edit", kwargs={"slug": process.slug, "pk": survey.pk})
    return form_page(
        request, form, title=title, back=back, submit=submit, process=process, survey=survey
    )


@GET_POST
@staff_required
def question_create(request: HttpRequest, city: City, slug: str, pk: int) -> HttpResponse:
    process = get_process(city, slug)
    survey = _survey(process, pk)
    form = QuestionForm(survey, form_data(request))
    return _question_form(request, process, survey, form, _("New question"), _("Create"))


@GET_POST
@staff_required
def question_edit(request: HttpRequest, city: City, slug: str, pk: int, qpk: int) -> HttpResponse:
    process = get_process(city, slug)
    survey = _survey(process, pk)
    question = get_object_or_404(Question, pk=qpk, survey=survey)
    form = QuestionForm(survey, form_data(request), instance=question)
    return _question_form(request, process, survey, form, _("Edit the question"), _("Save"))


@GET_POST
@staff_required
def question_delete(request: HttpRequest, city: City, slug: str, pk: int, qpk: int) -> HttpResponse:
    process = get_process(city, slug)
    survey = _survey(process, pk)
    question = get_object_or_404(Question, pk=qpk, survey=survey)
    back = reverse("backoffice:survey-edit", kwargs={"slug": process.slug, "pk": survey.pk})
    if request.method == "POST":
        try:
            commands.delete_question(request.user, question)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The question is deleted."))
        return redirect(back)
    context = {
        "process": process,
        "object": question,
        "what": _("question"),
        "note": _("Answers already given to it are no longer shown."),
        "back": back,
    }
    return render(request, "participation/backoffice/confirm_delete.html", context)


@require_POST
@staff_required
def survey_publish(request: HttpRequest, city: City, slug: str, pk: int) -> HttpResponse:
    """Publish the survey (``action=publish``; it needs a question) or take it back to a draft."""
    process = get_process(city, slug)
    survey = _survey(process, pk)
    publish = request.POST.get("action") != "unpublish"
    try:
        commands.publish_survey(request.user, survey, publish)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("backoffice:survey-edit", slug=process.slug, pk=survey.pk)
    if not publish:
        messages.success(request, _("The survey is a draft again: only staff see it."))
    elif process.is_published:
        messages.success(request, _("The survey is published: people can answer it now."))
    else:
        messages.success(
            request,
            _("The survey is published; people see it once the process is published too."),
        )
    return redirect("backoffice:survey-edit", slug=process.slug, pk=survey.pk)
