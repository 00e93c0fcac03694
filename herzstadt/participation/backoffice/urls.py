"""Participation's sections of the city's back office (moderators and staff of this city only),
mounted by the shell under ``/verwaltung/`` (German) and ``/en/backoffice/`` (English) in the shared
namespace ``backoffice``. The open-data download is public."""

from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from herzstadt.participation.backoffice.views import (
    answers,
    exports,
    moderation,
    processes,
    statistics,
    surveys,
)

IDEA = {"kind": "idea"}
COMMENT = {"kind": "comment"}

moderation_patterns = [
    path("", moderation.moderation, name="moderation"),
    path(_("hidden/"), moderation.hidden, name="hidden"),
    path(_("reports/<int:pk>/dismiss/"), moderation.report_dismiss, name="report-dismiss"),
    path(_("ideas/<int:pk>/hide/"), moderation.content_hide, IDEA, name="idea-hide"),
    path(_("ideas/<int:pk>/restore/"), moderation.content_restore, IDEA, name="idea-restore"),
    path(
        _("ideas/<int:pk>/block-author/"), moderation.content_block_author, IDEA, name="idea-block"
    ),
    path(_("ideas/<int:pk>/versions/"), moderation.versions, IDEA, name="idea-versions"),
    path(_("comments/<int:pk>/versions/"), moderation.versions, COMMENT, name="comment-versions"),
    path(_("comments/<int:pk>/hide/"), moderation.content_hide, COMMENT, name="comment-hide"),
    path(
        _("comments/<int:pk>/restore/"),
        moderation.content_restore,
        COMMENT,
        name="comment-restore",
    ),
    path(
        _("comments/<int:pk>/block-author/"),
        moderation.content_block_author,
        COMMENT,
        name="comment-block",
    ),
]

process_patterns = [
    path("", processes.process_detail, name="process"),
    path(_("edit/"), processes.process_edit, name="process-edit"),
    path(_("publish/"), processes.process_publish, name="process-publish"),
    path(_("phases/new/"), processes.phase_create, name="phase-create"),
    path(_("phases/<int:pk>/"), processes.phase_edit, name="phase-edit"),
    path(_("phases/<int:pk>/delete/"), processes.phase_delete, name="phase-delete"),
    path(_("categories/new/"), processes.category_create, name="category-create"),
    path(_("categories/<int:pk>/"), processes.category_edit, name="category-edit"),
    path(_("categories/<int:pk>/delete/"), processes.category_delete, name="category-delete"),
    path(_("surveys/new/"), surveys.survey_create, name="survey-create"),
    path(_("surveys/<int:pk>/"), surveys.survey_edit, name="survey-edit"),
    path(_("surveys/<int:pk>/publish/"), surveys.survey_publish, name="survey-publish"),
    path(_("surveys/<int:pk>/questions/new/"), surveys.question_create, name="question-create"),
    path(_("surveys/<int:pk>/questions/<int:qpk>/"), surveys.question_edit, name="question-edit"),
    path(
        _("surveys/<int:pk>/questions/<int:qpk>/delete/"),
        surveys.question_delete,
        name="question-delete",
    ),
    path(_("ideas/"), answers.ideas, name="ideas"),
    path(_("ideas/<int:pk>/answer/"), answers.idea_answer, name="idea-answer"),
    path(_("statistics/"), statistics.statistics, name="statistics"),
    path(_("export/"), exports.exports, name="exports"),
    path("export.<str:fmt>", exports.export, name="export"),
]

urlpatterns = [
    path(_("moderation/"), include(moderation_patterns)),
    path(_("processes/new/"), processes.process_create, name="process-create"),
    path(_("processes/<slug:slug>/"), include(process_patterns)),
    # Public (no sign-in): the open-data download of a published process.
    path(_("open-data/<slug:slug>.<str:fmt>"), exports.open_data, name="open-data"),
]

#: The same open-data download at a language-independent address, mounted under ``/api/v1/``
#: (``api:process-open-data``, e.g. ``/api/v1/processes/<slug>/open-data.csv``).
api_urlpatterns = [
    path("processes/<slug:slug>/open-data.<str:fmt>", exports.open_data, name="process-open-data"),
]
