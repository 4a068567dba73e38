"""A month of the scheduled jobs' life for the demo club (``seed_demo --history N``).

Every slot of every registered scheduled job in the last N UTC days (and today so far) gets
the run a CronJob would have left: a ``CronJobRun`` started a few seconds after its slot by a
pod named after the Kubernetes Job, with a duration and counts typical of the job. A few things
go wrong, as they do in a real month, each placed relative to the end of the history:

- ``send_deferred_notices`` failed three times in a row nine days ago (the last one timed out),
  then recovered;
- ``notify_pilot_currency`` failed at its last two slots: it is *failing* now;
- ``send_maintenance_digest`` failed once, run by hand after its scheduled success: *failed*;
- ``notify_late_sprs`` took 85% of its deadline at its last slot: *slow*;
- ``send_duty_preop_emails`` skipped a closed day, and a duplicate Job of ``expire_ad_hoc_days``
  skipped because the first one held the lock;
- ``report_duty_delinquents`` is being run by hand right now: its lock is held by a live run
  (*running*; the lock lasts until the run's deadline, as its heartbeat would keep it).

The days before today are rolled up by the analytics code (``operations.analytics``), as
``aggregate_cron_analytics`` would have, and each job is known (``KnownJob``) since the history
began. Every value comes from ``random.Random(f"{seed}:history:{job}:{slot}")``: the same seed
and end give the same rows.
"""

from __future__ import annotations

import datetime
import hashlib
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from operations import analytics
from operations.models import CronJobDailyStats, CronJobHourlyStats, KnownJob
from utils.clubtime import club_today
from utils.models import CronJobLock, CronJobRun
from utils.registry import JobSpec, job_specs
from utils.timing import occurrences

Status = CronJobRun.Status
MAX_DAYS = 366
FAILING = "notify_pilot_currency"
STREAK = "send_deferred_notices"
FAILED_ONCE = "send_maintenance_digest"
SLOW = "notify_late_sprs"
CLOSED = "send_duty_preop_emails"
DUPLICATE = "expire_ad_hoc_days"
RUNNING = "report_duty_delinquents"
Summary = Callable[[random.Random, datetime.datetime], dict[str, Any]]


def _notices(low: int, high: int, processed: int | None = None) -> Summary:
    def summary(rng: random.Random, slot: datetime.datetime) -> dict[str, Any]:
        sent = rng.randint(low, high)
        return {"processed": processed if processed is not None else sent, "sent": sent}

    return summary


def _rollup(rng: random.Random, slot: datetime.datetime) -> dict[str, Any]:
    whole_day = slot.hour == 0
    return {"hours": 25 if whole_day else 1, "days": int(whole_day), "rows": rng.randint(6, 14), "pruned": 0}


# Per job: its usual duration in seconds, and the counts its runs report.
PROFILES: dict[str, tuple[float, Summary]] = {
    "aggregate_cron_analytics": (0.5, _rollup),
    "expire_ad_hoc_days": (0.3, _notices(0, 2)),
    "notify_aging_logsheets": (1.1, _notices(1, 2, processed=1)),
    "notify_late_sprs": (2.4, _notices(2, 4, processed=1)),
    "notify_pilot_currency": (1.7, _notices(0, 4, processed=75)),
    "report_duty_delinquents": (5.8, _notices(8, 8, processed=19)),
    "send_deferred_notices": (0.2, _notices(0, 3)),
    "send_duty_preop_emails": (0.9, _notices(5, 6, processed=1)),
    "send_maintenance_digest": (1.4, _notices(4, 4, processed=3)),
}
DEFAULT_PROFILE: tuple[float, Summary] = (0.5, lambda rng, slot: {"processed": rng.randint(0, 5)})


@dataclass
class History:
    """What ``build_history`` wrote, for the summary."""

    start: datetime.datetime
    end: datetime.datetime
    runs: Counter[str] = field(default_factory=Counter)  # by status
    days_rolled_up: int = 0
    notes: list[str] = field(default_factory=list)  # what went wrong, one line each


def _token(*parts: object) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()


def _scheduled_run(spec: JobSpec, slot: datetime.datetime, seed: int) -> CronJobRun:
    rng = random.Random(f"{seed}:history:{spec.command}:{slot.isoformat()}")  # noqa: S311 - demo data
    base, summary = PROFILES.get(spec.command, DEFAULT_PROFILE)
    occurrence = f"{spec.cronjob_name}-{int(slot.timestamp()) // 60}"
    started = slot + datetime.timedelta(seconds=rng.uniform(2, 25))
    duration = round(base * rng.uniform(0.7, 1.4), 3)
    return CronJobRun(
        job_name=spec.command,
        occurrence=occurrence,
        trigger=CronJobRun.Trigger.SCHEDULED,
        scheduled_for=slot,
        pod=f"{occurrence}-{_token(seed, occurrence)[:5]}",
        started_at=started,
        finished_at=started + datetime.timedelta(seconds=duration),
        status=Status.SUCCEEDED,
        duration_seconds=duration,
        summary=summary(rng, slot),
        exit_code=0,
    )


def _fail(run: CronJobRun, error: str, status: str = Status.FAILED) -> None:
    run.status, run.error, run.exit_code = status, error, 1
    run.summary = {**run.summary, "failed": run.summary.get("sent", 0) or 1, "sent": 0}


def _slow(run: CronJobRun, spec: JobSpec) -> None:
    run.duration_seconds = round(0.85 * spec.deadline.total_seconds(), 3)
    run.finished_at = run.started_at + datetime.timedelta(seconds=run.duration_seconds)


def _manual_run(spec: JobSpec, started: datetime.datetime, seed: int, **fields: Any) -> CronJobRun:
    occurrence = f"{spec.cronjob_name}-manual-{int(started.timestamp())}"
    return CronJobRun(
        job_name=spec.command,
        occurrence=occurrence,
        trigger=CronJobRun.Trigger.MANUAL,
        pod=f"{occurrence}-{_token(seed, occurrence)[:5]}",
        started_at=started,
        **fields,
    )


def job_runs(spec: JobSpec, start: datetime.datetime, end: datetime.datetime, seed: int) -> list[CronJobRun]:
    """The runs of ``spec``'s slots in [start, end) that were over by ``end``, with the
    month's mishaps of that job."""
    runs = []
    for slot in occurrences(spec.schedule, spec.timezone, start - datetime.timedelta(microseconds=1)):
        if slot >= end:
            break
        run = _scheduled_run(spec, slot, seed)
        if run.finished_at is not None and run.finished_at <= end:
            runs.append(run)
    if not runs:
        return runs
    if spec.command == FAILING:
        for run in runs[-2:]:
            _fail(run, f"failed: {run.summary.get('sent', 0) or 1} notice(s) not sent")
    elif spec.command == STREAK:
        nine_days_ago = end - datetime.timedelta(days=9)
        streak = [run for run in runs if run.started_at >= nine_days_ago][:3]
        if len(streak) == 3 and streak[-1] is not runs[-1]:
            _fail(streak[0], "failed: OperationalError: could not connect to server: Connection refused")
            _fail(streak[1], "failed: OperationalError: could not connect to server: Connection refused")
            _fail(streak[2], "timed out after 10m (max_execution_time)", Status.TIMED_OUT)
    elif spec.command == SLOW:
        _slow(runs[-1], spec)
    elif spec.command == CLOSED and len(runs) > 12:
        closed = runs[-12]
        closed.status, closed.duration_seconds, closed.finished_at = Status.SKIPPED, 0.0, closed.started_at
        closed.error = (
            f"Club closed on {closed.started_at.date()} (annual general meeting): nothing done "
            "(--ignore-closures runs it anyway)"
        )
        closed.summary = {"closed": True}
    elif spec.command == DUPLICATE and len(runs) > 5:
        first = runs[-5]
        skip_at = first.started_at + datetime.timedelta(seconds=2)
        duplicate = _scheduled_run(spec, first.scheduled_for or first.started_at, seed + 1)
        duplicate.occurrence = first.occurrence
        duplicate.started_at = duplicate.finished_at = skip_at
        duplicate.status, duplicate.duration_seconds = Status.SKIPPED, 0.0
        duplicate.error = f"{spec.command} is already running on {first.pod}"
        duplicate.summary = {"held_by": first.pod}
        runs.append(duplicate)
    elif spec.command == FAILED_ONCE:
        failed_at = max(end - datetime.timedelta(minutes=10), runs[-1].finished_at or end)
        failed_at += datetime.timedelta(seconds=5)
        if failed_at < end:
            failed = _manual_run(
                spec, failed_at, seed, finished_at=failed_at + datetime.timedelta(seconds=0.8),
                status=Status.FAILED, duration_seconds=0.8, summary={"processed": 3, "failed": 1},
                error="failed: 1 notice(s) not sent", exit_code=1,
            )  # fmt: skip
            runs.append(failed)
    return runs


def live_run(spec: JobSpec, end: datetime.datetime, seed: int) -> tuple[CronJobRun, CronJobLock]:
    """A run of ``spec`` started by hand 150 s before ``end``, still going, and its lock."""
    started = end - datetime.timedelta(seconds=150)
    run = _manual_run(spec, started, seed)
    lock = CronJobLock(
        job_name=spec.command,
        locked_by=run.pod,
        token=_token(seed, run.occurrence)[:32],
        occurrence=run.occurrence,
        locked_at=started,
        expires_at=started + spec.deadline,
    )
    return run, lock


def roll_up(start: datetime.datetime, end: datetime.datetime) -> int:
    """The daily and hourly rows of every whole UTC day in [start, end), and the whole hours of
    the last day, as aggregate_cron_analytics would have written them; returns the days."""
    day, days = start.date(), 0
    while analytics.utc_midnight(day) + analytics.DAY <= end:
        midnight = analytics.utc_midnight(day)
        tallies = analytics.tally(midnight, midnight + analytics.DAY, whole_day=True)
        analytics.save(CronJobDailyStats, "day", tallies.days, (day, day + analytics.DAY), end)
        analytics.save(CronJobHourlyStats, "hour", tallies.hours, (midnight, midnight + analytics.DAY), end)
        day, days = day + analytics.DAY, days + 1
    midnight = analytics.utc_midnight(day)
    hour = end.replace(minute=0, second=0, microsecond=0)
    if hour > midnight:
        tallies = analytics.tally(midnight, hour, whole_day=False)
        analytics.save(CronJobHourlyStats, "hour", tallies.hours, (midnight, hour), end)
    return days


def history_end(today: datetime.date) -> datetime.datetime:
    """Now, for the club's today; noon (club time) of another --today, so that its history is the
    same on every run."""
    if today == club_today():
        return timezone.now()
    return timezone.make_aware(datetime.datetime.combine(today, datetime.time(12)))


def build_history(days: int, end: datetime.datetime, seed: int) -> History:
    """Write ``days`` whole UTC days of runs before ``end``'s day, and that day until ``end``."""
    start = analytics.utc_midnight(end.astimezone(datetime.UTC).date() - datetime.timedelta(days=days))
    history = History(start=start, end=end)
    specs = job_specs()
    runs: list[CronJobRun] = []
    lock = None
    for spec in specs:
        runs.extend(job_runs(spec, start, end, seed))
        if spec.command == RUNNING:
            running, lock = live_run(spec, end, seed)
            runs.append(running)
    CronJobRun.objects.bulk_create(runs, batch_size=2000)
    if lock is not None:
        CronJobLock.objects.filter(job_name=lock.job_name).delete()
        lock.save()
    KnownJob.objects.filter(job_name__in=[spec.command for spec in specs]).delete()
    KnownJob.objects.bulk_create(KnownJob(job_name=spec.command, first_seen_at=start) for spec in specs)
    history.runs.update(run.status for run in runs)
    history.days_rolled_up = roll_up(start, end)
    history.notes = [
        f"{FAILING} failed at its last two slots (failing); {STREAK} failed three times in a row nine "
        "days ago, then recovered",
        f"{FAILED_ONCE} failed once, run by hand; {SLOW} took 85% of its deadline (slow)",
        f"{CLOSED} skipped a closed day; a duplicate Job of {DUPLICATE} skipped (lock held)",
        f"{RUNNING} is running now, by hand (its lock is held until {lock.expires_at:%H:%M} UTC)"
        if lock is not None
        else f"{RUNNING} is not registered: no live run",
    ]
    return history


def history_lines(history: History) -> list[str]:
    runs = history.runs
    return [
        f"Run history from {history.start:%Y-%m-%d %H:%M} to {history.end:%Y-%m-%d %H:%M} UTC: "
        f"{sum(runs.values()):,} runs ({runs[Status.SUCCEEDED]:,} succeeded, {runs[Status.FAILED]} failed, "
        f"{runs[Status.TIMED_OUT]} timed out, {runs[Status.SKIPPED]} skipped, "
        f"{runs[Status.RUNNING]} running), {history.days_rolled_up} days rolled up",
        *(f"  {note}" for note in history.notes),
    ]
