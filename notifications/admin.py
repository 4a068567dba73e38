from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from members.admin import MemberAdmin
from members.models import Member
from notifications.models import Delivery, NoticeKind, Notification, OptOut
from webkit.adminhelp import AdminHelpMixin


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
class DeliveryAdmin(AdminHelpMixin, admin.ModelAdmin[Delivery]):
    """The ledger is the record of what was sent: read-only, but for an operator's resolution of
    a notice in doubt (the permission "Can resolve a delivery in doubt")."""

    admin_help = (
        "Every notice the jobs sent or tried to send, one row per recipient and channel. A notice "
        "in doubt may or may not have arrived: ask the recipient or the provider, then mark it "
        "delivered or not delivered (the job's next run for that day sends one not delivered)."
    )
    admin_help_doc = "docs/notifications.md#in-doubt"

    list_display = (
        "job_name",
        "day",
        "kind",
        "channel",
        "recipient",
        "status",
        "attempts",
        "handed_over_at",
        "sent_at",
        "not_before",
        "resolution",
    )
    list_filter = ("status", "channel", "job_name", "notice_kind")
    search_fields = ("job_name", "recipient", "kind", "error")
    date_hierarchy = "day"
    actions = ("mark_delivered", "mark_not_delivered")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Delivery | None = None) -> bool:
        return False

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("notifications.resolve_delivery")

    @admin.action(description="Mark delivered: the recipient has it (in doubt only)", permissions=["resolve"])
    def mark_delivered(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        self._resolve(request, queryset, Delivery.Status.SENT, "delivered")

    @admin.action(
        description="Mark not delivered: the job's next run for its day sends it (in doubt only)",
        permissions=["resolve"],
    )
    def mark_not_delivered(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        self._resolve(request, queryset, Delivery.Status.FAILED, "not delivered")

    def _resolve(self, request: HttpRequest, queryset: QuerySet[Delivery], status: str, verdict: str) -> None:
        """Each selected row still in doubt gets the operator's verdict, who gave it and when."""
        now = timezone.now()
        note = f"Marked {verdict} by {request.user.get_username()} at {now:%Y-%m-%d %H:%M} UTC"
        resolved = 0
        for delivery in queryset.filter(status=Delivery.Status.IN_DOUBT):
            values: dict[str, object] = {"status": status, "resolution": note}
            if status == Delivery.Status.SENT:
                values["sent_at"] = delivery.handed_over_at or now
            else:
                values["handed_over_at"] = None
            # Only if it is still in doubt: a --send-in-doubt run may have sent it meanwhile.
            if Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.IN_DOUBT).update(**values):
                self.log_change(request, delivery, note)
                resolved += 1
        skipped = queryset.count() - resolved
        level = messages.SUCCESS if resolved else messages.WARNING
        text = f"{resolved} notice(s) marked {verdict}"
        if skipped:
            text += f"; {skipped} not in doubt, left as they were"
        self.message_user(request, text, level)
