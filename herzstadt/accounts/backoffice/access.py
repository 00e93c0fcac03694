"""Who gets into the back office, and helpers every back-office view shares.

Moderators, staff and administrators *of the current city* (``request.city``) get in; anonymous
visitors are sent to sign in; everyone else (citizens, staff of another city) gets the friendly 403
page. The decorators pass the current city to the view, which looks every object up within it, so a
foreign id is a 404.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from herzstadt.accounts.permissions import permission_required

#: Views that show a form on GET and act on POST.
GET_POST = require_http_methods(["GET", "HEAD", "POST"])

#: Moderators and up of the current city (the view gets the city as its second argument).
moderator_required = permission_required("accounts.use_backoffice")
#: Staff and administrators of the current city.
staff_required = permission_required("accounts.city_staff")


def form_data(request: HttpRequest):
    """The posted data for a form (bound even when empty), or ``None`` for GET."""
    return request.POST if request.method == "POST" else None


def next_url(request: HttpRequest, default: str) -> str:
    """Where to go after an action: a safe ``next`` address on this site, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def form_page(
    request: HttpRequest, form, *, title: str, back: str, submit: str, **extra
) -> HttpResponse:
    """A page with one form in the back-office layout."""
    context = {"form": form, "title": title, "back": back, "submit": submit, **extra}
    return render(request, "backoffice/form.html", context)
