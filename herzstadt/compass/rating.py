"""Citizens rate measures against the city's values, in a participation process whose active phase
is a "Kompass-Bewertung" (feature ``compass.rate``): each value −2 … +2, one rating per person,
measure and value (a second visit changes it). The process is found through participation's public
API; the measures to rate are the process's measure, or — without one — the city's public measures.

Also the phase kind, the process kind and the person's data (export and erasure)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from herzstadt.compass.models import Rating, Value
from herzstadt.compass.permissions import RATE
from herzstadt.core import permissions, registry
from herzstadt.core.models import City, Measure
from herzstadt.participation import api as participation

PHASE_KIND = "compass-rating"
#: measures offered at most on one rating page
MAX_MEASURES = 100

FEATURES = (registry.Feature(key=RATE, label=gettext_lazy("rate measures against the values")),)
PHASE_KINDS = (
    registry.PhaseKind(
        key=PHASE_KIND,
        label=gettext_lazy("compass rating"),
        features=frozenset({RATE}),
        invitation=gettext_lazy(
            "Rate the measures against the city's values: does a measure help or hinder each value?"
        ),
        order=45,
    ),
)
PROCESS_KINDS = (
    registry.ProcessKind(
        key="compass",
        label=gettext_lazy("Compass rating"),
        phase_kinds=("information", PHASE_KIND, "results"),
        description=gettext_lazy(
            "Citizens rate the city's measures against its values; the results appear in each "
            "measure's compass."
        ),
        order=40,
    ),
)

SCORE_CHOICES = [
    ("2", gettext_lazy("+2: helps a lot")),
    ("1", gettext_lazy("+1: helps a little")),
    ("0", gettext_lazy("0: no effect")),
    ("-1", gettext_lazy("−1: hinders a little")),
    ("-2", gettext_lazy("−2: hinders a lot")),
    ("", gettext_lazy("no answer")),
]


class RatingForm(forms.Form):
    """One radio group per value of the city."""

    def __init__(self, values: list[Value], *args: Any, initial_scores: dict[int, int], **kw: Any):
        super().__init__(*args, **kw)
        self.values = values
        for v in values:
            current = initial_scores.get(v.id)
            self.fields[f"value_{v.id}"] = forms.ChoiceField(
                label=v.tr.name,
                choices=SCORE_CHOICES,
                required=False,
                widget=forms.RadioSelect,
                initial="" if current is None else str(current),
                help_text=v.tr.description,
            )

    def scores(self) -> dict[int, int | None]:
        return {
            v.id: (
                int(raw)
                if (raw := self.cleaned_data.get(f"value_{v.id}")) not in ("", None)
                else None
            )
            for v in self.values
        }


def _process(request: HttpRequest, slug: str):
    city = request.city  # type: ignore[attr-defined]
    if not city:
        raise Http404(_("No city has been set up yet."))
    process = participation.published_process(city, slug)
    if process is None:
        raise Http404(_("There is no such process."))
    return city, process


def measures_to_rate(city: City, process) -> list[Measure]:
    qs = Measure.objects.filter(city=city, is_public=True)
    if process.measure_id:
        qs = qs.filter(pk=process.measure_id)
    return list(qs.order_by("title").only("slug", "title", "summary", "city_id")[:MAX_MEASURES])


@require_safe
def rate_list(request: HttpRequest, slug: str) -> HttpResponse:
    city, process = _process(request, slug)
    measures = measures_to_rate(city, process)
    rated: set[int] = set()
    if request.user.is_authenticated:
        rated = set(
            Rating.objects.filter(user=request.user, measure__in=measures).values_list(
                "measure_id", flat=True
            )
        )
    return render(
        request,
        "compass/rate_list.html",
        {
            "process": process,
            "measures": measures,
            "rated": rated,
            "blocked": permissions.explain(request.user, "compass.rate", process),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
def rate(request: HttpRequest, slug: str, measure: str) -> HttpResponse:
    city, process = _process(request, slug)
    the_measure = get_object_or_404(Measure, city=city, is_public=True, slug=measure)
    if process.measure_id and process.measure_id != the_measure.pk:
        raise Http404(_("This measure is not rated in this process."))
    if request.method == "POST" and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("account_login"))
    values = list(Value.objects.filter(city=city))
    current: dict[int, int] = {}
    if request.user.is_authenticated:
        current = dict(
            Rating.objects.filter(user=request.user, measure=the_measure).values_list(
                "value_id", "score"
            )
        )
    blocked = permissions.explain(request.user, "compass.rate", process)
    form = RatingForm(
        values, request.POST if request.method == "POST" else None, initial_scores=current
    )
    if request.method == "POST":
        if blocked:
            return render(
                request,
                "compass/rate.html",
                {"process": process, "measure": the_measure, "form": form, "blocked": blocked},
                status=403,
            )
        if form.is_valid():
            save_ratings(request.user, process, the_measure, form.scores())
            messages.success(
                request,
                _("Thank you: your rating is saved. You can change it while the phase runs."),
            )
            return redirect("compass:rate-list", slug=process.slug)
    return render(
        request,
        "compass/rate.html",
        {"process": process, "measure": the_measure, "form": form, "blocked": blocked},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


def save_ratings(user, process, measure: Measure, scores: dict[int, int | None]) -> None:
    """The use case: the person's scores for ``measure`` (``None``: no answer, removes an earlier
    one), all or nothing. Requires ``compass.rate`` on the process."""
    permissions.require(user, "compass.rate", process)
    with transaction.atomic():
        for value_id, score in scores.items():
            if score is None:
                Rating.objects.filter(user=user, measure=measure, value_id=value_id).delete()
                continue
            if not -2 <= score <= 2:
                raise ValueError(score)
            Rating.objects.update_or_create(
                user=user,
                measure=measure,
                value_id=value_id,
                defaults={"score": score, "process_id": process.pk, "city_id": measure.city_id},
            )


# --- personal data -----------------------------------------------------------------------------------
def export_personal_data(user) -> dict[str, Any]:
    rows = Rating.objects.filter(user=user).select_related("measure", "value", "city")
    return {
        "compass_ratings": [
            {
                "city": r.city.slug,
                "measure": r.measure.title,
                "value": r.value.name,
                "score": r.score,
                "process_id": r.process_id,
                "created_at": r.created_at,
            }
            for r in rows.order_by("created_at", "pk")
        ]
    }


def erase_personal_data(user) -> None:
    Rating.objects.filter(user=user).delete()
