"""The day before operations: brief each crew member by email (and SMS if they opted in)."""

from __future__ import annotations

import datetime
from typing import Any

from duty_roster.cli import OperationsDayOption
from duty_roster.notices.preop import brief_crews
from duty_roster.preop import day_briefing
from notifications.delivery import log_summary
from utils.cronjob import BaseCronJobCommand


class Command(OperationsDayOption, BaseCronJobCommand):
    help = (
        "Email each crew member of tomorrow's operations (club time) a briefing: crew, their roles, "
        "grounded aircraft, maintenance deadlines, and a calendar file of their duty; and a text "
        "message to those who opted in to SMS."
    )
    job_name = "send_duty_preop_emails"
    schedule = "0 6 * * *"
    max_execution_time = datetime.timedelta(minutes=10)
    resource_class = "light"
    sends_notices = True
    skip_on_closed_days = True
    date_help = "Operations date to brief, YYYY-MM-DD (default: tomorrow in the club's time zone)."

    def execute_job(self, *args: Any, **options: Any) -> None:
        day = self.operations_day(options)
        briefing = day_briefing(day)
        if not briefing.assignments:
            log_summary(self, f"No operations on {day}: nothing to send")
            return
        self.log(
            "findings",
            f"Operations on {day} at {briefing.fields}: {len(briefing.crews)} crew member(s), "
            f"{len(briefing.grounded)} grounded aircraft, {len(briefing.deadlines)} maintenance "
            f"deadline(s) ({briefing.overdue_count} overdue)",
        )
        brief_crews(self, briefing)
        log_summary(
            self,
            f"Found {len(briefing.assignments)} operating assignment(s) on {day} ({briefing.fields}): "
            f"{len(briefing.crews)} crew member(s) to brief",
        )
