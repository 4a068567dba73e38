from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone

from duty_roster.emails_preop import BriefingEmails, preop_sms
from duty_roster.preop import JOB_NAME, PREOP_KIND, day_briefing
from notifications.delivery import Notice, Outbox, log_summary, member_key
from utils.clubtime import club_tomorrow
from utils.cronjob import BaseCronJobCommand, iso_date


class Command(BaseCronJobCommand):
    help = (
        "Email each crew member of tomorrow's operations (club time) a briefing: crew, their roles, "
        "grounded aircraft, maintenance deadlines, and a calendar file of their duty; and a text "
        "message to those who opted in to SMS."
    )
    job_name = JOB_NAME
    schedule = "0 6 * * *"
    max_execution_time = datetime.timedelta(minutes=10)
    resource_class = "light"
    sends_notices = True
    skip_on_closed_days = True

    def closure_day(self, options: dict[str, Any]) -> datetime.date:
        # The operations date it briefs, not the day it runs: the eve of reopening still briefs.
        return options["date"] or club_tomorrow()

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--date",
            type=iso_date,
            default=None,
            help="Operations date to brief, YYYY-MM-DD (default: tomorrow in the club's time zone).",
        )

    def execute_job(self, *args: Any, **options: Any) -> None:
        day: datetime.date = options["date"] or club_tomorrow()
        briefing = day_briefing(day)
        if not briefing.assignments:
            log_summary(self, f"No operations on {day}: nothing to send")
            return
        fields = ", ".join(a.location.identifier for a in briefing.assignments)
        crews = briefing.crews
        self.log(
            "findings",
            f"Operations on {day} at {fields}: {len(crews)} crew member(s), "
            f"{len(briefing.grounded)} grounded aircraft, {len(briefing.deadlines)} maintenance "
            f"deadline(s) ({briefing.overdue_count} overdue)",
        )
        emails = BriefingEmails(briefing, timezone.now())
        with Outbox(self) as outbox:
            for crew in crews:
                member = crew.member
                email = emails.for_crew(crew) if member.email else None
                if email is None:
                    texted = member.can_receive_sms
                    outcome = "briefed by text message only" if texted else "not briefed"
                    self.log_warning(f"{member.full_name} has no email address: {outcome}")
                    self.count("no_email")
                    if not texted:
                        continue
                # The SMS goes to members who opted in, when the duty_preop kind offers it.
                sms = preop_sms(briefing, crew)
                key = member_key(member.pk)
                outbox.deliver(
                    Notice(PREOP_KIND, key, member.full_name, email, day=day, sms=sms, member=member)
                )
        log_summary(
            self,
            f"Found {len(briefing.assignments)} operating assignment(s) on {day} ({fields}): "
            f"{len(crews)} crew member(s) to brief",
        )
