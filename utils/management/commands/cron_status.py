"""Operator command: per scheduled job, the last run, its result and duration, and the lock."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from utils.status import JobStatus, format_age, job_statuses

BADGE = {
    "succeeded": "✅",
    "failed": "❌",
    "timed_out": "⏱️",
    "interrupted": "🛑",
    "skipped": "⏸️",
    "running": "🏃",
}


class Command(BaseCommand):
    help = "Show every scheduled job's last run, result, duration and current lock holder."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="One JSON document for machines.")

    def handle(self, *args: Any, **options: Any) -> None:
        statuses = job_statuses()
        if options["json"]:
            self.stdout.write(json.dumps([as_dict(s) for s in statuses], indent=2, default=str))
            return
        self.stdout.write(
            f"{'JOB':<26} {'SCHEDULE':<13} {'LAST RUN (club time)':<22} {'RESULT':<14} {'DURATION':>9}  LOCK"
        )
        for status in statuses:
            self.stdout.write(format_row(status))


def format_row(status: JobStatus) -> str:
    run = status.last_run
    if run is None:
        when, result, duration = "never", "-", "-"
    else:
        when = timezone.localtime(run.started_at).strftime("%Y-%m-%d %H:%M")
        result = f"{BADGE.get(run.status, '')} {run.status}"
        duration = f"{run.duration_seconds:.2f}s" if run.duration_seconds is not None else "-"
    lock = "-"
    if status.lock is not None:
        state = "expired" if status.lock.expired else "held"
        lock = f"{state} by {status.lock.holder} for {format_age(status.lock.age)}"
    return f"{status.job_name:<26} {status.schedule or '-':<13} {when:<22} {result:<14} {duration:>9}  {lock}"


def as_dict(status: JobStatus) -> dict[str, Any]:
    run = status.last_run
    return {
        "job": status.job_name,
        "schedule": status.schedule,
        "last_run": None
        if run is None
        else {
            "id": run.pk,
            "occurrence": run.occurrence,
            "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "status": run.status,
            "duration_seconds": run.duration_seconds,
            "summary": run.summary,
            "error": run.error,
        },
        "lock": None
        if status.lock is None
        else {
            "holder": status.lock.holder,
            "age_seconds": status.lock.age.total_seconds(),
            "expires_in_seconds": status.lock.expires_in.total_seconds(),
        },
    }
