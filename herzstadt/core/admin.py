"""Django admin for city staff (German by default, like the whole site)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from herzstadt.core.models import (
    City,
    District,
    FieldOfAction,
    Measure,
    MeasureLink,
    Milestone,
    Office,
)


@admin.register(City)
class CityAdmin(admin.ModelAdmin):
    list_display = ["name", "state", "role", "domain"]
    list_filter = ["role", "state"]
    search_fields = ["name", "official_name", "ags"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["partners"]


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "boundary_approximate"]
    list_filter = ["city"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["min_lon", "min_lat", "max_lon", "max_lat", "centroid_lon", "centroid_lat"]


@admin.register(FieldOfAction)
class FieldOfActionAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "position"]
    list_filter = ["city"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "email"]
    list_filter = ["city"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0
    fields = ["date", "title", "done", "i18n"]


class LinkInline(admin.TabularInline):
    model = MeasureLink
    extra = 0
    fields = ["title", "url", "position"]


@admin.register(Measure)
class MeasureAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "city",
        "field_of_action",
        "district",
        "status",
        "start_date",
        "end_date",
    ]
    list_filter = ["city", "status", "field_of_action", "district"]
    search_fields = ["title", "summary", "description"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "start_date"
    inlines = [MilestoneInline, LinkInline]
    fieldsets = [
        (None, {"fields": ["city", "title", "slug", "summary", "description", "is_public"]}),
        (_("Classification"), {"fields": ["field_of_action", "district", "status", "office"]}),
        (_("Timeline and budget"), {"fields": ["start_date", "end_date", "budget_eur", "funding"]}),
        (_("Goals and location"), {"fields": ["goals", "location"]}),
        (_("Results"), {"fields": ["results", "lessons_learned"]}),
        (_("Leichte Sprache"), {"fields": ["ls_summary", "ls_description"]}),
        (_("Translations"), {"fields": ["i18n"], "classes": ["collapse"]}),
    ]
