"""The person's own pages: profile settings, notifications, data export and account deletion."""

from django.urls import path
from django.utils.translation import gettext_lazy as _

from herzstadt.accounts import views

app_name = "accounts"

urlpatterns = [
    path(_("account/"), views.profile, name="profile"),
    path(_("account/notifications/"), views.notifications, name="notifications"),
    path(
        _("account/notifications/<int:pk>/"),
        views.notification_open,
        name="notification-open",
    ),
    path(_("account/notifications/read/"), views.notifications_read, name="notifications-read"),
    path(_("account/my-data.json"), views.export_data, name="export"),
    path(_("account/delete/"), views.delete_account, name="delete"),
    path(_("account/deleted/"), views.account_deleted, name="deleted"),
]
