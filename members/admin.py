from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from members.models import Member
from notifications.models import OptOut


class OptOutInline(admin.TabularInline):
    """The kinds of notice this member does not want on a channel."""

    model = OptOut
    extra = 0
    verbose_name = "notice opt-out"


@admin.register(Member)
class MemberAdmin(UserAdmin):
    list_display = ("username", "first_name", "last_name", "email", "membership_status", "joined_club")
    list_filter = ("membership_status", "sms_opt_in", *Member.ROLE_FIELDS)
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Club", {"fields": ("phone", "membership_status", "joined_club", "supervisor")}),
        ("Notices", {"fields": ("timezone", "sms_opt_in", "sms_blocked_at", "sms_blocked_reason")}),
        ("Roles", {"fields": Member.ROLE_FIELDS}),
    )
    inlines = (OptOutInline,)
