"""The back-office section "Kompass" (``/verwaltung/kompass/…``): the city's values, goals and
indicators, computing an indicator now, and each measure's assessment and goal tags. Staff and
administrators of the current city (``compass.manage``); every object is looked up within the
city, so a foreign id is a 404. Saves are all or nothing."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from herzstadt.accounts.backoffice.access import GET_POST, form_data
from herzstadt.accounts.permissions import permission_required
from herzstadt.compass import services
from herzstadt.compass.forms import AssessmentForm, GoalForm, IndicatorForm, ValueForm
from herzstadt.compass.models import Assessment, Goal, GoalIdea, GoalMeasure, Indicator, Value
from herzstadt.core.models import City, Measure

manage_required = permission_required("compass.manage")


def summary(city: City) -> str:
    n = Indicator.objects.filter(city=city).count()
    return ngettext("%(n)s indicator", "%(n)s indicators", n) % {"n": n}


@require_safe
@manage_required
def home(request: HttpRequest, city: City) -> HttpResponse:
    values = list(Value.objects.filter(city=city))
    goals = list(Goal.objects.filter(city=city))
    by_value: dict[int, list[Goal]] = {}
    for g in goals:
        by_value.setdefault(g.value_id, []).append(g)
    measures = list(
        Measure.objects.filter(city=city)
        .annotate(n_assessed=Count("compass_assessments", distinct=True))
        .order_by("title")
    )
    return render(
        request,
        "compass/backoffice/home.html",
        {
            "values": [(v, by_value.get(v.id, [])) for v in values],
            "indicators": list(Indicator.objects.filter(city=city).select_related("district")),
            "measures": measures,
            "goal_total": len(goals),
        },
    )


def _form_page(
    request: HttpRequest, form: Any, title: str, submit: str, **extra: Any
) -> HttpResponse:
    return render(
        request,
        extra.pop("template", "backoffice/form.html"),
        {
            "form": form,
            "title": title,
            "submit": submit,
            "back": reverse("backoffice:compass"),
            **extra,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@GET_POST
@manage_required
def value_edit(request: HttpRequest, city: City, pk: int | None = None) -> HttpResponse:
    instance = get_object_or_404(Value, city=city, pk=pk) if pk else None
    form = ValueForm(city, form_data(request), instance=instance)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("The value is saved."))
        return redirect("backoffice:compass")
    title = _("Edit the value “%(name)s”") % {"name": instance.name} if instance else _("New value")
    return _form_page(request, form, title, _("Save value"))


@GET_POST
@manage_required
def goal_edit(request: HttpRequest, city: City, pk: int | None = None) -> HttpResponse:
    instance = get_object_or_404(Goal, city=city, pk=pk) if pk else None
    form = GoalForm(city, form_data(request), instance=instance)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            goal = form.save(commit=False)
            goal.city = city
            goal.save()
            save_goal_tags(goal, form.cleaned_data["measures"], form.cleaned_data["ideas"])
        messages.success(request, _("The goal is saved."))
        return redirect("backoffice:compass")
    title = _("Edit the goal “%(name)s”") % {"name": instance.title} if instance else _("New goal")
    return _form_page(request, form, title, _("Save goal"))


def save_goal_tags(goal: Goal, measures: Any, idea_ids: list[int]) -> None:
    """The measures and ideas tagged with ``goal`` become exactly these."""
    keep = {m.pk for m in measures}
    GoalMeasure.objects.filter(goal=goal).exclude(measure_id__in=keep).delete()
    have = set(GoalMeasure.objects.filter(goal=goal).values_list("measure_id", flat=True))
    GoalMeasure.objects.bulk_create(
        [GoalMeasure(city_id=goal.city_id, goal=goal, measure_id=m) for m in sorted(keep - have)]
    )
    GoalIdea.objects.filter(goal=goal).exclude(idea_id__in=idea_ids).delete()
    have = set(GoalIdea.objects.filter(goal=goal).values_list("idea_id", flat=True))
    GoalIdea.objects.bulk_create(
        [GoalIdea(city_id=goal.city_id, goal=goal, idea_id=i) for i in sorted(set(idea_ids) - have)]
    )


@GET_POST
@manage_required
def indicator_edit(request: HttpRequest, city: City, pk: int | None = None) -> HttpResponse:
    instance = get_object_or_404(Indicator, city=city, pk=pk) if pk else None
    form = IndicatorForm(city, form_data(request), instance=instance)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            indicator = form.save()
        messages.success(request, _("The indicator is saved."))
        return redirect("backoffice:compass-indicator", pk=indicator.pk)
    title = (
        _("Edit the indicator “%(name)s”") % {"name": instance.name}
        if instance
        else _("New indicator")
    )
    return _form_page(
        request,
        form,
        title,
        _("Save indicator"),
        template="compass/backoffice/indicator_form.html",
        indicator=instance,
    )


@require_POST
@manage_required
def indicator_compute(request: HttpRequest, city: City, pk: int) -> HttpResponse:
    indicator = get_object_or_404(Indicator, city=city, pk=pk)
    try:
        row = services.compute_indicator(indicator)
    except Exception as exc:
        messages.error(
            request,
            _("The indicator could not be computed: %(error)s")
            % {"error": str(exc)[:200] or type(exc).__name__},
        )
    else:
        if row.value is None:
            messages.warning(request, _("Computed: there was no data in the period."))
        else:
            messages.success(
                request,
                _("Computed: %(value)s %(unit)s (coverage %(coverage)s %%).")
                % {
                    "value": round(row.value, 3),
                    "unit": indicator.unit,
                    "coverage": round(100 * (row.coverage or 0)),
                },
            )
    return redirect("backoffice:compass-indicator", pk=indicator.pk)


@GET_POST
@manage_required
def measure_assess(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    measure = get_object_or_404(Measure, city=city, slug=slug)
    goals = list(Goal.objects.filter(city=city).select_related("value"))
    existing = {a.goal_id: a for a in Assessment.objects.filter(measure=measure)}
    tagged = set(GoalMeasure.objects.filter(measure=measure).values_list("goal_id", flat=True))
    form = AssessmentForm(
        goals,
        form_data(request),
        initial_rows={gid: (a.score, a.reason) for gid, a in existing.items()},
        tagged=tagged,
    )
    if request.method == "POST" and form.is_valid():
        scores, tags = form.result()
        save_assessment(request.user, measure, scores, tags)
        messages.success(request, _("The assessment is saved."))
        return redirect("backoffice:compass")
    return render(
        request,
        "compass/backoffice/assessment.html",
        {"form": form, "measure": measure, "back": reverse("backoffice:compass")},
        status=400 if form.is_bound and form.errors else 200,
    )


def save_assessment(
    user, measure: Measure, scores: dict[int, tuple[int, str] | None], tags: set[int]
) -> None:
    """The measure's assessments and goal tags become exactly these (goals of its city only)."""
    goal_ids = set(
        Goal.objects.filter(city_id=measure.city_id, pk__in=scores.keys()).values_list(
            "pk", flat=True
        )
    )
    with transaction.atomic():
        for goal_id, entry in scores.items():
            if goal_id not in goal_ids:
                continue
            if entry is None:
                Assessment.objects.filter(measure=measure, goal_id=goal_id).delete()
                continue
            score, reason = entry
            Assessment.objects.update_or_create(
                measure=measure,
                goal_id=goal_id,
                defaults={
                    "score": score,
                    "reason": reason,
                    "author": user,
                    "city_id": measure.city_id,
                },
            )
        GoalMeasure.objects.filter(measure=measure).exclude(goal_id__in=tags & goal_ids).delete()
        have = set(GoalMeasure.objects.filter(measure=measure).values_list("goal_id", flat=True))
        GoalMeasure.objects.bulk_create(
            [
                GoalMeasure(city_id=measure.city_id, goal_id=g, measure=measure)
                for g in sorted((tags & goal_ids) - have)
            ]
        )
