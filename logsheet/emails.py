"""Emails of the logsheet app, one function per kind."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage

from logsheet.services import LOGSHEETS_URL, AgingLogsheet
from members.models import Member
from notifications.email import render_email


def aging_logsheets_email(member: Member, logsheets: list[AgingLogsheet], days: int) -> EmailMessage:
    """To one member: every logsheet they should finalize that is more than ``days`` days old."""
    return render_email(
        "logsheet/email/aging_logsheets",
        [member.email],
        {
            "member": member,
            "logsheets": logsheets,
            "count": len(logsheets),
            "days": days,
            "logsheets_url": settings.SITE_URL + LOGSHEETS_URL,
        },
    )
