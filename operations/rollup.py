"""One run of ``aggregate_cron_analytics``: the periods it rolls up, each written in one unit of
work, then the pruning of raw runs (``operations.analytics`` computes and saves the rows)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings

from operations import analytics
from operations.models import CronJobDailyStats, CronJobHourlyStats
from utils.models import CronJobRun

if TYPE_CHECKING:
    from utils.cronjob import BaseCronJobCommand


def plan_for(now: datetime.datetime, day: datetime.date | None, backfill: int | None) -> analytics.Plan:
    """--date: that UTC day; --backfill N: the last N whole UTC days; else the scheduled run's."""
    if day is not None:
        return analytics.Plan(hours=[], days=[day])
    if backfill is not None:
        return analytics.Plan(hours=[], days=[now.date() - i * analytics.DAY for i in range(backfill, 0, -1)])
    return analytics.scheduled_plan(now)


def roll_up(job: BaseCronJobCommand, plan: analytics.Plan, now: datetime.datetime) -> None:
    """The plan's days (but those past retention, kept as they are) and hours; then the pruning."""
    frozen = {day for day in plan.days if analytics.is_frozen(day, now)}
    for day in sorted(frozen):
        job.log_info(f"Kept the rollup of {day}: past the retention period, its runs may be pruned")
    for day in plan.days:
        if day not in frozen:
            roll_up_day(job, day, now)
    for hour in plan.hours:
        roll_up_hour(job, hour, now)
    if plan.days:
        prune(job, now)


def roll_up_day(job: BaseCronJobCommand, day: datetime.date, now: datetime.datetime) -> None:
    """The day's daily rows and its 24 hourly rows, from one read of the day's runs."""
    job.checkpoint()
    start = analytics.utc_midnight(day)
    tallies = analytics.tally(start, start + analytics.DAY, whole_day=True)
    job.count("days")
    job.count("hours", 24)
    job.count("rows", len(tallies.days) + len(tallies.hours))
    if job.dry_run:
        return
    with job.unit_of_work():
        analytics.save(CronJobDailyStats, "day", tallies.days, (day, day + analytics.DAY), now)
        analytics.save(CronJobHourlyStats, "hour", tallies.hours, (start, start + analytics.DAY), now)


def roll_up_hour(job: BaseCronJobCommand, hour: datetime.datetime, now: datetime.datetime) -> None:
    job.checkpoint()
    tallies = analytics.tally(hour, hour + analytics.HOUR, whole_day=False)
    job.count("hours")
    job.count("rows", len(tallies.hours))
    if job.dry_run:
        return
    with job.unit_of_work():
        analytics.save(CronJobHourlyStats, "hour", tallies.hours, (hour, hour + analytics.HOUR), now)


def prune(job: BaseCronJobCommand, now: datetime.datetime) -> None:
    if job.dry_run:
        would = analytics.prunable_runs(now).count()
        if would:
            job.count("pruned", would)
        return
    for ids in analytics.prune_batches(now):
        with job.unit_of_work():
            CronJobRun.objects.filter(pk__in=ids).delete()
        job.count("pruned", len(ids))


def describe(job: BaseCronJobCommand) -> str:
    """The run's closing account: periods and rows rolled up, runs pruned."""
    counts = job.summary
    periods = f"{counts['hours']} hour(s) and {counts['days']} day(s)"
    return (
        f"Rolled up {periods} ({counts['rows']} rows); {'would prune' if job.dry_run else 'pruned'} "
        f"{counts['pruned']} run(s) older than {settings.CRONJOB_RUN_RETENTION_DAYS} days"
    )
