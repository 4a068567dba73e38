from __future__ import annotations

from django.contrib import admin

from maintenance.models import AircraftMeister, MaintenanceDeadline, MaintenanceIssue


@admin.register(MaintenanceIssue)
class MaintenanceIssueAdmin(admin.ModelAdmin):
    list_display = ("aircraft", "description", "report_date", "grounded", "resolved")
    list_filter = ("grounded", "resolved")
    raw_id_fields = ("reported_by",)


@admin.register(MaintenanceDeadline)
class MaintenanceDeadlineAdmin(admin.ModelAdmin):
    list_display = ("aircraft", "kind", "due_date")
    list_filter = ("kind",)


@admin.register(AircraftMeister)
class AircraftMeisterAdmin(admin.ModelAdmin):
    list_display = ("aircraft", "member")
    raw_id_fields = ("member",)
