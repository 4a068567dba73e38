from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.db.models.functions import Now
from django.http import HttpRequest
from django.template.response import TemplateResponse

from utils.cli import format_age
from utils.models import CronJobLock, CronJobRun


@dataclass(frozen=True)
class ShownLock:
    """A lock as the release page shows it, timed on the database's clock."""

    pk: int
    job_name: str
    holder: str
    occurrence: str
    token: str
    held_for: str
    lease: str  # "40s left" or "expired 3m ago"
    live: bool


def shown_locks(queryset: QuerySet[CronJobLock]) -> list[ShownLock]:
    rows = queryset.annotate(db_now=Now()).order_by("job_name")
    locks = []
    for row in rows:
        left = row.expires_at - row.db_now
        live = left.total_seconds() > 0
        lease = f"{format_age(left)} left" if live else f"expired {format_age(-left)} ago"
        held_for = format_age(row.db_now - row.locked_at)
        locks.append(
            ShownLock(row.pk, row.job_name, row.locked_by, row.occurrence, row.token, held_for, lease, live)
        )
    return locks


@admin.register(CronJobLock)
class CronJobLockAdmin(admin.ModelAdmin[CronJobLock]):
    list_display = ("job_name", "locked_by", "occurrence", "locked_at", "expires_at")
    readonly_fields = ("job_name", "locked_by", "occurrence", "token", "locked_at", "expires_at")
    actions = ("release_locks",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: CronJobLock | None = None) -> bool:
        """Locks are released only through the release action (token, lease, confirmation):
        the permission counts for the action, never for the generic delete of one lock."""
        return obj is None and super().has_delete_permission(request)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # it would delete live locks, by row, unconfirmed
        return actions

    @admin.action(
        description="Release the selected locks (only if their holders are dead)", permissions=["delete"]
    )
    def release_locks(self, request: HttpRequest, queryset: QuerySet[CronJobLock]) -> TemplateResponse | None:
        """Two steps, like a delete (and only for those who may delete locks): the confirmation
        page names each holder with its lease and carries the token it showed, and only those
        acquisitions are released, so a lock taken over by another pod between the page and the
        click stays with it. A live lease is released only if its own box was ticked."""
        if request.POST.get("confirmed") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": "Release locks",
                "locks": shown_locks(queryset),
                "opts": self.model._meta,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/utils/cronjoblock/release_confirmation.html", context)
        self._release(request, queryset)
        return None

    def _release(self, request: HttpRequest, queryset: QuerySet[CronJobLock]) -> None:
        shown, live_confirmed = set(request.POST.getlist("token")), set(request.POST.getlist("release_live"))
        released, kept, changed = [], [], 0
        for lock in shown_locks(queryset):
            if lock.token not in shown:
                changed += 1
            elif lock.live and lock.token not in live_confirmed:
                kept.append(f"{lock.job_name} (held by {lock.holder}, lease {lock.lease})")
            elif CronJobLock.objects.filter(pk=lock.pk, token=lock.token).delete()[0]:
                released.append(lock.job_name)
            else:
                changed += 1  # taken over between the read and the delete
        note = f"; {changed} changed hands meanwhile and were left alone" if changed else ""
        level = messages.WARNING if changed or kept else messages.SUCCESS
        self.message_user(request, f"Released {len(released)} lock(s): {', '.join(released)}{note}", level)
        if kept:
            self.message_user(
                request,
                f"Kept {len(kept)} live lock(s), not confirmed as dead: {'; '.join(kept)}",
                messages.WARNING,
            )


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
