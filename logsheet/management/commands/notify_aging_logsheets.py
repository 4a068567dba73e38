"""Remind the duty crew of logsheets that are still not finalized after a week."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import CommandParser

from logsheet.emails import aging_logsheets_email
from logsheet.services import (
    AGING_NOTIFICATION_KEY,
    DEFAULT_AGING_DAYS,
    LOGSHEETS_URL,
    ResponsibleMember,
    aging_notification_message,
    find_aging_logsheets,
)
from notifications.delivery import Notice, Outbox, log_summary, member_key
from notifications.inapp import sync_notifications
from utils.clubtime import club_today
from utils.cronjob import BaseCronJobCommand, positive_int


class Command(BaseCronJobCommand):
    help = (
        "Email and notify in-app the duty officer and assistant (else the creator) of every "
        "logsheet more than --days days old that is not finalized."
    )
    job_name = "notify_aging_logsheets"
    schedule = "0 8 * * *"
    max_execution_time = datetime.timedelta(minutes=15)
    resource_class = "light"
    sends_notices = True

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--days",
            type=positive_int,
            default=DEFAULT_AGING_DAYS,
            help=f"Aging means more than this many days old (default {DEFAULT_AGING_DAYS}).",
        )

    def execute_job(self, *args: Any, **options: Any) -> None:
        days: int = options["days"]
        found = find_aging_logsheets(club_today(), days)
        for sheet in found.unaddressed:
            self.log_warning(
                f"Logsheet {sheet.describe()} has no duty officer, assistant or creator to remind"
            )
            self.count("unaddressed")
        sync_notifications(
            self,
            AGING_NOTIFICATION_KEY,
            LOGSHEETS_URL,
            {
                person.member.pk: (person.member.full_name, aging_notification_message(person.logsheets))
                for person in found.responsible
            },
        )
        with Outbox(self) as outbox:
            for person in found.responsible:
                self.remind(outbox, person, days)
        log_summary(
            self, f"Found {len(found.logsheets)} aging logsheet(s) for {len(found.responsible)} member(s)"
        )

    def remind(self, outbox: Outbox, person: ResponsibleMember, days: int) -> None:
        member = person.member
        if not member.email:
            self.log_warning(f"{member.full_name} has no email address; reminded in-app only")
            self.count("no_email")
            return
        email = aging_logsheets_email(member, person.logsheets, days)
        outbox.deliver(Notice(AGING_NOTIFICATION_KEY, member_key(member.pk), member.full_name, email))
