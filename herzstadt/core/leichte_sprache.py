"""Leichte Sprache (easy-to-read German): a reader's preference, and the texts written for it.

A visitor turns it on with the header's switch (a plain link to :func:`switch`, so it works without
JavaScript); the choice is kept in a cookie. While it is on and the page is German, ``obj.tr.summary``
(see :class:`herzstadt.core.models.Translatable`) returns the object's ``ls_summary`` when the city wrote
one, and the ordinary text otherwise — templates then say that a text has no Leichte-Sprache version
(``web/_leichte_sprache_notice.html``). Leichte Sprache is German only: on English pages it is never on.
"""

from __future__ import annotations

from asgiref.local import Local
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language

COOKIE = "herzstadt_ls"
#: a year: it is a reading preference like the language, not a secret
COOKIE_MAX_AGE = 365 * 24 * 3600

_state = Local()


def wanted(request: HttpRequest) -> bool:
    """Whether the visitor asked for Leichte Sprache (the cookie)."""
    return request.COOKIES.get(COOKIE) == "1"


def active() -> bool:
    """Whether the page being rendered shows Leichte Sprache: asked for, and the page is German."""
    return bool(getattr(_state, "on", False)) and (get_language() or "de").split("-")[0] == "de"


class LeichteSpracheMiddleware:
    """Remembers for the request whether Leichte Sprache is wanted (after LocaleMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        previous = getattr(_state, "on", False)
        _state.on = wanted(request)
        try:
            response = self.get_response(request)
        finally:
            _state.on = previous
        # The same address shows other texts with the cookie: caches must keep them apart.
        patch_vary_headers(response, ("Cookie",))
        return response


def switch(request: HttpRequest) -> HttpResponse:
    """``GET /leichte-sprache/?an=1&weiter=/pfad/`` turns Leichte Sprache on (``an=0``: off) and goes back.

    A link, not a form, so that it works without JavaScript and from every page; it changes nothing but
    the visitor's own reading preference, like choosing the language.
    """
    value = request.GET.get("an", "1")
    if value not in ("0", "1"):
        return HttpResponseBadRequest(
            "an muss 0 (aus) oder 1 (an) sein.", content_type="text/plain; charset=utf-8"
        )
    target = request.GET.get("weiter", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ) or not target.startswith("/"):
        target = "/"
    response = HttpResponseRedirect(target)
    if value == "1":
        response.set_cookie(
            COOKIE,
            "1",
            max_age=COOKIE_MAX_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    else:
        response.delete_cookie(COOKIE, samesite="Lax")
    return response
