"""Daily: remind each pilot, once per lapse, that their currency is lapsing or has lapsed."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.mail import EmailMessage
from django.core.management.base import CommandParser
from django.utils import timezone

from logsheet.currency import CURRENCY_KIND, DEFAULT_DAYS, DEFAULT_WARN_DAYS, CurrencyReminder, due_reminders
from logsheet.emails import pilot_currency_email, pilot_currency_sms
from members.models import Member
from notifications.delivery import Notice, Outbox, log_summary, member_key
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
        parser.add_argument(
            "--days",
            type=positive_int,
            default=DEFAULT_DAYS,
            help=f"Current while the last flight is at most this many days old (default {DEFAULT_DAYS}).",
        )
        parser.add_argument(
            "--warn-days",
            type=non_negative_int,
            default=DEFAULT_WARN_DAYS,
            help=f"Remind this many days before the lapse (default {DEFAULT_WARN_DAYS}; 0: once lapsed).",
        )
        parser.add_argument(
            "--member",
            metavar="USERNAME",
            help="Only this member (e.g. to check one pilot after a logsheet was corrected).",
        )

    def validate_options(self, options: dict[str, Any]) -> None:
        if options["days"] > MAX_DAYS:
            raise UsageError(f"--days must be at most {MAX_DAYS}")
        if options["warn_days"] >= options["days"]:
            raise UsageError("--warn-days must be less than --days")
        self.only_member: int | None = None
        if options["member"] is not None:
            pk = Member.objects.filter(username=options["member"]).values_list("pk", flat=True).first()
            if pk is None:
                raise UsageError(f"--member: no member with username {options['member']!r}")
            self.only_member = pk

    def execute_job(self, *args: Any, **options: Any) -> None:
        days, warn_days = options["days"], options["warn_days"]
        reminders = due_reminders(timezone.now(), days, warn_days)
        if self.only_member is not None:
            reminders = [reminder for reminder in reminders if reminder.member.pk == self.only_member]
        lapsed = sum(reminder.lapsed for reminder in reminders)
        self.log("findings", f"{lapsed} lapsed, {len(reminders) - lapsed} lapsing within {warn_days} days")
        with Outbox(self) as outbox:
            # Lapsed pilots stay lapsed: the ledger says which already had this lapse's reminder,
            # in one query, before anything is rendered for them.
            probes = [(self.probe(reminder), reminder) for reminder in reminders]
            still = {id(notice) for notice in outbox.still_to_send([notice for notice, _ in probes])}
            due = [reminder for notice, reminder in probes if id(notice) in still]
            for notice, _ in probes:
                if id(notice) not in still:  # every channel of it already went out
                    self.count("already_sent", len(outbox.routes(notice)))
            for reminder in due:
                self.remind(outbox, reminder, days)
        log_summary(self, f"Found {len(reminders)} pilot(s) to remind of the {days}-day recency rule")

    @staticmethod
    def probe(reminder: CurrencyReminder) -> Notice:
        """A notice routed like the reminder's (email if the pilot has an address, the SMS), to ask
        the ledger before rendering the email."""
        member = reminder.member
        return Notice(
            CURRENCY_KIND,
            member_key(member.pk),
            member.full_name,
            EmailMessage() if member.email else None,
            day=reminder.lapse_date,
            sms=pilot_currency_sms(reminder),
            member=member,
        )

    def remind(self, outbox: Outbox, reminder: CurrencyReminder, days: int) -> None:
        member = reminder.member
        email = pilot_currency_email(reminder, days) if member.email else None
        if email is None:
            texted = member.can_receive_sms
            self.log_warning(f"{member.full_name} has no email address{'; texted only' if texted else ''}")
            self.count("no_email")
            if not texted:
                return
        notice = Notice(
            CURRENCY_KIND,
            member_key(member.pk),
            member.full_name,
            email,
            day=reminder.lapse_date,  # one reminder per lapse, whatever day it is sent
            sms=pilot_currency_sms(reminder),
            member=member,
        )
        outbox.deliver(notice)
