from __future__ import annotations

from django.contrib import admin

from instructors.models import InstructionReport


@admin.register(InstructionReport)
class InstructionReportAdmin(admin.ModelAdmin):
    list_display = ("report_date", "student", "instructor", "created_at")
    date_hierarchy = "report_date"
    raw_id_fields = ("student", "instructor")
