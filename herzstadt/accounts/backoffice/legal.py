"""Back office of the legal pages and the reserved names: administrators edit the imprint, the
accessibility statement and the display names nobody may take; staff read the reported barriers
and close them once answered."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_safe

from herzstadt.accounts import legal, reserved_names
from herzstadt.accounts.backoffice.access import GET_POST, form_data, form_page
from herzstadt.accounts.models import AccessibilityFeedback, ReservedNames
from herzstadt.accounts.permissions import permission_required
from herzstadt.core import permissions
from herzstadt.core.models import City

admin_required = permission_required("accounts.edit_legal_pages")
feedback_reader_required = permission_required("accounts.read_accessibility_feedback")
reserved_names_admin_required = permission_required("accounts.edit_reserved_names")


@GET_POST
@admin_required
def edit(request: HttpRequest, city: City) -> HttpResponse:
    form = legal.LegalPagesForm(form_data(request), instance=legal.pages_of(city))
    if request.method == "POST" and form.is_valid():
        legal.save_pages(request.user, city, form)
        messages.success(request, _("The legal pages have been saved."))
        return redirect("backoffice:legal-pages")
    response = form_page(
        request,
        form,
        title=_("Imprint and accessibility statement"),
        back=reverse("backoffice:home"),
        submit=_("Save"),
    )
    if form.is_bound:
        response.status_code = 400
    return response


@require_safe
@feedback_reader_required
def feedback(request: HttpRequest, city: City) -> HttpResponse:
    rows = AccessibilityFeedback.objects.filter(city=city).select_related("handled_by__profile")
    show_all = request.GET.get("all") == "1"
    if not show_all:
        rows = rows.filter(handled_at__isnull=True)
    return render(
        request,
        "backoffice/accessibility_feedback.html",
        {"rows": rows[:200], "show_all": show_all},
    )


@GET_POST
@feedback_reader_required
def feedback_handled(request: HttpRequest, city: City, pk: int) -> HttpResponse:
    """POST marks the message as answered; GET asks (the list posts directly)."""
    item = get_object_or_404(AccessibilityFeedback, city=city, pk=pk)
    if request.method == "POST":
        legal.mark_handled(request.user, item)
        messages.success(request, _("Marked as answered."))
        return redirect("backoffice:accessibility-feedback")
    return form_page(
        request,
        forms.Form(),
        title=_("Mark as answered"),
        back=reverse("backoffice:accessibility-feedback"),
        submit=_("Mark as answered"),
    )


def open_feedback_summary(city: City) -> str:
    n = AccessibilityFeedback.objects.filter(city=city, handled_at__isnull=True).count()
    return ngettext("%(n)s open message", "%(n)s open messages", n) % {"n": n}


class ReservedNamesForm(forms.ModelForm):
    class Meta:
        model = ReservedNames
        fields = ["names"]
        widgets = {"names": forms.Textarea(attrs={"rows": 12})}


@GET_POST
@reserved_names_admin_required
def reserved(request: HttpRequest, city: City) -> HttpResponse:
    """The display names nobody may choose (``accounts.reserved_names``); the defaults until saved."""
    row = ReservedNames.objects.filter(city=city).first()
    initial = None if row else {"names": "\n".join(reserved_names.DEFAULTS)}
    form = ReservedNamesForm(form_data(request), instance=row, initial=initial)
    if request.method == "POST" and form.is_valid():
        permissions.require(request.user, "accounts.edit_reserved_names", city)
        saved = form.save(commit=False)
        saved.city = city
        saved.save()
        messages.success(request, _("The reserved names have been saved."))
        return redirect("backoffice:reserved-names")
    response = form_page(
        request,
        form,
        title=_("Reserved display names"),
        back=reverse("backoffice:home"),
        submit=_("Save"),
    )
    if form.is_bound:
        response.status_code = 400
    return response
