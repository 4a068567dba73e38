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
from notifications.delivery import Notice, Outbox, member_key
from notifications.inapp import dismiss_notifications, upsert_notification
from notifications.models import Notification
from utils.clock import club_today
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
        live = dict(
            Notification.objects.filter(key=AGING_NOTIFICATION_KEY, dismissed=False).values_list(
                "user_id", "message"
            )
        )
        with Outbox(self) as outbox:
            for person in found.responsible:
                self.remind(outbox, person, days, live)
        self.dismiss_finished(live, {person.member.pk for person in found.responsible})
        self.log_summary(
            f"Found {len(found.logsheets)} aging logsheet(s) for {len(found.responsible)} member(s)"
        )

    def remind(self, outbox: Outbox, person: ResponsibleMember, days: int, live: dict[int, str]) -> None:
        member = person.member
        self.update_in_app(member.pk, member.full_name, aging_notification_message(person.logsheets), live)
        if not member.email:
            self.log_warning(f"{member.full_name} has no email address; reminded in-app only")
            self.count("no_email")
            return
        email = aging_logsheets_email(member, person.logsheets, days)
        outbox.deliver(Notice(AGING_NOTIFICATION_KEY, member_key(member.pk), member.full_name, email))

    def update_in_app(self, user_id: int, name: str, message: str, live: dict[int, str]) -> None:
        """One live notification per member, rewritten when its text changes; never stacked."""
        if live.get(user_id) == message:
            return
        if self.dry_run:
            verb = "update" if user_id in live else "create"
            self.log("dry_run", f"Would {verb} the in-app notification of {name}: {message}")
            self.count("would_notify_in_app")
            return
        with self.unit_of_work():
            upsert_notification(user_id, AGING_NOTIFICATION_KEY, message, LOGSHEETS_URL)
        self.log_info(f"In-app notification of {name}: {message}", min_verbosity=2)
        self.count("in_app_updated")

    def dismiss_finished(self, live: dict[int, str], still_aging: set[int]) -> None:
        """Members whose sheets are all finalized (or no longer theirs) lose their notification."""
        finished = set(live) - still_aging
        if not finished:
            return
        if self.dry_run:
            self.log("dry_run", f"Would dismiss {len(finished)} in-app notification(s) of finished logsheets")
            return
        with self.unit_of_work():
            dismissed = dismiss_notifications(AGING_NOTIFICATION_KEY, user_ids=finished)
        self.count("in_app_dismissed", dismissed)
