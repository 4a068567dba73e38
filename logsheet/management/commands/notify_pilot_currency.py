"""Daily: remind each pilot, once per lapse, that their currency is lapsing or has lapsed."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone

from logsheet.currency import DEFAULT_DAYS, DEFAULT_WARN_DAYS, due_reminders
from logsheet.notices.currency import remind_pilots
from members.models import Member
from notifications.delivery import log_summary
from utils.cli import non_negative_int, positive_int
from utils.cronjob import BaseCronJobCommand
from utils.errors import UsageError

MAX_DAYS = 3660


class Command(BaseCronJobCommand):
    help = (
        "Remind each active pilot whose last flight as pilot (finalized logsheets) is more than --days "
        "old, or will be within --warn-days, once per lapse: by email, and by SMS if they opted in."
    )
    job_name = "notify_pilot_currency"
    schedule = "0 14 * * *"
    max_execution_time = datetime.timedelta(minutes=10)
    resource_class = "light"
    sends_notices = True

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        days = "Current while the last flight is at most this many days old (default %(default)s)."
        warn = "Remind this many days before the lapse (default %(default)s; 0: once lapsed)."
        member = "Only this member (e.g. to check one pilot after a logsheet was corrected)."
        parser.add_argument("--days", type=positive_int, default=DEFAULT_DAYS, help=days)
        parser.add_argument("--warn-days", type=non_negative_int, default=DEFAULT_WARN_DAYS, help=warn)
        parser.add_argument("--member", metavar="USERNAME", help=member)

    def validate_options(self, options: dict[str, Any]) -> None:
        if options["days"] > MAX_DAYS:
            raise UsageError(f"--days must be at most {MAX_DAYS}")
        if options["warn_days"] >= options["days"]:
            raise UsageError("--warn-days must be less than --days")
        self.only_member: int | None = None
        if options["member"] is not None:
            found = Member.objects.filter(username=options["member"]).values_list("pk", flat=True)
            self.only_member = found.first()
            if self.only_member is None:
                raise UsageError(f"--member: no member with username {options['member']!r}")

    def execute_job(self, *args: Any, **options: Any) -> None:
        days, warn_days = options["days"], options["warn_days"]
        reminders = due_reminders(timezone.now(), days, warn_days, self.only_member)
        lapsed = sum(reminder.lapsed for reminder in reminders)
        self.log("findings", f"{lapsed} lapsed, {len(reminders) - lapsed} lapsing within {warn_days} days")
        remind_pilots(self, reminders, days)
        log_summary(self, f"Found {len(reminders)} pilot(s) to remind of the {days}-day recency rule")
