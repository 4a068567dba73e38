"""Operator command: per scheduled job, the last run, its result and duration, and the lock.

``--check`` turns it into a dead-man's switch: exit 1 when a job is in a state that needs
attention (``operations.states``: overdue, failing ``--failures`` times in a row, notices in
doubt), so it can run as a CronJob of its own and page someone; ``--notify`` also emails the
site admins about each alerted problem, once (docs/monitoring.md).
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from operations.states import JobState
from operations.status import JobStatus, job_statuses
from utils.cli import OneLineErrorsCommand, format_age
from utils.clubtime import club_time_text
from utils.cronjob import positive_int
from utils.exitcodes import ExitCode

BADGE = {
    "succeeded": "✅",
    "failed": "❌",
    "timed_out": "⏱️",
    "interrupted": "🛑",
    "skipped": "⏸️",
    "running": "🏃",
}


class Command(OneLineErrorsCommand):  # a bad option: one line, exit 2
    help = (
        "Show every scheduled job's schedule, next and last run, result, duration, lock holder, "
        "consecutive failures, notices in doubt and whether it is overdue; --check exits 1 when one "
        "needs attention."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("jobs", nargs="*", metavar="JOB", help="Only these jobs (default: every job).")
        parser.add_argument("--json", action="store_true", help="One JSON document for machines.")
        parser.add_argument(
            "--check",
            action="store_true",
            help="Exit 1 when a job is overdue, has failed --failures times in a row or has notices "
            "in doubt (slow jobs and a failure below --failures are listed as warnings; a job that "
            "never ran waits for its first slot).",
        )
        parser.add_argument(
            "--failures",
            type=positive_int,
            default=None,
            help="Consecutive failures that count as a problem (default CRONJOB_ALERT_AFTER_FAILURES, 2).",
        )
        parser.add_argument(
            "--notify",
            action="store_true",
            help="With --check: email the site admins (and Slack) about each problem, once.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        threshold = options["failures"] or settings.CRONJOB_ALERT_AFTER_FAILURES
        if options["notify"] and not options["check"]:
            raise CommandError("--notify needs --check", returncode=ExitCode.USAGE)
        statuses = job_statuses()
        if options["jobs"]:
            unknown = sorted(set(options["jobs"]) - {s.job_name for s in statuses})
            if unknown:
                raise CommandError(f"unknown job(s): {', '.join(unknown)}", returncode=ExitCode.USAGE)
            statuses = [s for s in statuses if s.job_name in options["jobs"]]
        if options["json"]:
            self.stdout.write(json.dumps([as_dict(s, threshold) for s in statuses], indent=2, default=str))
        else:
            self.stdout.write(
                f"{'JOB':<26} {'SCHEDULE':<13} {'LAST RUN (club time)':<22} {'RESULT':<14} {'DURATION':>9}  "
                f"{'NEXT RUN (club time)':<22} {'TZ':<16} {'FAILS':>5}  {'HEALTH':<20} LOCK"
            )
            for status in statuses:
                self.stdout.write(format_row(status, threshold))
        if options["check"]:
            self.report_problems(statuses, threshold, notify=options["notify"], quiet=options["json"])

    def report_problems(
        self, statuses: list[JobStatus], threshold: int, *, notify: bool, quiet: bool
    ) -> None:
        failing = [s for s in statuses if s.needs_attention(threshold)]
        warned = [s for s in statuses if s.slow or s.consecutive_failures]
        if not quiet:
            self.stdout.write("")
            for status in statuses:
                for line in problem_lines(status, threshold):
                    self.stdout.write(line)
            if not failing and not warned:
                self.stdout.write(all_well(statuses, threshold))
        if notify:
            from operations.alerts import notify_problems

            for line in notify_problems(statuses, threshold):
                self.stdout.write(line)
        if failing:
            names = ", ".join(s.job_name for s in failing)
            raise CommandError(f"{len(failing)} job(s) need attention: {names}", returncode=ExitCode.FAILED)


def _club(moment: datetime.datetime | None) -> str:
    return club_time_text(moment) if moment else "-"


def problem_lines(status: JobStatus, threshold: int) -> list[str]:
    lines = []
    name = status.job_name
    if status.overdue is not None:
        lines.append(
            f"❌ {name} is overdue: no run for its slot at {_club(status.overdue.slot)} "
            f"(due by {_club(status.overdue.due_at)}, club time)"
        )
    if status.failing(threshold) and status.streak is not None:
        since = _club(status.streak.first_at)
        lines.append(f"❌ {name} failed {status.streak.failures} times in a row (since {since})")
    if status.in_doubt:
        lines.append(
            f"❌ {name} has {status.in_doubt} notice(s) in doubt: the provider may have them. Check with "
            "the recipients, then resolve them in the admin (Deliveries, status in doubt), or send them "
            f"again with manage.py {name} --send-in-doubt"
        )
    if JobState.FAILED in status.states(threshold) and status.streak is not None:
        error = status.last_finished.error if status.last_finished else ""
        lines.append(
            f"⚠️ {name} failed {status.streak.failures} time(s) in a row (an alert at {threshold}): "
            f"{error or '-'}"
        )
    if status.slow:
        lines.append(f"⚠️ {name} is slow: {status.slowness()}")
    return lines


def all_well(statuses: list[JobStatus], threshold: int) -> str:
    scheduled = [s for s in statuses if s.spec is not None]
    waiting = [s for s in scheduled if s.waiting_until is not None and s.overdue is None]
    if not waiting:
        return f"✅ All {len(scheduled)} scheduled jobs ran on time without repeated failures"
    first = min(s.waiting_until for s in waiting if s.waiting_until is not None)
    return (
        f"✅ No scheduled job needs attention: {len(scheduled) - len(waiting)} ran on time, "
        f"{len(waiting)} waiting for their first slot (the first due by {_club(first)}, club time)"
    )


def health_text(status: JobStatus, threshold: int) -> str:
    """The HEALTH column: every state, those that alert in capitals (FAILING,OVERDUE; ok)."""
    return ",".join(
        state.value.upper() if state.alerts else state.value for state in status.states(threshold)
    )


def format_row(status: JobStatus, threshold: int = 2) -> str:
    run = status.last_run
    if run is None:
        when, result, duration = "never", "-", "-"
    else:
        when = club_time_text(run.started_at)
        result = f"{BADGE.get(run.status, '')} {run.status}"
        duration = f"{run.duration_seconds:.2f}s" if run.duration_seconds is not None else "-"
    lock = "-"
    if status.lock is not None:
        state = "expired" if status.lock.expired else "held"
        lock = f"{state} by {status.lock.holder} for {format_age(status.lock.age)}"
    next_run = _club(status.next_run)
    health = health_text(status, threshold)
    return (
        f"{status.job_name:<26} {status.schedule or '-':<13} {when:<22} {result:<14} {duration:>9}  "
        f"{next_run:<22} {status.timezone or '-':<16} {status.consecutive_failures:>5}  {health:<20} {lock}"
    )


def _iso(moment: datetime.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def as_dict(status: JobStatus, threshold: int = 2) -> dict[str, Any]:
    run = status.last_run
    return {
        "job": status.job_name,
        "schedule": status.schedule,
        "timezone": status.timezone,
        "deadline_seconds": status.deadline.total_seconds() if status.deadline else None,
        "next_run": _iso(status.next_run),
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
        "last_success_at": _iso(status.last_success_at),
        "consecutive_failures": status.consecutive_failures,
        "overdue": status.overdue is not None,
        "overdue_slot": _iso(status.overdue.slot) if status.overdue else None,
        "notices_in_doubt": status.in_doubt,
        "slow": status.slow,
        "state": status.state(threshold).value,
        "states": [state.value for state in status.states(threshold)],
        "first_seen_at": _iso(status.first_seen_at),
        "waiting_until": _iso(status.waiting_until),
        "problems": status.problems(threshold),
        "lock": None
        if status.lock is None
        else {
            "holder": status.lock.holder,
            "age_seconds": status.lock.age.total_seconds(),
            "expires_in_seconds": status.lock.expires_in.total_seconds(),
        },
    }
