from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from operations.models import CronJobDailyStats, CronJobHourlyStats, KnownJob
from webkit.adminhelp import AdminHelpMixin


class _StatsAdmin(AdminHelpMixin, admin.ModelAdmin):
    """Rollups are written by aggregate_cron_analytics only."""

    admin_help = (
        "Figures rolled up from the run history by aggregate_cron_analytics every hour; "
        "read-only. The runs themselves are under Utils › Cron job runs."
    )
    admin_help_doc = "docs/monitoring.md"

    list_filter = ("job_name",)
    readonly_fields = ()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(CronJobDailyStats)
class CronJobDailyStatsAdmin(_StatsAdmin):
    list_display = (
        "day",
        "job_name",
        "runs",
        "succeeded",
        "failed",
        "success_rate",
        "duration_p50",
        "duration_p95",
    )
    date_hierarchy = "day"


@admin.register(CronJobHourlyStats)
class CronJobHourlyStatsAdmin(_StatsAdmin):
    list_display = (
        "hour",
        "job_name",
        "runs",
        "succeeded",
        "failed",
        "success_rate",
        "duration_p50",
        "duration_p95",
    )
    date_hierarchy = "hour"


@admin.register(KnownJob)
class KnownJobAdmin(admin.ModelAdmin):
    """Written by migrate (and a status read); a job that never ran waits from first_seen_at."""

    list_display = ("job_name", "first_seen_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
