"""Emails of the instructors app, one function per kind."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage

from instructors.services import INSTRUCTION_REPORTS_URL, InstructorOverdue
from members.models import Member
from notifications.email import render_email


def late_sprs_email(overdue: InstructorOverdue, cc: list[Member]) -> EmailMessage:
    """To one instructor: their overdue reports by level, copied as their highest level asks."""
    return render_email(
        "instructors/email/late_sprs",
        [overdue.instructor.email],
        {
            "instructor": overdue.instructor,
            "level": overdue.highest_level,
            "groups": overdue.by_level(),
            "count": len(overdue.reports),
            "cc_names": [member.full_name for member in cc],
            "reports_url": settings.SITE_URL + INSTRUCTION_REPORTS_URL,
        },
        cc=[member.email for member in cc if member.email],
    )
