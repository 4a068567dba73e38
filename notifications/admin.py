from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from members.admin import MemberAdmin
from members.models import Member
from notifications.models import Delivery, NoticeKind, Notification, OptOut


class OptOutInline(admin.TabularInline[OptOut, Member]):
    """The kinds of notice this member does not want on a channel."""

    model = OptOut
    extra = 0
    verbose_name = "notice opt-out"


# A member's page shows their opt-outs. Notifications sit above members (docs/architecture.md),
# so the inline is added here, to the member admin that the members app registered.
admin.site.unregister(Member)


@admin.register(Member)
class MemberWithOptOutsAdmin(MemberAdmin):
    inlines = (*MemberAdmin.inlines, OptOutInline)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    list_display = ("user", "message", "key", "read", "dismissed", "updated_at")
    list_filter = ("key", "read", "dismissed")
    raw_id_fields = ("user",)


@admin.register(NoticeKind)
class NoticeKindAdmin(admin.ModelAdmin[NoticeKind]):
    """Which channels each kind of notice uses: the club edits this, not the code."""

    list_display = ("key", "description", "email", "sms", "slack", "sms_quiet_hours")
    list_editable = ("email", "sms", "slack", "sms_quiet_hours")
    search_fields = ("key", "description")


@admin.register(OptOut)
class OptOutAdmin(admin.ModelAdmin[OptOut]):
    list_display = ("member", "kind", "channel")
    list_filter = ("kind", "channel")
    raw_id_fields = ("member",)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin[Delivery]):
    """The ledger is the record of what was sent: read-only."""

    list_display = (
        "job_name",
        "day",
        "kind",
        "channel",
        "recipient",
        "status",
        "attempts",
        "sent_at",
        "not_before",
    )
    list_filter = ("status", "channel", "job_name", "notice_kind")
    search_fields = ("recipient", "kind", "error")
    date_hierarchy = "day"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Delivery | None = None) -> bool:
        return False
