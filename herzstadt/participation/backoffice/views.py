"""The city's back office for participation.

Who gets in: moderators, staff and administrators *of the current city* (``request.city``). Anonymous
visitors are sent to sign in; everyone else (citizens, staff of another city) gets the friendly 403
page. Moderators handle the moderation queue; the rest (processes, answers, statistics, exports,
roles) is for staff. Every object is looked up within the current city, so a foreign id is a 404.
Moderation actions go through ``participation/services.py``; the other writes through ``commands.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from herzstadt.accounts import roles
from herzstadt.accounts.models import Membership, Role
from herzstadt.accounts.people import display_name
from herzstadt.core.models import City
from herzstadt.participation import services
from herzstadt.participation.backoffice import charts, commands
from herzstadt.participation.backoffice import exports as downloads
from herzstadt.participation.backoffice.forms import (
    AnswerForm,
    CategoryForm,
    DismissForm,
    IdeaFilterForm,
    PhaseForm,
    ProcessForm,
    QuestionForm,
    ReasonForm,
    RoleForm,
    SurveyForm,
)
from herzstadt.participation.backoffice.stats import process_stats, survey_results
from herzstadt.participation.forms import apply_errors
from herzstadt.participation.models import (
    Category,
    Comment,
    Idea,
    IdeaStatus,
    Phase,
    Process,
    Question,
    QuestionKind,
    Report,
    Survey,
)

PAGE_SIZE = 20
QUEUE_SIZE = 50
GET_POST = require_http_methods(["GET", "HEAD", "POST"])


# --- access ---------------------------------------------------------------------------------------
def _current_city(request: HttpRequest) -> City | None:
    city = request.city
    if not city:  # evaluates the lazy object
        return None
    return getattr(city, "_wrapped", city)


def _guard(check: Callable, message: str):
    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("account_login"))
            city = _current_city(request)
            if city is None or not check(request.user, city):
                raise PermissionDenied(message)
            # For the back-office navigation: staff see the staff-only links.
            request.backoffice_staff = roles.is_city_staff(request.user, city)
            return view(request, city, *args, **kwargs)

        return wrapped

    return decorator


moderator_required = _guard(
    roles.can_moderate, "Only moderators of this city may use the back office."
)
staff_required = _guard(roles.is_city_staff, "Only staff of this city may do this.")


def _data(request: HttpRequest):
    """The posted data for a form (bound even when empty), or ``None`` for GET."""
    return request.POST if request.method == "POST" else None


def _next(request: HttpRequest, default: str) -> str:
    """Where to go after an action: a safe ``next`` address on this site, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _form_page(
    request: HttpRequest, form, *, title: str, back: str, submit: str, **extra
) -> HttpResponse:
    context = {"form": form, "title": title, "back": back, "submit": submit, **extra}
    return render(request, "participation/backoffice/form.html", context)


def _action_page(request: HttpRequest, context: dict) -> HttpResponse:
    """The page of one moderation action (it also shows the errors of the inline queue forms)."""
    context["next"] = request.POST.get("next") or request.GET.get("next", "")
    return render(request, "participation/backoffice/action.html", context)


# --- overview -------------------------------------------------------------------------------------
def _by(qs, key: str) -> dict[int, int]:
    return dict(qs.order_by().values_list(key).annotate(n=Count("id")))


@require_safe
@moderator_required
def home(request: HttpRequest, city: City) -> HttpResponse:
    processes = list(
        Process.objects.filter(city=city)
        .prefetch_related(Prefetch("phases", queryset=Phase.objects.order_by("start")))
        .order_by("-created_at", "-id")
    )
    ideas = Idea.objects.filter(city=city)
    open_reports = Report.objects.filter(city=city, resolved_at__isnull=True)
    idea_counts = _by(ideas, "process_id")
    unanswered = _by(ideas.filter(status=IdeaStatus.RECEIVED, hidden_at__isnull=True), "process_id")
    comment_counts = _by(Comment.objects.filter(city=city), "idea__process_id")
    reports_by_process = _by(open_reports.filter(idea__isnull=False), "idea__process_id")
    for pid, n in _by(
        open_reports.filter(comment__isnull=False), "comment__idea__process_id"
    ).items():
        reports_by_process[pid] = reports_by_process.get(pid, 0) + n
    rows = [
        {
            "process": p,
            "phase": p.active_phase(),
            "ideas": idea_counts.get(p.pk, 0),
            "comments": comment_counts.get(p.pk, 0),
            "open_reports": reports_by_process.get(p.pk, 0),
            "unanswered": unanswered.get(p.pk, 0),
        }
        for p in processes
    ]
    context = {
        "rows": rows,
        "open_reports": open_reports.count(),
        "hidden_count": ideas.filter(hidden_at__isnull=False).count()
        + Comment.objects.filter(city=city, hidden_at__isnull=False).count(),
        "blocked_count": Membership.objects.filter(city=city, blocked_at__isnull=False).count(),
        "is_staff": roles.is_city_staff(request.user, city),
    }
    return render(request, "participation/backoffice/home.html", context)


# --- moderation -----------------------------------------------------------------------------------
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
        rep.can_block = (
            author is not None and not author.is_superuser and (m is None or m.role == Role.CITIZEN)
        )
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


@require_safe
@moderator_required
def blocked(request: HttpRequest, city: City) -> HttpResponse:
    memberships = (
        Membership.objects.filter(city=city, blocked_at__isnull=False)
        .select_related("user__profile", "blocked_by__profile")
        .order_by("-blocked_at")
    )
    return render(request, "participation/backoffice/blocked.html", {"memberships": memberships})


@GET_POST
@moderator_required
def content_hide(request: HttpRequest, city: City, kind: str, pk: int) -> HttpResponse:
    target = _target(city, kind, pk)
    form = ReasonForm(_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.hide(request.user, target, form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The content is hidden; the reason is shown in its place."))
            return redirect(_next(request, reverse("backoffice:moderation")))
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
    return _action_page(request, context)


@GET_POST
@moderator_required
def content_restore(request: HttpRequest, city: City, kind: str, pk: int) -> HttpResponse:
    target = _target(city, kind, pk)
    if request.method == "POST":
        services.restore(request.user, target)
        messages.success(request, _("The content is visible again."))
        return redirect(_next(request, reverse("backoffice:hidden")))
    context = {
        "title": _("Show this content again"),
        "target": target,
        "kind": kind,
        "submit": _("Restore"),
        "intro": _("The content becomes visible to everyone again."),
    }
    return _action_page(request, context)


@GET_POST
@moderator_required
def content_block_author(request: HttpRequest, city: City, kind: str, pk: int) -> HttpResponse:
    target = _target(city, kind, pk)
    if target.author is None:
        raise Http404(_("The author has deleted their account."))
    form = ReasonForm(_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.block_user(request.user, city, target.author, form.cleaned_data["reason"])
        except (ValidationError, PermissionDenied) as exc:
            if isinstance(exc, PermissionDenied):
                form.add_error(None, str(exc))
            else:
                apply_errors(form, exc)
        else:
            messages.success(request, _("The person can no longer contribute in this city."))
            return redirect(_next(request, reverse("backoffice:moderation")))
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
    return _action_page(request, context)


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
    form = DismissForm(_data(request))
    if request.method == "POST" and form.is_valid():
        services.dismiss_report(request.user, rep, form.cleaned_data["resolution"])
        messages.success(request, _("The report is closed; the content stays visible."))
        return redirect(_next(request, reverse("backoffice:moderation")))
    context = {
        "form": form,
        "title": _("Dismiss the report"),
        "target": rep.target,
        "kind": "idea" if rep.idea_id else "comment",
        "report": rep,
        "submit": _("Dismiss"),
        "intro": _("The content stays visible. Every open report about it is closed."),
    }
    return _action_page(request, context)


@GET_POST
@moderator_required
def unblock(request: HttpRequest, city: City, user_id: int) -> HttpResponse:
    membership = get_object_or_404(
        Membership.objects.select_related("user__profile"),
        city=city,
        user_id=user_id,
        blocked_at__isnull=False,
    )
    if request.method == "POST":
        services.unblock_user(request.user, city, membership.user)
        messages.success(request, _("The person can contribute again."))
        return redirect(_next(request, reverse("backoffice:blocked")))
    return render(request, "participation/backoffice/unblock.html", {"membership": membership})


# --- processes ------------------------------------------------------------------------------------
def _process(city: City, slug: str) -> Process:
    return get_object_or_404(
        Process.objects.select_related("district", "measure"), city=city, slug=slug
    )


def _hub(process: Process) -> str:
    return reverse("backoffice:process", kwargs={"slug": process.slug})


@GET_POST
@staff_required
def process_create(request: HttpRequest, city: City) -> HttpResponse:
    form = ProcessForm(city, _data(request))
    if request.method == "POST" and form.is_valid():
        try:
            process = commands.save_process(request.user, city, form.save(commit=False))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The process is created. Now add its phases."))
            return redirect(_hub(process))
    return _form_page(
        request,
        form,
        title=_("New participation process"),
        back=reverse("backoffice:home"),
        submit=_("Create"),
    )


@require_safe
@staff_required
def process_detail(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    process = _process(city, slug)
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
    process = _process(city, slug)
    # The form edits its own copy, so the page keeps the saved title and address until it is saved.
    form = ProcessForm(city, _data(request), instance=_process(city, slug))
    if request.method == "POST" and form.is_valid():
        try:
            saved = commands.save_process(request.user, city, form.save(commit=False))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The process is saved."))
            return redirect(_hub(saved))
    return _form_page(
        request,
        form,
        title=_("Edit “%(title)s”") % {"title": process.title},
        back=_hub(process),
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
            return redirect(_hub(process))
    return _form_page(
        request, form, title=title, back=_hub(process), submit=submit, process=process
    )


def _delete_page(
    request: HttpRequest, process: Process, obj, delete: Callable, *, what: str, note: str = ""
) -> HttpResponse:
    if request.method == "POST":
        delete(request.user, obj)
        messages.success(request, _("“%(name)s” is deleted.") % {"name": str(obj)})
        return redirect(_hub(process))
    context = {"process": process, "object": obj, "what": what, "note": note, "back": _hub(process)}
    return render(request, "participation/backoffice/confirm_delete.html", context)


@GET_POST
@staff_required
def phase_create(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    process = _process(city, slug)
    form = PhaseForm(process, _data(request))
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
    process = _process(city, slug)
    phase = get_object_or_404(Phase, pk=pk, process=process)
    form = PhaseForm(process, _data(request), instance=phase)
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
    process = _process(city, slug)
    phase = get_object_or_404(Phase, pk=pk, process=process)
    return _delete_page(request, process, phase, commands.delete_phase, what=_("phase"))


@GET_POST
@staff_required
def category_create(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    process = _process(city, slug)
    form = CategoryForm(process, _data(request))
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
    process = _process(city, slug)
    category = get_object_or_404(Category, pk=pk, process=process)
    form = CategoryForm(process, _data(request), instance=category)
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
    process = _process(city, slug)
    category = get_object_or_404(Category, pk=pk, process=process)
    return _delete_page(
        request,
        process,
        category,
        commands.delete_category,
        what=_("category"),
        note=_("Its ideas stay, without a category."),
    )


@GET_POST
@staff_required
def survey_create(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    process = _process(city, slug)
    form = SurveyForm(process, _data(request))
    if request.method == "POST" and form.is_valid():
        try:
            survey = commands.save_survey(request.user, form.save(commit=False))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The survey is created. Now add its questions."))
            return redirect("backoffice:survey-edit", slug=process.slug, pk=survey.pk)
    return _form_page(
        request,
        form,
        title=_("New survey"),
        back=_hub(process),
        submit=_("Create"),
        process=process,
    )


def _survey(process: Process, pk: int) -> Survey:
    return get_object_or_404(Survey, pk=pk, process=process)


@GET_POST
@staff_required
def survey_edit(request: HttpRequest, city: City, slug: str, pk: int) -> HttpResponse:
    process = _process(city, slug)
    survey = _survey(process, pk)
    form = SurveyForm(process, _data(request), instance=_survey(process, pk))
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
    return _form_page(
        request, form, title=title, back=back, submit=submit, process=process, survey=survey
    )


@GET_POST
@staff_required
def question_create(request: HttpRequest, city: City, slug: str, pk: int) -> HttpResponse:
    process = _process(city, slug)
    survey = _survey(process, pk)
    form = QuestionForm(survey, _data(request))
    return _question_form(request, process, survey, form, _("New question"), _("Create"))


@GET_POST
@staff_required
def question_edit(request: HttpRequest, city: City, slug: str, pk: int, qpk: int) -> HttpResponse:
    process = _process(city, slug)
    survey = _survey(process, pk)
    question = get_object_or_404(Question, pk=qpk, survey=survey)
    form = QuestionForm(survey, _data(request), instance=question)
    return _question_form(request, process, survey, form, _("Edit the question"), _("Save"))


@GET_POST
@staff_required
def question_delete(request: HttpRequest, city: City, slug: str, pk: int, qpk: int) -> HttpResponse:
    process = _process(city, slug)
    survey = _survey(process, pk)
    question = get_object_or_404(Question, pk=qpk, survey=survey)
    back = reverse("backoffice:survey-edit", kwargs={"slug": process.slug, "pk": survey.pk})
    if request.method == "POST":
        commands.delete_question(request.user, question)
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


# --- answering ideas ------------------------------------------------------------------------------
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
    process = _process(city, slug)
    filters = IdeaFilterForm(request.GET or None)
    qs = Idea.objects.filter(process=process).select_related(
        "author__profile", "category", "measure"
    )
    if filters.is_valid():
        qs = filters.filter(qs)
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
    process = _process(city, slug)
    idea = get_object_or_404(
        Idea.objects.select_related("author__profile", "measure"), pk=pk, process=process
    )
    form = _answer_form(city, idea, _data(request))
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
                _next(request, reverse("backoffice:ideas", kwargs={"slug": process.slug}))
            )
    context = {"process": process, "idea": idea, "form": form, "next": request.POST.get("next", "")}
    return render(request, "participation/backoffice/idea_answer.html", context)


# --- statistics -----------------------------------------------------------------------------------
def _survey_charts(survey: Survey) -> list[dict]:
    results = survey_results(survey)
    for item in results:
        chart_id = f"chart-question-{item['id']}"
        if item["kind"] in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            item["chart"] = charts.bar_chart(
                [(c["label"], c["count"]) for c in item["choices"]],
                chart_id=chart_id,
                title=item["text"],
                desc=_(
                    "Number of answers per choice; %(n)s people answered. The table has the same numbers."
                )
                % {"n": item["answered"]},
            )
        elif item["kind"] == QuestionKind.RATING:
            item["chart"] = charts.bar_chart(
                [(c["label"], c["count"]) for c in item["distribution"]],
                chart_id=chart_id,
                title=item["text"],
                desc=_("Number of answers per rating from 1 to %(max)s; %(n)s people answered.")
                % {"max": item["scale_max"], "n": item["answered"]},
            )
    return results


@require_safe
@staff_required
def statistics(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    process = _process(city, slug)
    stats = process_stats(process)
    days = stats["days"]
    day_chart = None
    if days:
        labels = [formats.date_format(d["day"], "MONTH_DAY_FORMAT") for d in days]
        day_chart = charts.line_chart(
            labels,
            [
                (_("Ideas"), [d["ideas"] for d in days]),
                (_("Comments"), [d["comments"] for d in days]),
                (_("Supports"), [d["supports"] for d in days]),
            ],
            chart_id="chart-days",
            title=_("Ideas, comments and supports per day"),
            desc=_("From %(first)s to %(last)s. The table below the chart has every value.")
            % {
                "first": formats.date_format(days[0]["day"], "SHORT_DATE_FORMAT"),
                "last": formats.date_format(days[-1]["day"], "SHORT_DATE_FORMAT"),
            },
        )
    status_chart = charts.bar_chart(
        [(str(s["label"]), s["count"]) for s in stats["by_status"]],
        chart_id="chart-status",
        title=_("Ideas by status"),
        desc=_("Number of ideas per status. The table has the same numbers."),
    )
    surveys = [{"survey": s, "results": _survey_charts(s)} for s in process.surveys.order_by("id")]
    context = {
        "process": process,
        "stats": stats,
        "day_chart": day_chart,
        "status_chart": status_chart,
        "surveys": surveys,
    }
    return render(request, "participation/backoffice/statistics.html", context)


# --- exports --------------------------------------------------------------------------------------
@require_safe
@staff_required
def exports(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    process = _process(city, slug)
    return render(
        request,
        "participation/backoffice/exports.html",
        {"process": process, "formats": list(downloads.FORMATS)},
    )


@require_safe
@staff_required
def export(request: HttpRequest, city: City, slug: str, fmt: str) -> HttpResponse:
    process = _process(city, slug)
    if fmt not in downloads.FORMATS:
        raise Http404(_("Unknown format."))
    return downloads.export_response(
        process, fmt, open_data=False, absolute=request.build_absolute_uri
    )


@require_safe
def open_data(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    """Public: a published process's contributions without personal data (dl-de/by-2-0)."""
    city = _current_city(request)
    if city is None or fmt not in downloads.FORMATS:
        raise Http404(_("There is no such participation process."))
    process = get_object_or_404(
        Process.objects.select_related("city"), city=city, slug=slug, is_published=True
    )
    return downloads.export_response(
        process, fmt, open_data=True, absolute=request.build_absolute_uri
    )


# --- roles ----------------------------------------------------------------------------------------
@GET_POST
@staff_required
def roles_page(request: HttpRequest, city: City) -> HttpResponse:
    choices = commands.assignable_roles(request.user, city)
    form = RoleForm(choices, _data(request))
    if request.method == "POST" and form.is_valid():
        person, role = form.cleaned_data["person"], form.cleaned_data["role"]
        try:
            commands.set_city_role(request.user, city, person, role)
        except ValidationError as exc:
            apply_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("%(name)s is now %(role)s.")
                % {"name": display_name(person), "role": Role(role).label},
            )
            return redirect("backoffice:roles")
    members = (
        Membership.objects.filter(city=city, role__in=[Role.MODERATOR, Role.STAFF, Role.ADMIN])
        .select_related("user__profile")
        .order_by("user__profile__display_name", "user_id")
    )
    rows = [
        {
            "membership": m,
            "can_remove": m.user_id != request.user.pk
            and commands.may_give(request.user, city, Role(m.role)),
        }
        for m in members
    ]
    return render(request, "participation/backoffice/roles.html", {"form": form, "rows": rows})


@GET_POST
@staff_required
def role_remove(request: HttpRequest, city: City, user_id: int) -> HttpResponse:
    membership = get_object_or_404(
        Membership.objects.select_related("user__profile"),
        city=city,
        user_id=user_id,
        role__in=[Role.MODERATOR, Role.STAFF, Role.ADMIN],
    )
    if request.method == "POST":
        commands.remove_city_role(request.user, city, membership.user)
        messages.success(request, _("The role is removed."))
        return redirect("backoffice:roles")
    return render(request, "participation/backoffice/role_remove.html", {"membership": membership})
