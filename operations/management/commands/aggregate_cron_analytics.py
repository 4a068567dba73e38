"""Roll the run history up into hourly and daily rows per job, and prune old raw runs."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone

from operations import analytics, rollup
from utils.cronjob import BaseCronJobCommand, iso_date, positive_int
from utils.errors import UsageError

MAX_BACKFILL_DAYS = 3660


class Command(BaseCronJobCommand):
    help = (
        "Roll CronJobRun up into hourly and daily rows per job (runs by status, success rate, "
        "duration p50/p95/max, items processed): the previous UTC hour, and yesterday after "
        "midnight UTC. Prunes raw runs older than CRONJOB_RUN_RETENTION_DAYS once rolled up."
    )
    job_name = "aggregate_cron_analytics"
    schedule = "5 * * * *"
    # Its periods are UTC hours and days, whatever zone the club's jobs are scheduled in.
    schedule_timezone = "Etc/UTC"
    max_execution_time = datetime.timedelta(minutes=10)
    resource_class = "light"
    # Hourly: a slot missed by more than a few minutes is caught up by the next one.
    starting_deadline = datetime.timedelta(minutes=10)

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--date", type=iso_date, help="Roll up this UTC day (YYYY-MM-DD) and its hours.")
        which.add_argument("--backfill", type=positive_int, help="Roll up the last N whole UTC days.")

    def validate_options(self, options: dict[str, Any]) -> None:
        today = timezone.now().date()
        if options["date"] is not None and options["date"] >= today:
            raise UsageError(
                f"--date {options['date']} is not over yet (UTC); the latest is {today - analytics.DAY}"
            )
        if options["backfill"] is not None and options["backfill"] > MAX_BACKFILL_DAYS:
            raise UsageError(f"--backfill {options['backfill']} is more than {MAX_BACKFILL_DAYS} days")

    def execute_job(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        rollup.roll_up(self, rollup.plan_for(now, options["date"], options["backfill"]), now)
        self.log("findings", rollup.describe(self))
