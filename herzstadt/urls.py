"""The site's URLs, built from the pillar registry (``herzstadt.core.registry``).

- ``/admin/``, ``/healthz``, ``/media/`` (uploads the owning pillar lets through): the shell
- ``/api/v1/``: every pillar's ``api_urls`` in the shared namespace ``api`` (language-independent)
- under ``i18n_patterns`` (German unprefixed, English under ``/en/``): allauth, the privacy page, every
  pillar's ``urls`` in its own namespace, and the back office (``/verwaltung/``) with every pillar's
  ``backoffice_urls`` in the shared namespace ``backoffice``

Names in a shared namespace must be unique: :func:`build` refuses duplicates.
"""

from typing import Any

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.urls import URLPattern, URLResolver, include, path
from django.utils.translation import gettext_lazy as _

from herzstadt.accounts import legal
from herzstadt.core import leichte_sprache, registry
from herzstadt.web import media as web_media
from herzstadt.web import views as web_views

admin.site.site_header = "herzstadt"
admin.site.site_title = "herzstadt"


def _names(patterns) -> list[str]:
    names = []
    for p in patterns:
        if isinstance(p, URLPattern) and p.name:
            names.append(p.name)
        elif isinstance(p, URLResolver) and not p.namespace:
            names.extend(_names(p.url_patterns))
    return names


def _shared(namespace: str, attribute: str) -> list:
    """Every pillar's patterns for a shared namespace, checked for clashing names."""
    patterns: list[Any] = []
    owners: dict[str, str] = {}
    for pillar in registry.pillars():
        mine = list(getattr(pillar, attribute))
        for name in set(_names(mine)):
            if name in owners:
                raise ImproperlyConfigured(
                    f"the URL name {namespace}:{name} is used by both {owners[name]!r} and "
                    f"{pillar.name!r}"
                )
            owners[name] = pillar.name
        patterns += mine
    return patterns


def build() -> list:
    """The URL patterns of every registered pillar (``urlpatterns`` is built once, at import)."""
    citizen = [
        path("", include((list(p.urls), p.url_namespace), namespace=p.url_namespace))
        for p in registry.pillars()
        if p.urls
    ]
    return [
        path("admin/", admin.site.urls),
        path("api/v1/", include((_shared("api", "api_urls"), "api"))),
        path("healthz", web_views.healthz, name="healthz"),
        # uploads: only what the owning pillar says is visible (herzstadt/web/media.py)
        path(settings.MEDIA_URL.lstrip("/") + "<path:name>", web_media.serve, name="media"),
        path("leichte-sprache/", leichte_sprache.switch, name="leichte-sprache"),
        *i18n_patterns(
            path("accounts/", include("allauth.urls")),
            path(_("privacy/"), web_views.privacy, name="privacy"),
            # the city's legal pages (accounts/legal.py), linked from the footer like the privacy page
            path(_("imprint/"), legal.imprint, name="imprint"),
            path(_("accessibility/"), legal.accessibility, name="accessibility"),
            path(
                _("accessibility/thanks/"), legal.accessibility_thanks, name="accessibility-thanks"
            ),
            path(
                _("backoffice/"), include((_shared("backoffice", "backoffice_urls"), "backoffice"))
            ),
            *citizen,
            prefix_default_language=False,
        ),
    ]


urlpatterns = build()

handler404 = "herzstadt.web.views.page_not_found"
handler500 = "herzstadt.web.views.server_error"
handler403 = "herzstadt.web.views.permission_denied"
handler400 = "herzstadt.web.views.bad_request"
