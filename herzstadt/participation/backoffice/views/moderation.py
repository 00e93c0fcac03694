"""Moderation: the reports queue, hidden content, hiding and restoring, blocking an author.
Moderators and up of the current city; writes go through ``participation.services`` (hiding) and
``accounts.commands`` (blocking)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from herzstadt.accounts import commands as account_commands
from herzstadt.accounts.backoffice.access import GET_POST, form_data, moderator_required, next_url
from herzstadt.accounts.backoffice.forms import ReasonForm
from herzstadt.accounts.models import Membership
from herzstadt.accounts.people import display_name
from herzstadt.core.models import City
from herzstadt.participation import services
from herzstadt.participation.backoffice.forms import DismissForm
from herzstadt.participation.backoffice.views.common import QUEUE_SIZE, action_page
from herzstadt.participation.models import Comment, Idea, Report
from herzstadt.web.forms import apply_errors

TARGETS = {"idea": Idea, "comment": Comment}


def _target(city: City, kind: str, pk: int) -> Idea | Comment:
    model = TARGETS[kind]
    related = (
        ("author__profile", "process") if kind == "idea" else ("author__profile", "idea__process")
    )
    return get_object_or_404(model.objects.select_related(*related), pk=pk, city=city)


@require_safe
@moderator_required
def moderation(request: HttpRequest, city: City) -> HttpResponse:
    reports = (
        Report.objects.filter(city=city, resolved_at__isnull=True)
        .select_related(
            "reporter__profile",
            "idea__author__profile",
            "idea__process",
            "comment__author__profile",
            "comment__idea__process",
        )
        .order_by("created_at", "id")
    )
    page = Paginator(reports, QUEUE_SIZE).get_page(request.GET.get("page"))
    authors = {rep.target.author_id for rep in page.object_list} - {None}
    memberships = {m.user_id: m for m in Membership.objects.filter(city=city, user_id__in=authors)}
    for rep in page.object_list:
        author, m = rep.target.author, memberships.get(rep.target.author_id)
        rep.author_blocked = bool(m and m.blocked_at)
        rep.can_block = account_commands.can_be_blocked(author, city, m)
    return render(request, "participation/backoffice/moderation.html", {"page": page})


@require_safe
@moderator_required
def hidden(request: HttpRequest, city: City) -> HttpResponse:
    context = {
        "ideas": Idea.objects.filter(city=city, hidden_at__isnull=False)
        .select_related("author__profile", "process")
        .order_by("-hidden_at"),
        "comments": Comment.objects.filter(city=city, hidden_at__isnull=False)
        .select_related("author__profile", "idea__process")
        .order_by("-hidden_at"),
    }
    return render(request, "participation/backoffice/hidden.html", context)


@GET_POST
@moderator_required
def content_hide(request: HttpRequest, city: City, kind: str, pk: int) -> HttpResponse:
    target = _target(city, kind, pk)
    form = ReasonForm(form_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.hide(request.user, target, form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The content is hidden; the reason is shown in its place."))
            return redirect(next_url(request, reverse("backoffice:moderation")))
    title = _("Hide this idea") if kind == "idea" else _("Hide this comment")
    context = {
        "form": form,
        "title": title,
        "target": target,
        "kind": kind,
        "submit": _("Hide"),
        "intro": _(
            "The reason is shown to everyone in place of the content. Open reports are closed."
        ),
    }
    return action_page(request, context)


@GET_POST
@moderator_required
def content_restore(request: HttpRequest, city: City, kind: str, pk: int) -> HttpResponse:
    target = _target(city, kind, pk)
    if request.method == "POST":
        services.restore(request.user, target)
        messages.success(request, _("The content is visible again."))
        return redirect(next_url(request, reverse("backoffice:hidden")))
    context = {
        "title": _("Show this content again"),
        "target": target,
        "kind": kind,
        "submit": _("Restore"),
        "intro": _("The content becomes visible to everyone again."),
    }
    return action_page(request, context)


@GET_POST
@moderator_required
def content_block_author(request: HttpRequest, city: City, kind: str, pk: int) -> HttpResponse:
    target = _target(city, kind, pk)
    if target.author is None:
        raise Http404(_("The author has deleted their account."))
    form = ReasonForm(form_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            account_commands.block_user(
                request.user, city, target.author, form.cleaned_data["reason"]
            )
        except (ValidationError, PermissionDenied) as exc:
            if isinstance(exc, PermissionDenied):
                form.add_error(None, str(exc))
            else:
                apply_errors(form, exc)
        else:
            messages.success(request, _("The person can no longer contribute in this city."))
            return redirect(next_url(request, reverse("backoffice:moderation")))
    context = {
        "form": form,
        "title": _("Block %(name)s") % {"name": display_name(target.author)},
        "target": target,
        "kind": kind,
        "submit": _("Block"),
        "intro": _(
            "A blocked person can still read, but can no longer post, comment, support or answer "
            "surveys in this city. Their earlier contributions stay unless you hide them."
        ),
    }
    return action_page(request, context)


@GET_POST
@moderator_required
def report_dismiss(request: HttpRequest, city: City, pk: int) -> HttpResponse:
    rep = get_object_or_404(
        Report.objects.select_related(
            "idea__author__profile", "comment__author__profile", "comment__idea"
        ),
        pk=pk,
        city=city,
        resolved_at__isnull=True,
    )
    form = DismissForm(form_data(request))
    if request.method == "POST" and form.is_valid():
        services.dismiss_report(request.user, rep, form.cleaned_data["resolution"])
        messages.success(request, _("The report is closed; the content stays visible."))
        return redirect(next_url(request, reverse("backoffice:moderation")))
    context = {
        "form": form,
        "title": _("Dismiss the report"),
        "target": rep.target,
        "kind": "idea" if rep.idea_id else "comment",
        "report": rep,
        "submit": _("Dismiss"),
        "intro": _("The content stays visible. Every open report about it is closed."),
    }
    return action_page(request, context)


@require_safe
@moderator_required
def versions(request: HttpRequest, city: City, pk: int, kind: str) -> HttpResponse:
    """The current text of an idea or comment and the earlier versions its author replaced."""
    target = _target(city, kind, pk)
    context = {
        "target": target,
        "kind": kind,
        "idea": target if kind == "idea" else target.idea,
        "versions": target.versions.order_by("-replaced_at", "-id"),
    }
    return render(request, "participation/backoffice/versions.html", context)
