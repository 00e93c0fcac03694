"""Answering ideas: the list of a process's ideas with one answer form each, and the page of one
answer. Staff of the current city; writes go through ``participation.services.answer_idea``."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from herzstadt.accounts.backoffice.access import GET_POST, form_data, next_url, staff_required
from herzstadt.core.models import City
from herzstadt.participation import services
from herzstadt.participation.backoffice.forms import AnswerForm, IdeaFilterForm
from herzstadt.participation.backoffice.views.common import PAGE_SIZE, get_process
from herzstadt.participation.models import Idea
from herzstadt.web.forms import apply_errors


def _answer_form(city: City, idea: Idea, data=None) -> AnswerForm:
    return AnswerForm(
        city,
        data,
        prefix=f"idea-{idea.pk}",
        initial={"status": idea.status, "reason": idea.status_reason, "measure": idea.measure_id},
    )


@require_safe
@staff_required
def ideas(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    process = get_process(city, slug)
    filters = IdeaFilterForm(request.GET or None)
    qs = Idea.objects.filter(process=process).select_related(
        "author__profile", "category", "measure"
    )
    if filters.is_valid():
        qs = filters.filter(qs)
    elif filters.is_bound:
        qs = qs.none()  # an over-long search is refused with a message, not ignored
    page = Paginator(qs.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    for idea in page.object_list:
        idea.form = _answer_form(city, idea)
    context = {
        "process": process,
        "filters": filters,
        "page": page,
        "here": request.get_full_path(),
    }
    return render(request, "participation/backoffice/ideas.html", context)


@GET_POST
@staff_required
def idea_answer(request: HttpRequest, city: City, slug: str, pk: int) -> HttpResponse:
    process = get_process(city, slug)
    idea = get_object_or_404(
        Idea.objects.select_related("author__profile", "measure"), pk=pk, process=process
    )
    form = _answer_form(city, idea, form_data(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.answer_idea(
                request.user, idea, data["status"], data["reason"], data["measure"]
            )
        except ValidationError as exc:
            apply_errors(form, exc, {"status_reason": "reason"})
        else:
            messages.success(
                request, _("The answer to “%(title)s” is published.") % {"title": idea.title}
            )
            return redirect(
                next_url(request, reverse("backoffice:ideas", kwargs={"slug": process.slug}))
            )
    context = {"process": process, "idea": idea, "form": form, "next": request.POST.get("next", "")}
    return render(request, "participation/backoffice/idea_answer.html", context)
