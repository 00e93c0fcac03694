"""The back-office section "Wissenstransfer": the city's measures with and without a profile, and
the profile editor. Staff and administrators of the current city (``knowledge.manage``); every
measure is looked up within the city, so a foreign slug is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_safe

from herzstadt.accounts.backoffice.access import GET_POST, form_data
from herzstadt.accounts.permissions import permission_required
from herzstadt.core.models import City, Measure
from herzstadt.knowledge.forms import ProfileForm
from herzstadt.knowledge.models import MeasureProfile
from herzstadt.knowledge.services import save_profile
from herzstadt.web.forms import apply_errors

manage_required = permission_required("knowledge.manage")


def summary(city: City) -> str:
    """The section's line on the back-office home: how many measures have a profile."""
    total = Measure.objects.filter(city=city).count()
    profiled = MeasureProfile.objects.filter(city=city).count()
    return ngettext(
        "Profiles: %(n)s of %(total)s measure",
        "Profiles: %(n)s of %(total)s measures",
        total,
    ) % {"n": profiled, "total": total}


@require_safe
@manage_required
def profiles(request: HttpRequest, city: City) -> HttpResponse:
    measures = list(
        Measure.objects.filter(city=city)
        .select_related("field_of_action", "profile")
        .order_by("title")
    )
    with_profile = [m for m in measures if hasattr(m, "profile")]
    without = [m for m in measures if not hasattr(m, "profile")]
    return render(
        request,
        "knowledge/backoffice/profiles.html",
        {"with_profile": with_profile, "without": without},
    )


@GET_POST
@manage_required
def profile_edit(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    measure = get_object_or_404(Measure, city=city, slug=slug)
    instance = MeasureProfile.objects.filter(measure=measure).first()
    form = ProfileForm(form_data(request), instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            saved = save_profile(request.user, measure, form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("The profile is saved (version %(version)s).") % {"version": saved.version},
            )
            return redirect("backoffice:knowledge-profiles")
    title = (
        _("Edit the profile of “%(title)s”") if instance else _("New profile for “%(title)s”")
    ) % {"title": measure.title}
    return render(
        request,
        "knowledge/backoffice/profile_form.html",
        {
            "form": form,
            "title": title,
            "measure": measure,
            "profile": instance,
            "back": reverse("backoffice:knowledge-profiles"),
            "submit": _("Save profile"),
        },
    )
