from __future__ import annotations

from django.contrib import admin

from duty_roster.models import ClubClosure, DutyAssignment


@admin.register(DutyAssignment)
class DutyAssignmentAdmin(admin.ModelAdmin):
    list_display = ("date", "location", "duty_officer", "is_scheduled", "is_confirmed", "status")
    list_filter = ("status", "is_scheduled", "is_confirmed", "location")
    date_hierarchy = "date"
    raw_id_fields = (
        "duty_officer",
        "assistant_duty_officer",
        "duty_instructor",
        "surge_instructor",
        "tow_pilot",
        "surge_tow_pilot",
        "proposed_by",
    )


@admin.register(ClubClosure)
class ClubClosureAdmin(admin.ModelAdmin):
    list_display = ("start", "end", "reason")
    date_hierarchy = "start"
    search_fields = ("reason",)
