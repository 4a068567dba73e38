"""What ``notify_aging_logsheets`` tells each member responsible for aging logsheets: an in-app
notification kept true from run to run, and an email (members without an address: in-app only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

from notifications.delivery import Notice, Outbox, member_key
from notifications.email import render_email
from notifications.inapp import sync_notifications

if TYPE_CHECKING:
    from django.core.mail import EmailMessage

    from logsheet.aging import AgingLogsheet, AgingLogsheets
    from members.models import Member
    from notifications.job import SendingJob

AGING_NOTIFICATION_KEY = "aging_logsheets"  # the in-app key and the notice kind
LOGSHEETS_URL = "/logsheet/"


def aging_notification_message(logsheets: list[AgingLogsheet]) -> str:
    count = len(logsheets)
    noun = "logsheet is" if count == 1 else "logsheets are"
    return f"{count} {noun} waiting to be finalized: " + "; ".join(s.describe() for s in logsheets)


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


def remind_responsible(job: SendingJob, found: AgingLogsheets, days: int) -> None:
    """Warn of the sheets nobody can be told about; notify in-app and email everyone else."""
    for sheet in found.unaddressed:
        job.log_warning(f"Logsheet {sheet.describe()} has no duty officer, assistant or creator to remind")
        job.count("unaddressed")
    sync_notifications(
        job,
        AGING_NOTIFICATION_KEY,
        LOGSHEETS_URL,
        {
            person.member.pk: (person.member.full_name, aging_notification_message(person.logsheets))
            for person in found.responsible
        },
    )
    with Outbox(job) as outbox:
        for person in found.responsible:
            member = person.member
            if outbox.has_email(member, "; reminded in-app only"):
                email = aging_logsheets_email(member, person.logsheets, days)
                outbox.deliver(Notice(AGING_NOTIFICATION_KEY, member_key(member.pk), member.full_name, email))
