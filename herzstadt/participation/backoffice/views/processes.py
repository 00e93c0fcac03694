"""Processes and what belongs to them: the process hub, phases and categories. Staff of the current
city; writes go through ``backoffice.commands``."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from herzstadt.accounts.backoffice.access import GET_POST, form_data, staff_required
from herzstadt.core.models import City
from herzstadt.participation.backoffice import commands
from herzstadt.participation.backoffice.forms import CategoryForm, PhaseForm, ProcessForm
from herzstadt.participation.backoffice.views.common import form_page, get_process, hub
from herzstadt.participation.models import Category, Phase, Process
from herzstadt.web.forms import apply_errors


@GET_POST
@staff_required
def process_create(request: HttpRequest, city: City) -> HttpResponse:
    form = ProcessForm(city, form_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            process = commands.save_process(request.user, city, form.save(commit=False))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The process is created. Now add its phases."))
            return redirect(hub(process))
    return form_page(
        request,
        form,
        title=_("New participation process"),
        back=reverse("backoffice:home"),
        submit=_("Create"),
    )


@require_safe
@staff_required
def process_detail(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    process = get_process(city, slug)
    context = {
        "process": process,
        "phases": process.phases.order_by("start"),
        "categories": process.categories.order_by("name"),
        "surveys": process.surveys.annotate(
            question_count=Count("questions", distinct=True),
            response_count=Count("responses", distinct=True),
        ).order_by("id"),
        "active_phase": process.active_phase(),
    }
    return render(request, "participation/backoffice/process.html", context)


@GET_POST
@staff_required
def process_edit(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    process = get_process(city, slug)
    # The form edits its own copy, so the page keeps the saved title and address until it is saved.
    form = ProcessForm(city, form_data(request), instance=get_process(city, slug))
    if request.method == "POST" and form.is_valid():
        try:
            saved = commands.save_process(request.user, city, form.save(commit=False))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The process is saved."))
            return redirect(hub(saved))
    return form_page(
        request,
        form,
        title=_("Edit “%(title)s”") % {"title": process.title},
        back=hub(process),
        submit=_("Save"),
        process=process,
    )


def _child_form(
    request: HttpRequest,
    process: Process,
    form,
    save: Callable,
    *,
    title: str,
    done: str,
    submit: str,
) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        try:
            save(request.user, form.save(commit=False))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect(hub(process))
    return form_page(request, form, title=title, back=hub(process), submit=submit, process=process)


def _delete_page(
    request: HttpRequest, process: Process, obj, delete: Callable, *, what: str, note: str = ""
) -> HttpResponse:
    if request.method == "POST":
        delete(request.user, obj)
        messages.success(request, _("“%(name)s” is deleted.") % {"name": str(obj)})
        return redirect(hub(process))
    context = {"process": process, "object": obj, "what": what, "note": note, "back": hub(process)}
    return render(request, "participation/backoffice/confirm_delete.html", context)


@GET_POST
@staff_required
def phase_create(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    process = get_process(city, slug)
    form = PhaseForm(process, form_data(request))
    return _child_form(
        request,
        process,
        form,
        commands.save_phase,
        title=_("New phase"),
        done=_("The phase is saved."),
        submit=_("Create"),
    )


@GET_POST
@staff_required
def phase_edit(request: HttpRequest, city: City, slug: str, pk: int) -> HttpResponse:
    process = get_process(city, slug)
    phase = get_object_or_404(Phase, pk=pk, process=process)
    form = PhaseForm(process, form_data(request), instance=phase)
    return _child_form(
        request,
        process,
        form,
        commands.save_phase,
        title=_("Edit the phase “%(title)s”") % {"title": phase.title},
        done=_("The phase is saved."),
        submit=_("Save"),
    )


@GET_POST
@staff_required
def phase_delete(request: HttpRequest, city: City, slug: str, pk: int) -> HttpResponse:
    process = get_process(city, slug)
    phase = get_object_or_404(Phase, pk=pk, process=process)
    return _delete_page(request, process, phase, commands.delete_phase, what=_("phase"))


@GET_POST
@staff_required
def category_create(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    process = get_process(city, slug)
    form = CategoryForm(process, form_data(request))
    return _child_form(
        request,
        process,
        form,
        commands.save_category,
        title=_("New category"),
        done=_("The category is saved."),
        submit=_("Create"),
    )


@GET_POST
@staff_required
def category_edit(request: HttpRequest, city: City, slug: str, pk: int) -> HttpResponse:
    process = get_process(city, slug)
    category = get_object_or_404(Category, pk=pk, process=process)
    form = CategoryForm(process, form_data(request), instance=category)
    return _child_form(
        request,
        process,
        form,
        commands.save_category,
        title=_("Edit the category “%(name)s”") % {"name": category.name},
        done=_("The category is saved."),
        submit=_("Save"),
    )


@GET_POST
@staff_required
def category_delete(request: HttpRequest, city: City, slug: str, pk: int) -> HttpResponse:
    process = get_process(city, slug)
    category = get_object_or_404(Category, pk=pk, process=process)
    return _delete_page(
        request,
        process,
        category,
        commands.delete_category,
        what=_("category"),
        note=_("Its ideas stay, without a category."),
    )


@require_POST
@staff_required
def process_publish(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    """Publish the process (``action=publish``) or take it back to a draft (``action=unpublish``)."""
    process = get_process(city, slug)
    publish = request.POST.get("action") != "unpublish"
    commands.publish_process(request.user, process, publish)
    if publish:
        messages.success(request, _("The process is published: everyone can see it now."))
    else:
        messages.success(request, _("The process is a draft again: only staff see it."))
    return redirect(hub(process))
