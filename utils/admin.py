from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from utils.models import CronJobDailyStats, CronJobHourlyStats, CronJobLock, CronJobRun


@admin.register(CronJobLock)
class CronJobLockAdmin(admin.ModelAdmin):
    list_display = ("job_name", "locked_by", "locked_at", "expires_at")
    readonly_fields = ("job_name", "locked_by", "token", "locked_at", "expires_at")
    actions = ("release_locks",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Release the selected locks (only if their holders are dead)")
    def release_locks(self, request: HttpRequest, queryset: QuerySet[CronJobLock]) -> None:
        names = sorted(queryset.values_list("job_name", flat=True))
        deleted, _ = queryset.delete()
        self.message_user(request, f"Released {deleted} lock(s): {', '.join(names)}", messages.SUCCESS)


@admin.register(CronJobRun)
class CronJobRunAdmin(admin.ModelAdmin):
    list_display = ("job_name", "occurrence", "status", "started_at", "duration_seconds", "pod")
    list_filter = ("status", "job_name", "trigger")
    search_fields = ("job_name", "occurrence", "pod", "error")
    date_hierarchy = "started_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: CronJobRun | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: CronJobRun | None = None) -> bool:
        return False


class _StatsAdmin(admin.ModelAdmin):
    """Rollups are written by aggregate_cron_analytics only."""

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
