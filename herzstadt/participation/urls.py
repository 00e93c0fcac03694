from django.urls import path
from django.utils.translation import gettext_lazy as _

from herzstadt.participation import views
from herzstadt.participation.backoffice.urls import api_urlpatterns as open_data_api
from herzstadt.participation.surveys import views as survey_views

app_name = "participation"

urlpatterns = [
    path(_("taking-part/"), views.take_part, name="take-part"),
    path(_("participation/"), views.process_list, name="processes"),
    path(_("participation/<slug:slug>/"), views.process_detail, name="process"),
    path(_("participation/<slug:slug>/follow/"), views.process_follow, name="process-follow"),
    path(_("participation/<slug:slug>/ideas/new/"), views.idea_create, name="idea-create"),
    path(_("participation/<slug:slug>/ideas/<int:pk>/"), views.idea_detail, name="idea"),
    path(
        _("participation/<slug:slug>/ideas/<int:pk>/comment/"), views.comment_create, name="comment"
    ),
    path(
        _("participation/<slug:slug>/ideas/<int:pk>/support/"), views.idea_support, name="support"
    ),
    path(
        _("participation/<slug:slug>/ideas/<int:pk>/follow/"), views.idea_follow, name="idea-follow"
    ),
    path(_("participation/<slug:slug>/ideas/<int:pk>/report/"), views.report, name="report"),
    path(_("participation/<slug:slug>/ideas/<int:pk>/edit/"), views.idea_edit, name="idea-edit"),
    path(
        _("participation/<slug:slug>/ideas/<int:pk>/delete/"), views.idea_delete, name="idea-delete"
    ),
    path(
        _("participation/<slug:slug>/ideas/<int:pk>/comments/<int:cpk>/edit/"),
        views.comment_edit,
        name="comment-edit",
    ),
    path(
        _("participation/<slug:slug>/ideas/<int:pk>/comments/<int:cpk>/delete/"),
        views.comment_delete,
        name="comment-delete",
    ),
    *survey_views.urlpatterns,
]

api_urlpatterns = [
    path("processes/<slug:slug>/ideas.geojson", views.ideas_geojson, name="ideas-geojson"),
    *open_data_api,
]
