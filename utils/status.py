"""What operators ask of the run history: per job, the last run and who holds the lock."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import F, Window
from django.db.models.functions import Now, RowNumber

from utils.models import CronJobLock, CronJobRun
from utils.registry import cron_commands


@dataclass(frozen=True)
class HeldLock:
    job_name: str
    holder: str
    age: datetime.timedelta
    expires_in: datetime.timedelta

    @property
    def expired(self) -> bool:
        return self.expires_in <= datetime.timedelta(0)


@dataclass(frozen=True)
class JobStatus:
    job_name: str
    schedule: str | None
    last_run: CronJobRun | None
    lock: HeldLock | None


def held_locks() -> dict[str, HeldLock]:
    """Every lock row, with age and time left measured on the database's clock (one query)."""
    rows = CronJobLock.objects.annotate(db_now=Now()).order_by("job_name")
    return {
        row.job_name: HeldLock(
            job_name=row.job_name,
            holder=row.locked_by,
            age=row.db_now - row.locked_at,
            expires_in=row.expires_at - row.db_now,
        )
        for row in rows
    }


def latest_runs() -> dict[str, CronJobRun]:
    """The latest run of every job that has run (one query, whatever the history's size)."""
    ranked = CronJobRun.objects.annotate(
        rank=Window(RowNumber(), partition_by=[F("job_name")], order_by=F("started_at").desc())
    ).filter(rank=1)
    return {run.job_name: run for run in ranked}


def job_statuses() -> list[JobStatus]:
    """Registered jobs first (in name order), then any other job seen in the history."""
    commands = cron_commands()
    runs = latest_runs()
    locks = held_locks()
    names = list(commands) + sorted((set(runs) | set(locks)) - set(commands))
    return [
        JobStatus(
            job_name=name,
            schedule=commands[name].schedule if name in commands else None,
            last_run=runs.get(name),
            lock=locks.get(name),
        )
        for name in names
    ]


def format_age(delta: datetime.timedelta) -> str:
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 120:
        return f"{sign}{seconds}s"
    if seconds < 7200:
        return f"{sign}{seconds // 60}m"
    if seconds < 172800:
        return f"{sign}{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{sign}{seconds // 86400}d"
