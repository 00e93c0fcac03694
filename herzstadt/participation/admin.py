"""The platform admin (superusers only). City staff work in the back office, which is per city."""

from django.contrib import admin

from herzstadt.participation import models


class PhaseInline(admin.TabularInline):
    model = models.Phase
    extra = 0


@admin.register(models.Process)
class ProcessAdmin(admin.ModelAdmin):
    list_display = ["title", "city", "district", "is_published", "created_at"]
    list_filter = ["city", "is_published"]
    search_fields = ["title", "slug"]
    inlines = [PhaseInline]


@admin.register(models.Idea)
class IdeaAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "process",
        "status",
        "support_count",
        "comment_count",
        "hidden_at",
        "created_at",
    ]
    list_filter = ["city", "status"]
    search_fields = ["title", "body"]
    raw_id_fields = ["author", "measure", "process", "category"]
    readonly_fields = ["support_count", "comment_count"]


@admin.register(models.Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "idea", "hidden_at", "created_at"]
    list_filter = ["city"]
    raw_id_fields = ["author", "idea", "parent"]


@admin.register(models.Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["reason", "city", "created_at", "resolved_at"]
    list_filter = ["city"]
    raw_id_fields = ["idea", "comment", "reporter", "resolved_by"]


class QuestionInline(admin.TabularInline):
    model = models.Question
    extra = 0


@admin.register(models.Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["title", "process", "allow_anonymous", "results_public"]
    inlines = [QuestionInline]
