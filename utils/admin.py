from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from utils.models import CronJobLock, CronJobRun


@admin.register(CronJobLock)
class CronJobLockAdmin(admin.ModelAdmin[CronJobLock]):
    list_display = ("job_name", "locked_by", "locked_at", "expires_at")
    readonly_fields = ("job_name", "locked_by", "token", "locked_at", "expires_at")
    actions = ("release_locks",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Release the selected locks (only if their holders are dead)")
    def release_locks(self, request: HttpRequest, queryset: QuerySet[CronJobLock]) -> TemplateResponse | None:
        """Two steps, like a delete: the confirmation page names each holder and carries the token
        it showed, and only those acquisitions are released, so a lock taken over by another pod
        between the page and the click stays with it."""
        if request.POST.get("confirmed") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": "Release locks",
                "locks": queryset.order_by("job_name"),
                "opts": self.model._meta,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/utils/cronjoblock/release_confirmation.html", context)
        selected = queryset.count()
        shown = queryset.filter(token__in=request.POST.getlist("token"))
        released = sorted(shown.values_list("job_name", flat=True))
        shown.delete()
        left = selected - len(released)
        note = f"; {left} changed hands meanwhile and were left alone" if left else ""
        level = messages.WARNING if left else messages.SUCCESS
        self.message_user(request, f"Released {len(released)} lock(s): {', '.join(released)}{note}", level)
        return None


@admin.register(CronJobRun)
class CronJobRunAdmin(admin.ModelAdmin[CronJobRun]):
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
