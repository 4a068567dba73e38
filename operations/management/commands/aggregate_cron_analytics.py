"""Roll the run history up into hourly and daily rows per job, and prune old raw runs."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser
from django.utils import timezone

from operations import analytics
from operations.models import CronJobDailyStats, CronJobHourlyStats
from utils.cronjob import BaseCronJobCommand, iso_date, positive_int
from utils.errors import UsageError
from utils.models import CronJobRun

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
        if options["date"] is not None:
            plan = analytics.Plan(hours=[], days=[options["date"]])
        elif options["backfill"] is not None:
            days = [now.date() - i * analytics.DAY for i in range(options["backfill"], 0, -1)]
            plan = analytics.Plan(hours=[], days=days)
        else:
            plan = analytics.scheduled_plan(now)
        frozen = {day for day in plan.days if analytics.is_frozen(day, now)}
        for day in sorted(frozen):
            self.log_info(f"Kept the rollup of {day}: past the retention period, its runs may be pruned")
        for day in plan.days:
            if day not in frozen:
                self.roll_up_day(day, now)
        for hour in plan.hours:
            self.roll_up_hour(hour, now)
        if plan.days:
            self.prune(now)
        periods = f"{self.summary['hours']} hour(s) and {self.summary['days']} day(s)"
        self.log(
            "findings",
            f"Rolled up {periods} ({self.summary['rows']} rows); "
            f"{'would prune' if self.dry_run else 'pruned'} {self.summary['pruned']} run(s) older than "
            f"{settings.CRONJOB_RUN_RETENTION_DAYS} days",
        )

    def roll_up_day(self, day: datetime.date, now: datetime.datetime) -> None:
        """The day's daily rows and its 24 hourly rows, from one read of the day's runs."""
        self.checkpoint()
        start = analytics.utc_midnight(day)
        tallies = analytics.tally(start, start + analytics.DAY, whole_day=True)
        self.count("days")
        self.count("hours", 24)
        self.count("rows", len(tallies.days) + len(tallies.hours))
        if self.dry_run:
            return
        with self.unit_of_work():
            analytics.save(CronJobDailyStats, "day", tallies.days, (day, day + analytics.DAY), now)
            analytics.save(CronJobHourlyStats, "hour", tallies.hours, (start, start + analytics.DAY), now)

    def roll_up_hour(self, hour: datetime.datetime, now: datetime.datetime) -> None:
        self.checkpoint()
        tallies = analytics.tally(hour, hour + analytics.HOUR, whole_day=False)
        self.count("hours")
        self.count("rows", len(tallies.hours))
        if self.dry_run:
            return
        with self.unit_of_work():
            analytics.save(CronJobHourlyStats, "hour", tallies.hours, (hour, hour + analytics.HOUR), now)

    def prune(self, now: datetime.datetime) -> None:
        if self.dry_run:
            would = analytics.prunable_runs(now).count()
            if would:
                self.count("pruned", would)
            return
        for ids in analytics.prune_batches(now):
            with self.unit_of_work():
                CronJobRun.objects.filter(pk__in=ids).delete()
            self.count("pruned", len(ids))
