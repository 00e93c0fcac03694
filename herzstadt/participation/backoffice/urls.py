"""The city's back office for participation (moderators and staff of this city only), under
``/verwaltung/`` (German) and ``/en/backoffice/`` (English). The open-data download is public."""

from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from herzstadt.participation.backoffice import views

app_name = "backoffice"

IDEA = {"kind": "idea"}
COMMENT = {"kind": "comment"}

moderation_patterns = [
    path("", views.moderation, name="moderation"),
    path(_("hidden/"), views.hidden, name="hidden"),
    path(_("blocked/"), views.blocked, name="blocked"),
    path(_("blocked/<int:user_id>/unblock/"), views.unblock, name="unblock"),
    path(_("reports/<int:pk>/dismiss/"), views.report_dismiss, name="report-dismiss"),
    path(_("ideas/<int:pk>/hide/"), views.content_hide, IDEA, name="idea-hide"),
    path(_("ideas/<int:pk>/restore/"), views.content_restore, IDEA, name="idea-restore"),
    path(_("ideas/<int:pk>/block-author/"), views.content_block_author, IDEA, name="idea-block"),
    path(_("comments/<int:pk>/hide/"), views.content_hide, COMMENT, name="comment-hide"),
    path(_("comments/<int:pk>/restore/"), views.content_restore, COMMENT, name="comment-restore"),
    path(
        _("comments/<int:pk>/block-author/"),
        views.content_block_author,
        COMMENT,
        name="comment-block",
    ),
]

process_patterns = [
    path("", views.process_detail, name="process"),
    path(_("edit/"), views.process_edit, name="process-edit"),
    path(_("phases/new/"), views.phase_create, name="phase-create"),
    path(_("phases/<int:pk>/"), views.phase_edit, name="phase-edit"),
    path(_("phases/<int:pk>/delete/"), views.phase_delete, name="phase-delete"),
    path(_("categories/new/"), views.category_create, name="category-create"),
    path(_("categories/<int:pk>/"), views.category_edit, name="category-edit"),
    path(_("categories/<int:pk>/delete/"), views.category_delete, name="category-delete"),
    path(_("surveys/new/"), views.survey_create, name="survey-create"),
    path(_("surveys/<int:pk>/"), views.survey_edit, name="survey-edit"),
    path(_("surveys/<int:pk>/questions/new/"), views.question_create, name="question-create"),
    path(_("surveys/<int:pk>/questions/<int:qpk>/"), views.question_edit, name="question-edit"),
    path(
        _("surveys/<int:pk>/questions/<int:qpk>/delete/"),
        views.question_delete,
        name="question-delete",
    ),
    path(_("ideas/"), views.ideas, name="ideas"),
    path(_("ideas/<int:pk>/answer/"), views.idea_answer, name="idea-answer"),
    path(_("statistics/"), views.statistics, name="statistics"),
    path(_("export/"), views.exports, name="exports"),
    path("export.<str:fmt>", views.export, name="export"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path(_("moderation/"), include(moderation_patterns)),
    path(_("processes/new/"), views.process_create, name="process-create"),
    path(_("processes/<slug:slug>/"), include(process_patterns)),
    path(_("roles/"), views.roles_page, name="roles"),
    path(_("roles/<int:user_id>/remove/"), views.role_remove, name="role-remove"),
    # Public (no sign-in): the open-data download of a published process.
    path(_("open-data/<slug:slug>.<str:fmt>"), views.open_data, name="open-data"),
]

#: The same open-data download at a language-independent address, ready to be mounted under
#: ``/api/v1/`` (``api:process-open-data``, e.g. ``/api/v1/processes/<slug>/open-data.csv``).
api_urlpatterns = [
    path("processes/<slug:slug>/open-data.<str:fmt>", views.open_data, name="process-open-data"),
]
