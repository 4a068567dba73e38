"""The evening before: expire tomorrow's ad-hoc days nobody confirmed, and tell their members."""

from __future__ import annotations

import datetime
from typing import Any

from duty_roster.adhoc import expire_day, expired_ad_hoc_days, members_to_tell
from duty_roster.cli import OperationsDayOption
from duty_roster.notices.adhoc import tell_members
from notifications.delivery import log_summary
from utils.clubtime import club_today
from utils.cronjob import BaseCronJobCommand
from utils.errors import UsageError


class Command(OperationsDayOption, BaseCronJobCommand):
    help = (
        "Expire tomorrow's ad-hoc days (club time) that nobody confirmed, and tell the members "
        "who proposed or signed up for them, by email and in the app."
    )
    job_name = "expire_ad_hoc_days"
    schedule = "0 18 * * *"
    max_execution_time = datetime.timedelta(minutes=5)
    resource_class = "light"
    sends_notices = True
    skip_on_closed_days = True
    date_help = (
        "Date whose unconfirmed ad-hoc days to expire, YYYY-MM-DD: today or tomorrow "
        "(default: tomorrow in the club's time zone). For catching up a run that missed its slot."
    )

    def validate_options(self, options: dict[str, Any]) -> None:
        day, today = options["date"], club_today()
        if day is not None and day < today:
            raise UsageError(f"--date {day} is in the past (the club's today is {today})")
        if day is not None and day > today + datetime.timedelta(days=1):
            raise UsageError(f"--date {day} is more than a day ahead: its ad-hoc days can still be confirmed")

    def execute_job(self, *args: Any, **options: Any) -> None:
        day = self.operations_day(options)
        expired = expire_day(self, day)
        days = expired_ad_hoc_days(day, with_unconfirmed=self.dry_run)
        people = members_to_tell(days)
        if days:
            state = "Expired or expiring" if self.dry_run else "Expired"
            fields = ", ".join(d.location.identifier for d in days)
            self.log("findings", f"{state} ad-hoc day(s) on {day}: {fields}")
        tell_members(self, day, people)
        verb = "Would expire" if self.dry_run else "Expired"
        earlier = f", {len(days) - expired} expired earlier" if len(days) > expired else ""
        told = f"({len(people)} member(s) to tell)"
        log_summary(self, f"{verb} {expired} unconfirmed ad-hoc day(s) for {day}{earlier} {told}")
