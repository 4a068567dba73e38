"""Run analytics: ``CronJobRun`` rolled up per job into hourly and daily rows, and pruning.

A period (a UTC hour or a UTC day) is read in one query, ordered by job, and summed one job at
a time, so memory holds one job's durations of one period, never the history. Percentiles are
computed in Python the way PostgreSQL's ``PERCENTILE_CONT`` does (linear interpolation), the
same on SQLite, PostgreSQL and MariaDB. Rows are written with one upsert per period, so
aggregating a period again gives the same rows.

Raw runs older than ``CRONJOB_RUN_RETENTION_DAYS`` are deleted once their day has a daily row;
each job's latest run and latest success are kept (``cron_status`` shows them). A daily row of
a day older than the retention period is never rewritten: its raw runs may be gone.
"""

from __future__ import annotations

import datetime
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import Exists, Max, OuterRef
from django.db.models.functions import TruncDate

from operations.models import CronJobDailyStats, CronJobHourlyStats
from utils.models import CronJobRun

Status = CronJobRun.Status
# The rollup tables (CronJobStats is abstract: it has no manager of its own).
StatsModel = TypeVar("StatsModel", CronJobHourlyStats, CronJobDailyStats)
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
# A run as the tallies read it: job name, started at, status, duration in seconds, summary.
RunRow = tuple[str, datetime.datetime, str, float | None, dict[str, Any]]
WORKED = {Status.SUCCEEDED, Status.FAILED, Status.TIMED_OUT, Status.INTERRUPTED}
STAT_FIELDS = [
    "runs",
    "succeeded",
    "failed",
    "timed_out",
    "interrupted",
    "skipped",
    "skipped_lock_held",
    "running",
    "success_rate",
    "duration_p50",
    "duration_p95",
    "duration_max",
    "items_processed",
    "counts",
    "aggregated_at",
]


def percentile(ordered: list[float], q: float) -> float | None:
    """The ``q`` quantile of sorted values, interpolated between ranks (like PERCENTILE_CONT)."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low), 3)


@dataclass
class Tally:
    """One job's runs in one period, added up."""

    job_name: str
    period: Any  # the UTC hour (datetime) or day (date, set by tally)
    statuses: Counter[str] = field(default_factory=Counter)
    skipped_lock_held: int = 0
    durations: list[float] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, status: str, duration: float | None, summary: Any) -> None:
        self.statuses[status] += 1
        summary = summary if isinstance(summary, dict) else {}
        if status == Status.SKIPPED and "held_by" in summary:
            self.skipped_lock_held += 1
        if status in WORKED and duration is not None:
            self.durations.append(duration)
        for key, value in summary.items():
            if isinstance(value, int) and not isinstance(value, bool):
                self.counts[key] += value

    def fields(self, aggregated_at: datetime.datetime) -> dict[str, Any]:
        worked = sum(self.statuses[s] for s in WORKED)
        ordered = sorted(self.durations)
        return {
            "runs": sum(self.statuses.values()),
            **{s: self.statuses[s] for s in ("succeeded", "failed", "timed_out", "interrupted", "skipped")},
            "running": self.statuses[Status.RUNNING],
            "skipped_lock_held": self.skipped_lock_held,
            "success_rate": round(self.statuses[Status.SUCCEEDED] / worked, 4) if worked else None,
            "duration_p50": percentile(ordered, 0.5),
            "duration_p95": percentile(ordered, 0.95),
            "duration_max": ordered[-1] if ordered else None,
            "items_processed": self.counts["processed"] + self.counts["sent"],
            "counts": dict(sorted(self.counts.items())),
            "aggregated_at": aggregated_at,
        }


@dataclass(frozen=True)
class Tallies:
    """One period's rows: a Tally per job (and, for a day, per job and hour)."""

    days: list[Tally]
    hours: list[Tally]


def _runs_in_order(start: datetime.datetime, end: datetime.datetime) -> Iterator[RunRow]:
    """(job, started, status, duration, summary) of the runs that started in [start, end), in
    order of job and start, streamed so that one job's runs at a time are in memory."""
    return (
        CronJobRun.objects.filter(started_at__gte=start, started_at__lt=end)
        .order_by("job_name", "started_at")
        .values_list("job_name", "started_at", "status", "duration_seconds", "summary")
        .iterator(chunk_size=500)
    )


def tally(start: datetime.datetime, end: datetime.datetime, whole_day: bool) -> Tallies:
    """Every job's runs that started in [start, end), per job and per job and hour.

    One query, read in order of job and start; memory holds one job's runs at a time.
    """
    rows = _runs_in_order(start, end)
    days: list[Tally] = []
    hours: list[Tally] = []
    for job_name, runs in groupby(rows, key=itemgetter(0)):
        day = Tally(job_name, start.date())
        by_hour: dict[datetime.datetime, Tally] = {}
        for _, started_at, status, duration, summary in runs:
            hour = started_at.astimezone(datetime.UTC).replace(minute=0, second=0, microsecond=0)
            by_hour.setdefault(hour, Tally(job_name, hour)).add(status, duration, summary)
            if whole_day:
                day.add(status, duration, summary)
        hours.extend(by_hour.values())
        if whole_day:
            days.append(day)
    return Tallies(days=days, hours=hours)


def tally_days(start: datetime.datetime, end: datetime.datetime) -> list[Tally]:
    """Every job's runs that started in [start, end), per job and UTC day (one query).

    What the dashboard draws for the days not rolled up yet (today, so far): the same sums as
    a daily row, read in order of job and start, one job's runs in memory at a time.
    """
    rows = _runs_in_order(start, end)
    tallies: list[Tally] = []
    for job_name, runs in groupby(rows, key=itemgetter(0)):
        by_day: dict[datetime.date, Tally] = {}
        for _, started_at, status, duration, summary in runs:
            day = started_at.astimezone(datetime.UTC).date()
            by_day.setdefault(day, Tally(job_name, day)).add(status, duration, summary)
        tallies.extend(by_day.values())
    return tallies


def save(
    model: type[StatsModel],
    key: str,
    tallies: list[Tally],
    span: tuple[datetime.datetime | datetime.date, datetime.datetime | datetime.date],
    now: datetime.datetime,
) -> int:
    """Upsert the rows of the periods in ``span`` and drop those of (job, period) that had no run."""
    rows = [model(job_name=t.job_name, **{key: t.period}, **t.fields(now)) for t in tallies]
    fresh = {(row.job_name, getattr(row, key)) for row in rows}
    existing = model.objects.filter(**{f"{key}__gte": span[0], f"{key}__lt": span[1]})
    stale = [
        pk for pk, job, period in existing.values_list("pk", "job_name", key) if (job, period) not in fresh
    ]
    if stale:
        model.objects.filter(pk__in=stale).delete()
    model.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["job_name", key], update_fields=STAT_FIELDS
    )
    return len(rows)


def utc_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), datetime.UTC)


def retention_cutoff(now: datetime.datetime) -> datetime.date:
    """The first UTC day whose raw runs are kept in full."""
    return (now - datetime.timedelta(days=settings.CRONJOB_RUN_RETENTION_DAYS)).date()


def is_frozen(day: datetime.date, now: datetime.datetime) -> bool:
    """A day past the retention period that was rolled up: its raw runs may be pruned already."""
    return day < retention_cutoff(now) and CronJobDailyStats.objects.filter(day=day).exists()


def last_rolled_up_day() -> datetime.date | None:
    return CronJobDailyStats.objects.aggregate(last=Max("day"))["last"]


@dataclass(frozen=True)
class Plan:
    hours: list[datetime.datetime]  # single hours to roll up
    days: list[datetime.date]  # whole days: their daily rows and their 24 hourly rows


def scheduled_plan(now: datetime.datetime) -> Plan:
    """The default run: the previous UTC hour; after midnight, yesterday as a whole day.

    Yesterday is rolled up (its daily rows and all 24 hourly rows) by the 00:05 run, or by the
    first run after it if that one was missed (yesterday had runs but has no daily row yet).
    """
    previous_hour = now.replace(minute=0, second=0, microsecond=0) - HOUR
    yesterday = now.date() - DAY
    start = utc_midnight(yesterday)
    if previous_hour.hour != 23 and (
        CronJobDailyStats.objects.filter(day=yesterday).exists()
        or not CronJobRun.objects.filter(started_at__gte=start, started_at__lt=start + DAY).exists()
    ):
        return Plan(hours=[previous_hour], days=[])
    hours = [previous_hour] if previous_hour.date() != yesterday else []
    return Plan(hours=hours, days=[yesterday])


def rolled_up_day() -> Exists:
    """For a CronJobRun queryset annotated by ``with_utc_day``: its (job, UTC day) has a daily row."""
    return Exists(CronJobDailyStats.objects.filter(job_name=OuterRef("job_name"), day=OuterRef("utc_day")))


def with_utc_day(runs: Any) -> Any:
    return runs.annotate(utc_day=TruncDate("started_at", tzinfo=datetime.UTC))


def prunable_runs(now: datetime.datetime) -> Any:
    """Raw runs past the retention period whose day is rolled up (a queryset)."""
    cutoff = utc_midnight(retention_cutoff(now))
    keep = set(
        CronJobRun.objects.values("job_name").annotate(latest=Max("pk")).values_list("latest", flat=True)
    ) | set(
        CronJobRun.objects.filter(status=Status.SUCCEEDED)
        .values("job_name")
        .annotate(latest=Max("pk"))
        .values_list("latest", flat=True)
    )
    return (
        with_utc_day(CronJobRun.objects.filter(started_at__lt=cutoff))
        .filter(rolled_up_day())
        .exclude(pk__in=keep)
    )


def prune_batches(now: datetime.datetime, batch_size: int = 1000) -> Iterator[list[int]]:
    """Ids of prunable runs, a batch at a time (the caller deletes each in a unit of work).

    The runs to keep (each job's latest, and latest success) are read once: deleting older runs
    can't change them."""
    runs = prunable_runs(now).order_by("pk").values_list("pk", flat=True)
    while True:
        ids = list(runs[:batch_size])
        if not ids:
            return
        yield ids
        if len(ids) < batch_size:
            return
