from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone

from duty_roster.adhoc import (
    EXPIRED_KIND,
    JOB_NAME,
    MemberToTell,
    expire_unconfirmed_ad_hoc_days,
    expired_ad_hoc_days,
    members_to_tell,
    notify_in_app,
    unconfirmed_ad_hoc_days,
    untold_in_app,
)
from duty_roster.emails_adhoc import ad_hoc_expired_email
from notifications.delivery import Notice, Outbox, log_summary, member_key
from utils.clubtime import club_today, club_tomorrow
from utils.cronjob import BaseCronJobCommand, iso_date
from utils.errors import UsageError


class Command(BaseCronJobCommand):
    help = (
        "Expire tomorrow's ad-hoc days (club time) that nobody confirmed, and tell the members "
        "who proposed or signed up for them, by email and in the app."
    )
    job_name = JOB_NAME
    schedule = "0 18 * * *"
    max_execution_time = datetime.timedelta(minutes=5)
    resource_class = "light"
    sends_notices = True
    skip_on_closed_days = True

    def closure_day(self, options: dict[str, Any]) -> datetime.date:
        # The day whose ad-hoc days it would expire: nothing flies on a closed day, so there is
        # nothing to call off; the day before the club reopens still runs (see the job's doc).
        return options["date"] or club_tomorrow()

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--date",
            type=iso_date,
            default=None,
            help="Date whose unconfirmed ad-hoc days to expire, YYYY-MM-DD: today or tomorrow "
            "(default: tomorrow in the club's time zone). For catching up a run that missed its slot.",
        )

    def validate_options(self, options: dict[str, Any]) -> None:
        day, today = options["date"], club_today()
        if day is None:
            return
        if day < today:
            raise UsageError(f"--date {day} is in the past (the club's today is {today})")
        if day > today + datetime.timedelta(days=1):
            raise UsageError(f"--date {day} is more than a day ahead: its ad-hoc days can still be confirmed")

    def execute_job(self, *args: Any, **options: Any) -> None:
        day: datetime.date = options["date"] or club_tomorrow()
        if self.dry_run:
            expired = unconfirmed_ad_hoc_days(day)
        else:
            with self.unit_of_work():
                expired = expire_unconfirmed_ad_hoc_days(day, timezone.now())
        days = expired_ad_hoc_days(day, with_unconfirmed=self.dry_run)
        people = members_to_tell(days)
        if days:
            fields = ", ".join(d.location.identifier for d in days)
            state = "Expired or expiring" if self.dry_run else "Expired"
            self.log("findings", f"{state} ad-hoc day(s) on {day}: {fields}")
        self.tell_in_app(day, people)
        self.tell_by_email(day, people)
        verb = "Would expire" if self.dry_run else "Expired"
        earlier = f", {len(days) - expired} expired earlier" if len(days) > expired else ""
        told = f"({len(people)} member(s) to tell)"
        log_summary(self, f"{verb} {expired} unconfirmed ad-hoc day(s) for {day}{earlier} {told}")

    def tell_in_app(self, day: datetime.date, people: list[MemberToTell]) -> None:
        untold = untold_in_app(day, people)
        if not untold:
            return
        if self.dry_run:
            self.log("dry_run", f"Would notify {len(untold)} member(s) in the app")
            return
        with self.unit_of_work():
            self.count("in_app", notify_in_app(day, untold))

    def tell_by_email(self, day: datetime.date, people: list[MemberToTell]) -> None:
        with Outbox(self) as outbox:
            for person in people:
                member = person.member
                if not member.email:
                    self.log_warning(f"{member.full_name} has no email address: told in the app only")
                    self.count("no_email")
                else:
                    email = ad_hoc_expired_email(day, person)
                    notice = Notice(EXPIRED_KIND, member_key(member.pk), member.full_name, email, day=day)
                    outbox.deliver(notice)
