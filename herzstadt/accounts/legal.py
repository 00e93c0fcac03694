"""A city's legal pages: the imprint and the accessibility statement with its feedback form.

The city's administrators edit both in the back office (``accounts.edit_legal_pages``); anyone may
report a barrier (no account needed, as BITV 2.0 asks), the message is stored and the city's staff
are notified; the staff read and close reports in the back office (``accounts.read_accessibility_
feedback``). The texts are Markdown, rendered by ``core.richtext``.
"""

from __future__ import annotations

from allauth.core import ratelimit
from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_safe

from herzstadt.accounts.models import AccessibilityFeedback, LegalPages, Membership, Role
from herzstadt.accounts.notifications import notify
from herzstadt.core import permissions, richtext
from herzstadt.core.models import City

#: The notification kind the city's staff get for a reported barrier (registered in accounts/pillar.py).
FEEDBACK_KIND = "a11y_feedback"
#: allauth's rate limit (``ACCOUNT_RATE_LIMITS``) for the public form, per client address.
FEEDBACK_RATE = "a11y_feedback"


def pages_of(city: City | None) -> LegalPages | None:
    return LegalPages.objects.filter(city=city).first() if city is not None else None


# --- forms --------------------------------------------------------------------------------------------
class LegalPagesForm(forms.ModelForm):
    class Meta:
        model = LegalPages
        fields = [
            "imprint",
            "conformance",
            "known_gaps",
            "statement_date",
            "feedback_contact",
            "enforcement",
            "enforcement_url",
            "is_demo",
        ]
        widgets = {"statement_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("imprint", "known_gaps", "feedback_contact", "enforcement"):
            field = self.fields[name]
            field.help_text = f"{field.help_text} {richtext.HELP}"
            field.widget.attrs["rows"] = 6


class FeedbackForm(forms.ModelForm):
    class Meta:
        model = AccessibilityFeedback
        fields = ["message", "page", "email"]
        labels = {"message": _("What is not accessible?")}
        widgets = {"message": forms.Textarea(attrs={"rows": 5, "maxlength": 3000})}


# --- use cases ----------------------------------------------------------------------------------------
def save_pages(user, city: City, form: LegalPagesForm) -> LegalPages:
    permissions.require(user, "accounts.edit_legal_pages", city)
    pages = form.save(commit=False)
    pages.city = city
    pages.save()
    return pages


def report_barrier(user, city: City, form: FeedbackForm) -> AccessibilityFeedback:
    """Store the message and notify the city's staff and administrators, in one transaction."""
    feedback = form.save(commit=False)
    feedback.city = city
    feedback.user = user if getattr(user, "is_authenticated", False) else None
    staff = Membership.objects.filter(
        city=city, role__in=(Role.STAFF, Role.ADMIN), blocked_at__isnull=True
    ).values_list("user_id", flat=True)
    with transaction.atomic():
        feedback.save()
        notify(
            list(staff),
            city,
            FEEDBACK_KIND,
            " ".join(feedback.message.split())[:120],
            reverse("backoffice:accessibility-feedback"),
        )
    return feedback


def mark_handled(user, feedback: AccessibilityFeedback) -> None:
    permissions.require(user, "accounts.read_accessibility_feedback", feedback.city)
    AccessibilityFeedback.objects.filter(pk=feedback.pk, handled_at__isnull=True).update(
        handled_at=timezone.now(), handled_by=user
    )


# --- public pages -------------------------------------------------------------------------------------
@require_safe
def imprint(request: HttpRequest) -> HttpResponse:
    return render(
        request, "accounts/legal/imprint.html", {"pages": pages_of(getattr(request, "city", None))}
    )


@require_http_methods(["GET", "HEAD", "POST"])
def accessibility(request: HttpRequest) -> HttpResponse:
    city = getattr(request, "city", None)
    form = FeedbackForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if city is None:
            status = 400
        elif not ratelimit.consume(request, action=FEEDBACK_RATE):
            return ratelimit.respond_429(request)
        elif form.is_valid():
            report_barrier(request.user, city, form)
            messages.success(request, gettext("Thank you. Your message has reached the city."))
            return redirect("accessibility-thanks")
        else:
            status = 400
    context = {"pages": pages_of(city), "form": form}
    return render(request, "accounts/legal/accessibility.html", context, status=status)


@require_safe
def accessibility_thanks(request: HttpRequest) -> HttpResponse:
    return render(
        request, "accounts/legal/thanks.html", {"pages": pages_of(getattr(request, "city", None))}
    )


# --- demo ---------------------------------------------------------------------------------------------
def load_demo(context) -> str:
    """The demo cities' legal pages from ``accounts/demo/<slug>.json`` (marked as demo text)."""
    import json
    from pathlib import Path

    folder = Path(__file__).parent / "demo"
    loaded = []
    for slug, city in sorted(context.cities.items()):
        path = folder / f"{slug}.json"
        if not path.is_file():
            continue
        fields = json.loads(path.read_text(encoding="utf-8"))
        LegalPages.objects.update_or_create(city=city, defaults=fields)
        loaded.append(city.name)
    return f"legal pages: {', '.join(loaded) or 'none'}"
