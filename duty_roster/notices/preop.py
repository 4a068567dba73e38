"""What each crew member of an operations day is sent the day before: the briefing's email with
a calendar file (one all-day event per role), and a short SMS for members who opted in to text
messages (members without an address: the SMS only, if any)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from notifications.delivery import Notice, Outbox, member_key
from notifications.email import render_email

if TYPE_CHECKING:
    from duty_roster.preop import CrewBriefing, DayBriefing, Duty
    from notifications.job import SendingJob

CALENDAR_PRODID = "-//Manage2Soar//Duty roster//EN"
# The ledger kind of a briefing; its ledger day is the operations date, so a briefing goes out
# once per operations date, whatever day it is sent on.
PREOP_KIND = "duty_preop"


def duty_uid(duty: Duty, member_id: int) -> str:
    """Stable for (assignment, member, role): a resent file updates the event, never duplicates it."""
    host = urlsplit(settings.SITE_URL).hostname or "manage2soar.local"
    return f"duty-{duty.assignment.pk}-{member_id}-{duty.role}@{host}"


def duty_summary(duty: Duty) -> str:
    return f"{duty.label} — {duty.assignment.location}"


def duty_calendar(crew: CrewBriefing, stamp: datetime.datetime) -> str:
    """An iCalendar file with one all-day VEVENT per role the member holds that day."""
    from icalendar import Calendar, Event  # imported on use: only this job needs it

    calendar = Calendar()
    calendar.add("prodid", CALENDAR_PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    for duty in crew.duties:
        assignment = duty.assignment
        event = Event()
        event.add("uid", duty_uid(duty, crew.member.pk))
        event.add("dtstamp", stamp)
        event.add("dtstart", assignment.date)
        event.add("dtend", assignment.date + datetime.timedelta(days=1))
        event.add("summary", duty_summary(duty))
        event.add("location", str(assignment.location))
        crew_lines = [f"{label}: {member}" for label, member in assignment.crew()]
        event.add("description", "\n".join(["Crew:", *crew_lines]))
        calendar.add_component(event)
    return calendar.to_ical().decode()


class BriefingEmails:
    """Each crew member's briefing for one day. The maintenance part is the same for the whole
    crew, so it is rendered once per run; a copy then renders only the member's own part."""

    def __init__(self, briefing: DayBriefing, stamp: datetime.datetime) -> None:
        self.briefing = briefing
        self.stamp = stamp
        context = {"briefing": briefing}
        # Rendered by our own template (escaped there): safe to insert as it is.
        self.maintenance_html = mark_safe(  # noqa: S308
            render_to_string("duty_roster/email/preop_maintenance.html", context)
        )
        self.maintenance_text = render_to_string("duty_roster/email/preop_maintenance.txt", context)

    def for_crew(self, crew: CrewBriefing) -> EmailMultiAlternatives:
        """The briefing for one crew member, with the .ics of their duties attached."""
        filename = f"duty-{self.briefing.day.isoformat()}.ics"
        return render_email(
            "duty_roster/email/preop_briefing",
            to=[crew.member.email],
            context={
                "briefing": self.briefing,
                "crew": crew,
                "member": crew.member,
                "ics_filename": filename,
                "maintenance_html": self.maintenance_html,
                "maintenance_text": self.maintenance_text,
            },
            attachments=[(filename, duty_calendar(crew, self.stamp), "text/calendar")],
        )


def preop_sms(briefing: DayBriefing, crew: CrewBriefing) -> str:
    """The briefing in a line or two: the member's roles and fields, and what needs attention."""
    fields = ", ".join(assignment.location.identifier for assignment in crew.assignments)
    roles = ", ".join(crew.role_labels)
    day = briefing.day
    text = f"{settings.CLUB_NAME}: {day:%a} {day.day} {day:%b} you are {roles} at {fields}."
    grounded = len(briefing.grounded)
    if grounded:
        text += f" {grounded} aircraft grounded."
    if briefing.overdue_count:
        text += f" {briefing.overdue_count} maintenance deadline(s) overdue."
    return text + " Full briefing by email."


def brief_crews(job: SendingJob, briefing: DayBriefing) -> None:
    """Each crew member's briefing: the email, and the SMS to members who opted in when the
    duty_preop kind offers it."""
    emails = BriefingEmails(briefing, timezone.now())
    with Outbox(job) as outbox:
        for crew in briefing.crews:
            member = crew.member
            texted = member.can_receive_sms
            if outbox.has_email(member, ": briefed by text message only" if texted else ": not briefed"):
                email = emails.for_crew(crew)
            elif texted:
                email = None
            else:
                continue
            sms, key, day = preop_sms(briefing, crew), member_key(member.pk), briefing.day
            outbox.deliver(Notice(PREOP_KIND, key, member.full_name, email, day=day, sms=sms, member=member))
