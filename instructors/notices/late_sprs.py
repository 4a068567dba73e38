"""What an instructor with overdue SPRs is told: an in-app notification kept true as reports are
written, an email copying whom their highest level asks for, and at the texted level an SMS to
the instructor alone (members without an address: texted or in-app only, and never copied)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings

from instructors.late_sprs import FINAL_LEVEL, cc_members, leaders_by_role, overdue_reports
from notifications.delivery import Notice, Outbox, member_key
from notifications.email import render_email
from notifications.inapp import dismiss_notifications, sync_notifications
from notifications.models import Notification

if TYPE_CHECKING:
    from django.core.mail import EmailMessage

    from instructors.late_sprs import CC, InstructorOverdue
    from members.models import Member
    from notifications.job import SendingJob

LATE_SPRS_KEY = "late_sprs"  # the in-app key and the notice kind
INSTRUCTION_REPORTS_URL = "/instructors/"
# At this level the reminder is also offered by SMS, under a notice kind of its own
# (notifications.NoticeKind); only the instructor is texted, never the copies.
TEXTED_LEVEL = FINAL_LEVEL
LATE_SPRS_FINAL_KIND = "late_sprs_final"


def late_sprs_message(overdue: InstructorOverdue, shown: int = 5) -> str:
    """The text of the instructor's in-app notification."""
    count = len(overdue.reports)
    noun = "report" if count == 1 else "reports"
    oldest_first = overdue.reports[:shown]
    listed = "; ".join(
        f"{r.student.full_name} ({r.flight_date.isoformat()}, {r.age_days} days)" for r in oldest_first
    )
    more = f"; and {count - shown} more" if count > shown else ""
    return f"{overdue.highest_level.label}: {count} overdue student progress {noun}: {listed}{more}"


def late_sprs_sms(overdue: InstructorOverdue) -> str:
    """The FINAL-level reminder as a text message: how many, the oldest, where to write them."""
    count = len(overdue.reports)
    oldest = overdue.reports[0]
    noun = "report is" if count == 1 else "reports are"
    return (
        f"{settings.CLUB_NAME}: FINAL notice. {count} student progress {noun} overdue, the oldest "
        f"for {oldest.student.full_name} ({oldest.flight_date:%d %b}, {oldest.age_days} days). "
        f"Please write them today: {settings.SITE_URL}{INSTRUCTION_REPORTS_URL}"
    )


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


def remind_instructors(job: SendingJob, overdue: list[InstructorOverdue]) -> None:
    """Every instructor's notification (and the dismissal of those no longer due), then their notices."""
    leaders = leaders_by_role()
    sync_notifications(
        job,
        LATE_SPRS_KEY,
        INSTRUCTION_REPORTS_URL,
        {item.instructor.pk: (item.instructor.full_name, late_sprs_message(item)) for item in overdue},
    )
    with Outbox(job) as outbox:
        for item in overdue:
            remind(outbox, item, leaders)


def remind(outbox: Outbox, item: InstructorOverdue, leaders: dict[CC, list[Member]]) -> None:
    instructor = item.instructor
    notice = Notice(LATE_SPRS_KEY, member_key(instructor.pk), instructor.full_name, member=instructor)
    if item.highest_level == TEXTED_LEVEL:
        notice.sms, notice.kind_key = late_sprs_sms(item), LATE_SPRS_FINAL_KIND
    texted = notice.sms is not None and instructor.can_receive_sms
    without = "; texted and notified in-app" if texted else "; no email sent; notified in-app only"
    if not outbox.has_email(instructor, without):
        if texted:
            outbox.deliver(notice)
        return
    cc = outbox.with_email(cc_members(item, leaders), "; left out of the copies")
    if cc:
        notice.describe += " (cc " + ", ".join(member.full_name for member in cc) + ")"
    notice.email = late_sprs_email(item, cc)
    outbox.deliver(notice)


def refresh_late_sprs_notification(instructor_id: int, today: datetime.date) -> None:
    """After an SPR is written: dismiss the instructor's notification, or shorten its list.

    Only an existing live notification is touched; creating one is notify_late_sprs's work.
    """
    live = Notification.objects.filter(user_id=instructor_id, key=LATE_SPRS_KEY, dismissed=False)
    if not live.exists():
        return
    remaining = overdue_reports(today, instructor_id=instructor_id)
    if remaining:
        live.update(message=late_sprs_message(remaining[0]))
    else:
        dismiss_notifications(LATE_SPRS_KEY, user_ids=[instructor_id])
