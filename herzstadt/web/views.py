"""Error pages in the visitor's language, and a health check for load balancers."""

import logging
import sys

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import get_language

from herzstadt.core import leichte_sprache

logger = logging.getLogger(__name__)


def _error(request, status: int, template: str) -> HttpResponse:
    return render(request, template, status=status)


def page_not_found(request, exception=None):
    return _error(request, 404, "web/404.html")


#: PostgreSQL's answers when it has no connection left for us
_NO_CONNECTION = ("too many clients", "remaining connection slots", "too many connections")


def database_busy(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) says that no database connection was free in time: the
    pool's queue timed out, or the server refused another connection."""
    from psycopg_pool import PoolTimeout, TooManyRequests

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, PoolTimeout | TooManyRequests):
            return True
        if any(text in str(exc).lower() for text in _NO_CONNECTION):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _bare_page(template: str, status: int) -> HttpResponse:
    """A page without context processors (they would ask the database for the city and the user)."""
    body = loader.render_to_string(template, {"LANGUAGE_CODE": get_language()})
    return HttpResponse(body, status=status)


def server_error(request):
    # Keep these pages dependency-free: the database may be the reason we are here.
    if database_busy(sys.exc_info()[1]):
        # Overload is not a fault: the request waited its turn for a connection and did not get one.
        response = _bare_page("web/503.html", 503)
        response["Retry-After"] = "5"
        return response
    return _bare_page("web/500.html", 500)


def permission_denied(request, exception=None):
    return _error(request, 403, "web/403.html")


def bad_request(request, exception=None):
    return _error(request, 400, "web/400.html")


def privacy(request):
    """What the platform stores and why, in plain language (GDPR Art. 13)."""
    template = "web/privacy_ls.html" if leichte_sprache.active() else "web/privacy.html"
    return render(request, template)


def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any database failure means not ready
        logger.warning("health check: the database is not available", exc_info=True)
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok"})
