"""Remind the duty crew of logsheets that are still not finalized after a week."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import CommandParser

from logsheet.aging import DEFAULT_AGING_DAYS, find_aging_logsheets
from logsheet.notices.aging import remind_responsible
from notifications.delivery import log_summary
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
            help="Aging means more than this many days old (default %(default)s).",
        )

    def execute_job(self, *args: Any, **options: Any) -> None:
        found = find_aging_logsheets(self.occurrence_day, options["days"])
        remind_responsible(self, found, options["days"])
        log_summary(
            self, f"Found {len(found.logsheets)} aging logsheet(s) for {len(found.responsible)} member(s)"
        )
