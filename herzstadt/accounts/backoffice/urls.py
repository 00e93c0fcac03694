"""The back-office shell's addresses, mounted under ``/verwaltung/`` (German) and
``/en/backoffice/`` (English) in the shared namespace ``backoffice``."""

from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from herzstadt.accounts.backoffice import legal, views

urlpatterns = [
    path("", views.home, name="home"),
    path(
        _("moderation/"),
        include(
            [
                path(_("blocked/"), views.blocked, name="blocked"),
                path(_("blocked/<int:user_id>/unblock/"), views.unblock, name="unblock"),
            ]
        ),
    ),
    path(_("legal-pages/"), legal.edit, name="legal-pages"),
    path(_("accessibility-feedback/"), legal.feedback, name="accessibility-feedback"),
    path(
        _("accessibility-feedback/<int:pk>/answered/"),
        legal.feedback_handled,
        name="accessibility-feedback-handled",
    ),
    path(_("reserved-names/"), legal.reserved, name="reserved-names"),
    path(_("roles/"), views.roles_page, name="roles"),
    path(_("roles/<int:user_id>/remove/"), views.role_remove, name="role-remove"),
]
