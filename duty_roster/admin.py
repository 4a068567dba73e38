from __future__ import annotations

from django.contrib import admin

from duty_roster.models import ClubClosure, DutyAssignment
from logsheet.models import CREW_FIELDS
from webkit.adminhelp import AdminHelpMixin


@admin.register(DutyAssignment)
class DutyAssignmentAdmin(admin.ModelAdmin):
    list_display = ("date", "location", "duty_officer", "is_scheduled", "is_confirmed", "status")
    list_filter = ("status", "is_scheduled", "is_confirmed", "location")
    date_hierarchy = "date"
    # The crew (from logsheet.DutyCrew) would come first by default.
    fields = (
        "date",
        "location",
        *CREW_FIELDS,
        "is_scheduled",
        "is_confirmed",
        "status",
        "proposed_by",
        "expired_at",
        "notes",
    )
    raw_id_fields = (*CREW_FIELDS, "proposed_by")


@admin.register(ClubClosure)
class ClubClosureAdmin(AdminHelpMixin, admin.ModelAdmin):
    admin_help = (
        "Days the club is closed, first to last day inclusive. On these days the duty jobs "
        "(send_duty_preop_emails, expire_ad_hoc_days) record a skipped run and send nothing."
    )
    admin_help_doc = "docs/scheduling.md#closed-days"
    list_display = ("start", "end", "reason")
    date_hierarchy = "start"
    search_fields = ("reason",)
