"""herzstadt's hooks into django-allauth: people appear by display name, e-mails carry the city's
name (never the host), sign-in/out return to the home page in the visitor's language (the city's
moderators and staff land in the back office after signing in), the client's address is
determined the one way herzstadt determines it, and failed sign-ins slow down the address they come
from (accounts/throttle.py)."""

from __future__ import annotations

import logging
from types import SimpleNamespace

from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext

from herzstadt.accounts import throttle
from herzstadt.core import permissions
from herzstadt.core.client_ip import client_ip

log = logging.getLogger(__name__)


def user_display(user) -> str:
    """How allauth names a person on its pages and in its e-mails: the public display name."""
    profile = getattr(user, "profile", None)
    return profile.display_name if profile else ""


class AccountAdapter(DefaultAccountAdapter):
    def _site_name(self) -> str:
        city = getattr(self.request, "city", None) if self.request is not None else None
        return f"herzstadt {city.tr.name}" if city else "herzstadt"

    def format_email_subject(self, subject: str) -> str:
        return f"[{self._site_name()}] {subject}"

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # allauth's templates name ``current_site.name``/``.domain``; without the sites framework
        # that is the request's host ("127.0.0.1:18510"). The city's name is what people know.
        site = SimpleNamespace(name=self._site_name(), domain=self._site_name())
        context = {"site_name": site.name, "current_site": site, **context}
        super().send_mail(template_prefix, email, context)
        if not settings.CONFIG.production:
            # The console shows mails quoted-printable, which breaks long links; log them whole.
            for key in ("activate_url", "password_reset_url", "signup_url"):
                if context.get(key):
                    log.info("development: link in the e-mail to %s: %s", email, context[key])

    def get_login_redirect_url(self, request) -> str:
        """Without a ``next`` (allauth follows a safe one first): the city's moderators, staff and
        administrators land in the back office, where their work is; everyone else on the home page."""
        city = getattr(request, "city", None)
        if city is not None and permissions.allowed(request.user, "accounts.use_backoffice", city):
            return reverse("backoffice:home")
        return reverse("core:home")

    def get_logout_redirect_url(self, request) -> str:
        return reverse("core:home")

    def get_signup_redirect_url(self, request) -> str:
        return reverse("core:home")

    # --- addresses and failed sign-ins ------------------------------------------------------------

    def get_client_ip(self, request) -> str:
        """allauth's rate limits count by the address every limit of herzstadt uses."""
        return client_ip(request) or "unknown"

    def pre_authenticate(self, request, **credentials) -> None:
        wait = throttle.remaining_wait(request, credentials)
        if wait:
            raise forms.ValidationError(
                gettext(
                    "Too many failed attempts to sign in to this account from your connection. "
                    "Please wait %(seconds)d seconds and try again."
                )
                % {"seconds": wait},
                code="signin_backoff",
            )
        super().pre_authenticate(request, **credentials)

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        if user is not None:
            throttle.forget(request, credentials)
        return user

    def authentication_failed(self, request, **credentials) -> None:
        throttle.record_failure(request, credentials)
