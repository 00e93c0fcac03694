"""What the participation back-office views share: the process of the current city, the process's
hub page and the page layouts (every page extends ``participation/backoffice/base.html``, which adds
the process breadcrumbs to the shell's layout)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from herzstadt.accounts.backoffice import access
from herzstadt.core.models import City
from herzstadt.participation.models import Process

PAGE_SIZE = 20
QUEUE_SIZE = 50
BASE_TEMPLATE = "participation/backoffice/base.html"


def get_process(city: City, slug: str) -> Process:
    """A process of ``city`` (another city's slug is a 404)."""
    return get_object_or_404(
        Process.objects.select_related("district", "measure"), city=city, slug=slug
    )


def hub(process: Process) -> str:
    return reverse("backoffice:process", kwargs={"slug": process.slug})


def form_page(
    request: HttpRequest, form, *, title: str, back: str, submit: str, **extra
) -> HttpResponse:
    return access.form_page(
        request, form, title=title, back=back, submit=submit, base_template=BASE_TEMPLATE, **extra
    )


def action_page(request: HttpRequest, context: dict) -> HttpResponse:
    """The page of one moderation action (it also shows the errors of the inline queue forms)."""
    context["next"] = request.POST.get("next") or request.GET.get("next", "")
    return render(request, "participation/backoffice/action.html", context)
