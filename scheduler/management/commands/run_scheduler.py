"""Run the scheduled jobs without Kubernetes: each due slot becomes a ``manage.py <job>`` child.

See docs/scheduling.md: the DST rule, missed slots, deadlines, signals, systemd.
"""

from __future__ import annotations

import argparse
import datetime
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from croniter import croniter
from django.conf import settings
from django.core.management.base import CommandParser

from scheduler.children import ProcessLauncher
from scheduler.clock import SystemClock
from scheduler.dst import preview
from scheduler.records import RunRecords
from scheduler.scheduler import Scheduler
from scheduler.text import SchedulerLogger
from utils.cli import OneLineErrorsCommand, duration
from utils.cronlog import LOG_FORMATS
from utils.exitcodes import CronJobExit, ExitCode
from utils.registry import JobSpec, job_spec, job_specs
from utils.timing import timing_problems

# Past its max_execution_time a job's own timer stops it within CRONJOB_STOP_GRACE_SECONDS;
# the scheduler steps in only this much later than that.
OVERRUN_SLACK_SECONDS = 2.0


class Command(OneLineErrorsCommand):
    help = (
        "Run every scheduled job on its schedule as a child process (manage.py <job>), without "
        "Kubernetes; --list shows the next runs, --once JOB runs one job now. Arguments after -- "
        "are passed to each job started."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--list", action="store_true", help="Print each job's next 3 runs and exit.")
        mode.add_argument(
            "--once", metavar="JOB", help="Run JOB now through the scheduler and exit with its code."
        )
        mode.add_argument(
            "--for", dest="run_for", type=duration, metavar="DURATION", help="Stop after 5s, 10m, 2h..."
        )
        parser.add_argument(
            "--job", action="append", metavar="JOB", help="Schedule only this job (repeatable)."
        )
        parser.add_argument(
            "--log-format", choices=LOG_FORMATS, default=None, help="Default CRONJOB_LOG_FORMAT."
        )
        # Test and diagnosis only: a schedule and a deadline for the --job(s) chosen.
        parser.add_argument("--schedule", help=argparse.SUPPRESS)
        parser.add_argument("--deadline", type=duration, help=argparse.SUPPRESS)
        parser.add_argument("job_args", nargs="*", metavar="-- ARGS", help="Arguments for each job started.")

    def handle(self, *args: Any, **options: Any) -> None:
        logger = SchedulerLogger(
            "scheduler",
            self.stdout,
            self.stderr,
            fmt=options["log_format"] or settings.CRONJOB_LOG_FORMAT,
            verbosity=options["verbosity"],
        )
        if options["job_args"] and not (options["once"] or options["job"]):
            self.usage_error("arguments for the jobs (after --) need --once or --job")
        if options["once"]:
            specs = [self.once_spec(options["once"], options)]
        else:
            specs = self.scheduled_specs(options)
        if options["list"]:
            now = datetime.datetime.now(datetime.UTC)
            for index, spec in enumerate(specs):
                self.stdout.write(
                    ("\n" if index else "") + "\n".join(preview(spec, now, 3, settings.CLUB_TIMEZONE))
                )
            return
        for spec in specs:
            for problem in timing_problems(spec, settings.CRONJOB_LEASE_SECONDS) if spec.schedule else ():
                logger.log("warning", problem)
        margin = settings.CRONJOB_STOP_GRACE_SECONDS + OVERRUN_SLACK_SECONDS
        scheduler = Scheduler(
            [] if options["once"] else specs,
            clock=SystemClock(),
            launcher=ProcessLauncher(),
            logger=logger,
            records=RunRecords(),
            job_args=options["job_args"],
            grace=settings.CRONJOB_SCHEDULER_GRACE_SECONDS,
            overrun_margin=margin,
            kill_after=margin,
        )
        with forwarding_signals(scheduler):
            if options["once"]:
                code = scheduler.run_once(specs[0])
                if code != ExitCode.OK:
                    self.exit(code)
                return
            until = None
            if options["run_for"] is not None:
                until = datetime.datetime.now(datetime.UTC) + options["run_for"]
            scheduler.run(until=until)

    def once_spec(self, name: str, options: dict[str, Any]) -> JobSpec:
        try:
            spec = job_spec(name)
        except KeyError:
            self.usage_error(f"--once: {name!r} is not a cron job command (see cron_status)")
        except ValueError as exc:
            self.usage_error(f"--once: {exc}")
        return self.overridden(spec, options)

    def scheduled_specs(self, options: dict[str, Any]) -> list[JobSpec]:
        names = options["job"]
        if not names:
            if options["schedule"] or options["deadline"]:
                self.usage_error("--schedule and --deadline need --job")
            return job_specs()
        specs = []
        scheduled = {spec.command: spec for spec in job_specs()}
        for name in names:
            spec = scheduled.get(name)
            if spec is None and options["schedule"]:
                spec = self.once_spec(name, {})  # an unscheduled command, given a schedule
            if spec is None:
                self.usage_error(f"--job: no scheduled job {name!r} (scheduled: {', '.join(scheduled)})")
            specs.append(self.overridden(spec, options))
        return specs

    def overridden(self, spec: JobSpec, options: dict[str, Any]) -> JobSpec:
        if options.get("schedule"):
            if not croniter.is_valid(options["schedule"]):
                self.usage_error(f"--schedule: {options['schedule']!r} is not a cron expression")
            spec = replace(spec, schedule=options["schedule"])
        if options.get("deadline"):
            spec = replace(spec, deadline=options["deadline"])
        return spec

    def exit(self, code: int) -> None:
        raise CronJobExit(code, f"the job exited {code}")


@contextmanager
def forwarding_signals(scheduler: Scheduler) -> Iterator[None]:
    """SIGTERM/SIGINT ask the scheduler to stop (it passes them on to its children)."""

    def handler(signum: int, frame: object) -> None:
        scheduler.request_stop(signum)

    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
