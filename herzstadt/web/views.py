"""Error pages in the visitor's language, and a health check for load balancers."""

import logging

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)


def _error(request, status: int, template: str) -> HttpResponse:
    return render(request, template, status=status)


def page_not_found(request, exception=None):
    return _error(request, 404, "web/404.html")


def server_error(request):
    # Keep this page dependency-free: the database may be the reason we are here.
    return render(request, "web/500.html", status=500, context={})


def permission_denied(request, exception=None):
    return _error(request, 403, "web/403.html")


def bad_request(request, exception=None):
    return _error(request, 400, "web/400.html")


def privacy(request):
    """What the platform stores and why, in plain language (GDPR Art. 13)."""
    return render(request, "web/privacy.html")


def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any database failure means not ready
        logger.warning("health check: the database is not available", exc_info=True)
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok"})
