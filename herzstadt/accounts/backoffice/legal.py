"""Back office of the legal pages: administrators edit the imprint and the accessibility statement;
staff read the reported barriers and close them once answered."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from herzstadt.accounts import legal
from herzstadt.accounts.backoffice.access import GET_POST, form_data, form_page
from herzstadt.accounts.models import AccessibilityFeedback
from herzstadt.accounts.permissions import permission_required
from herzstadt.core.models import City

admin_required = permission_required("accounts.edit_legal_pages")
feedback_reader_required = permission_required("accounts.read_accessibility_feedback")


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


@require_POST
@feedback_reader_required
def feedback_handled(request: HttpRequest, city: City, pk: int) -> HttpResponse:
    item = get_object_or_404(AccessibilityFeedback, city=city, pk=pk)
    legal.mark_handled(request.user, item)
    messages.success(request, _("Marked as answered."))
    return redirect("backoffice:accessibility-feedback")


def open_feedback_summary(city: City) -> str:
    n = AccessibilityFeedback.objects.filter(city=city, handled_at__isnull=True).count()
    return ngettext("%(n)s open message", "%(n)s open messages", n) % {"n": n}
