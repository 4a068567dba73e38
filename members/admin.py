from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from members.models import Member


@admin.register(Member)
class MemberAdmin(UserAdmin):
    list_display = ("username", "first_name", "last_name", "email", "membership_status", "joined_club")
    list_filter = ("membership_status", "sms_opt_in", *Member.ROLE_FIELDS)
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("Club", {"fields": ("phone", "membership_status", "joined_club", "supervisor")}),
        ("Notices", {"fields": ("timezone", "sms_opt_in", "sms_blocked_at", "sms_blocked_reason")}),
        ("Roles", {"fields": Member.ROLE_FIELDS}),
    )
