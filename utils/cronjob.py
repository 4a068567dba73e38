"""``BaseCronJobCommand``: the base of every scheduled command.

Like Django's ``AppCommand``, the base owns ``handle()``: take the lock, record the run, call
``execute_job()``, release. A subclass sets ``job_name`` (and its schedule facts) and
implements ``execute_job(*args, **options)``; it calls ``self.checkpoint()`` between units of
work, wraps each unit that writes in ``with self.unit_of_work():``, and counts what it did with
``self.count()``. See docs/adding-a-job.md.
"""

from __future__ import annotations

import datetime
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from django.conf import settings
from django.core.management.base import CommandParser, OutputWrapper
from django.db import connections, transaction

from utils import signals
from utils.cli import OneLineErrorsCommand, iso_date, positive_int
from utils.clubtime import club_date, club_today
from utils.cronlog import LOG_FORMATS, CronLogger, first_line, redact
from utils.errors import DATABASE_ERRORS, JobStop, LeaseLost, UsageError, classify_database_error
from utils.exitcodes import CronJobExit, ExitCode
from utils.heartbeat import Heartbeat
from utils.identity import POD_ID_MAX_LENGTH, Occurrence, current_occurrence, pod_id
from utils.locking import Lease
from utils.models import CronJobLock, CronJobRun
from utils.profiling import profiled
from utils.runrecord import RunRecorder
from utils.stopping import StopControl
from utils.takeover import LockTaking, already_succeeded

# positive_int and iso_date are re-exported: commands take them from here with the base.
__all__ = ["BaseCronJobCommand", "iso_date", "positive_int"]

Outcome = tuple[str, int, str]  # (run status, exit code, one line)


class _CommandStream:
    """A command's stdout or stderr as it is when a line is written: a test or a script may
    swap ``command.stdout`` after the logger was made, as with the original system."""

    def __init__(self, command: BaseCronJobCommand, name: str) -> None:
        self.command, self.name = command, name

    def write(self, text: str, /) -> object:
        return getattr(self.command, self.name).write(text)

    def flush(self) -> object:
        return getattr(self.command, self.name).flush()


class BaseCronJobCommand(LockTaking, StopControl, RunRecorder, OneLineErrorsCommand):
    job_name: ClassVar[str] = ""
    # Also a schedule fact; a run may set its own (test_cronjob's --max-seconds). One hour
    # unless the job says otherwise, as in the original system; None: no deadline.
    max_execution_time: datetime.timedelta | None = datetime.timedelta(hours=1)
    # Schedule facts, read by the job registry (utils.registry); None = not scheduled.
    schedule: ClassVar[str | None] = None
    schedule_timezone: ClassVar[str | None] = None  # None: the deployment's default zone
    resource_class: ClassVar[str] = "light"  # see utils.registry.RESOURCE_CLASSES
    # A job that saves files to the default storage (a bucket when one is configured) says so:
    # only its pod is given the storage's credentials.
    uses_storage: ClassVar[bool] = False
    # A slot missed (cluster down, controller late) may still start this long after its time.
    starting_deadline: ClassVar[datetime.timedelta] = datetime.timedelta(minutes=15)
    # A job that sends notices gets --resend (send again what the ledger says was sent today)
    # and --send-in-doubt (send again what the ledger says may or may not have gone out).
    sends_notices: ClassVar[bool] = False
    # A job that must not work on the club's closed days (the closure calendar) says so; the
    # day that counts is closure_day()'s. Such a run records a `skipped` run with the reason.
    skip_on_closed_days: ClassVar[bool] = False

    # Cron commands skip Django's system checks: they cost start-up time on every run, and
    # the image and CI run `manage.py check --deploy` once instead.
    requires_system_checks: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.job_name:
            raise ValueError(f"{type(self).__name__} must define job_name")
        # Usable before handle() (the original's helpers work on a fresh instance); handle()
        # sets the format and verbosity of the run.
        self.logger = CronLogger(
            self.job_name,
            _CommandStream(self, "stdout"),
            _CommandStream(self, "stderr"),
            fmt=settings.CRONJOB_LOG_FORMAT,
        )
        self.verbosity = 1
        self.pod_id = pod_id()  # fixed when the command is made, as in the original
        self.lease: Lease | None = None
        self.run: CronJobRun | None = None
        self.summary: Counter[str] = Counter()
        self.dry_run = False
        self.force = False
        self.resend = False
        self.send_in_doubt = False
        self._stop: JobStop | None = None
        self._in_job = False
        self._heartbeat: Heartbeat | None = None
        self._job_started: float | None = None
        self._lease_taken_at: float | None = None
        self._unit_renewed_at: float | None = None
        self._failures: dict[str, str] = {}  # summary key -> what it counts, for the run's line
        self._occurrence_day: datetime.date | None = None
        self._waiting_for_holder = False  # utils.takeover logs the end of its own wait
        self._cause: BaseException | None = None  # what ended the run, for a call_command caller
        self._returned: object = None  # what execute_job returned

    # --- Public names kept from the original system -----------------------------------------
    @property
    def lock_acquired(self) -> bool:
        return self.lease is not None

    @property
    def verbosity(self) -> int:
        return self.logger.verbosity

    @verbosity.setter
    def verbosity(self, value: int) -> None:
        self.logger.verbosity = value

    def acquire_lock(self) -> bool:
        """Take the job's lock (one conditional statement); False when another pod holds it."""
        occurrence: Occurrence | None = getattr(self, "occurrence", None)
        self._lease_taken_at = time.monotonic()
        self.lease = CronJobLock.objects.acquire(
            self.job_name,
            self.pod_id,
            float(settings.CRONJOB_LEASE_SECONDS),
            occurrence=occurrence.name if occurrence else "",
        )
        if self.lease is not None and self.lease.replaced and not self._waiting_for_holder:
            self.logger.log("replaced", f"Replaced expired lock for {self.job_name}", min_verbosity=2)
        return self.lease is not None

    def release_lock(self) -> bool:
        """Release the lock if this run still owns it; never touches another holder's lock."""
        if self.lease is None:
            return False
        # The lease is forgotten only once the release went through: a retry on a new
        # connection (after a broken one) must still be able to release it.
        released = CronJobLock.objects.release(self.lease)
        self.lease = None
        if released:
            self.log("released", "Released lock")
        else:
            self.log_warning(
                f"Lock for {self.job_name} was not found during release (its lease ran out): "
                "another pod's lock, if any, was left alone"
            )
        return released

    def log(self, event: str, message: str, **fields: Any) -> None:
        self.logger.log(event, message, **fields)

    def log_info(self, message: str, **fields: Any) -> None:
        self.logger.log("info", message, **fields)

    def log_success(self, message: str, **fields: Any) -> None:
        self.logger.log("completed", message, **fields)

    def log_warning(self, message: str, **fields: Any) -> None:
        self.logger.log("warning", message, **fields)

    def log_error(self, message: str, **fields: Any) -> None:
        self.logger.log("failed", message, **fields)

    # --- What a job uses while it works ------------------------------------------------------
    def execute_job(self, *args: Any, **options: Any) -> object:
        """The job's work. A text it returns is printed after the run's last line (as the
        original printed it) and returned by ``handle()`` and ``call_command()``."""
        raise NotImplementedError("subclasses of BaseCronJobCommand must implement execute_job()")

    def validate_options(self, options: dict[str, Any]) -> None:
        """Check option values before anything runs; raise ``UsageError`` (exit 2)."""

    def count(self, key: str, n: int = 1) -> None:
        self.summary[key] += n

    def count_failure(self, key: str, phrase: str, n: int = 1) -> None:
        """Count something that makes the run fail once the rest of its work is done: the run
        ends ``failed`` (exit 1) with one line naming it, e.g. "failed: 2 notice(s) not sent"."""
        self.summary[key] += n
        self._failures[key] = phrase

    def remaining_time(self) -> datetime.timedelta | None:
        """Time left before ``max_execution_time`` stops the job; None without a deadline."""
        if self.max_execution_time is None or self._job_started is None:
            return None
        elapsed = datetime.timedelta(seconds=time.monotonic() - self._job_started)
        return max(self.max_execution_time - elapsed, datetime.timedelta(0))

    @contextmanager
    def unit_of_work(self) -> Iterator[None]:
        """One atomic unit of writes, fenced by the lease.

        The unit first renews the lease inside its own transaction: that fails if the lease
        ran out (so a run that stalled past its lease writes nothing more), and it holds the
        lock row until commit, so nobody can take the lock over half-way through the unit.
        """
        self.checkpoint()
        renewing = time.monotonic()
        with transaction.atomic():
            if self.lease is not None and not CronJobLock.objects.renew(self.lease):
                self._request_stop(LeaseLost(self.job_name))
                self.checkpoint()
            yield
        if self.lease is not None and not transaction.get_connection().in_atomic_block:
            self._unit_renewed_at = renewing  # committed: the lease lasts from here

    def closure_day(self, options: dict[str, Any]) -> datetime.date:
        """The club day whose closure stops this run: by default the run's own day."""
        return self.occurrence_day

    @property
    def occurrence_day(self) -> datetime.date:
        """The club-local day this run is for: its scheduled slot's, else the day it started.
        Fixed as the run starts, so that what a job selects and what its ledger records agree
        even when the run crosses midnight; jobs select with it rather than ``club_today()``."""
        if self._occurrence_day is None:
            self._occurrence_day = self._day_of_occurrence()
        return self._occurrence_day

    def _day_of_occurrence(self) -> datetime.date:
        scheduled = self.occurrence.scheduled_for
        return club_date(scheduled) if scheduled is not None else club_today()

    # --- Arguments -------------------------------------------------------------------------
    def command_label(self, subcommand: str) -> str:
        return self.job_name

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Select and report what would be done; write nothing to the database, send nothing.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even if this occurrence already succeeded (the lock is still respected).",
        )
        parser.add_argument(
            "--occurrence",
            help="Name of the slot this run is for (set by schedulers; default: the Kubernetes "
            "Job name, else a new manual id).",
        )
        if self.skip_on_closed_days:
            parser.add_argument(
                "--ignore-closures",
                action="store_true",
                help="Run even if the club calendar says the club is closed that day.",
            )
        if self.sends_notices:
            parser.add_argument(
                "--resend",
                action="store_true",
                help="Send again the notices this job already sent for this day.",
            )
            parser.add_argument(
                "--send-in-doubt",
                action="store_true",
                help="Send again this job's notices in doubt for this day (their provider may have "
                "them: check first); an email keeps its Message-ID.",
            )
        parser.add_argument(
            "--profile",
            action="store_true",
            help="Log how long execute_job took, its query count and the process's peak memory.",
        )
        parser.add_argument(
            "--log-format",
            choices=LOG_FORMATS,
            default=None,
            help="text (emoji lines), plain (emoji lines without the [job] tag, as the original "
            "system printed them) or json (one object per line); default CRONJOB_LOG_FORMAT.",
        )

    # --- The run -----------------------------------------------------------------------------
    def handle(self, *args: Any, **options: Any) -> str | None:
        """The run. Options may be partial, as when a test or script calls ``handle()`` itself
        (the parser's defaults apply); a ``stdout``/``stderr`` among them is written to. Returns
        the text ``execute_job()`` returned (Django prints it, as the original did)."""
        for name in ("stdout", "stderr"):
            stream = options.get(name)
            if stream is not None and getattr(getattr(self, name), "_out", None) is not stream:
                setattr(self, name, stream if isinstance(stream, OutputWrapper) else OutputWrapper(stream))
        self.dry_run = options.get("dry_run", False)
        self.force = options.get("force", False)
        self.resend = options.get("resend", False)
        self.send_in_doubt = options.get("send_in_doubt", False)
        self.verbosity = options.get("verbosity", 1)
        self.logger.fmt = options.get("log_format") or settings.CRONJOB_LOG_FORMAT
        self.logger.context = {"pod": self.pod_id}
        self._returned, self._cause = None, None
        try:
            self.occurrence: Occurrence = current_occurrence(self.job_name, options.get("occurrence"))
        except ValueError as exc:
            self._fail(ExitCode.USAGE, f"bad occurrence: {exc}")
        if len(self.pod_id) > POD_ID_MAX_LENGTH:
            self._fail(
                ExitCode.USAGE,
                f"POD_NAME is {len(self.pod_id)} characters long, more than {POD_ID_MAX_LENGTH}",
            )
        self.logger.context["occurrence"] = self.occurrence.name
        self._occurrence_day = self._day_of_occurrence()  # fixed now, for the whole run
        try:
            self.validate_options(options)
        except UsageError as exc:
            self._fail(ExitCode.USAGE, f"bad arguments: {exc}")
        except DATABASE_ERRORS as exc:
            self._fail(*classify_database_error(exc))
        with self._stop_signals():
            if self.dry_run:
                self._run_dry(args, options)
            else:
                self._run_locked(args, options)
        return self._returned_text()

    def _returned_text(self) -> str | None:
        """What execute_job returned, if text: Django prints it after the run's last line. A
        JSON log gets it as a line of its own instead, so every line stays one object."""
        if not isinstance(self._returned, str) or not self._returned:
            return None
        if self.logger.fmt == "json":
            self.logger.log("result", self._returned, min_verbosity=0)
            return None
        return self._returned

    def _fail(self, code: int, message: str, cause: BaseException | None = None) -> None:
        message = redact(message)
        self.log_error(f"{message} (exit {code})")
        # A caller of call_command gets the exit code (``returncode``, as on CommandError) and,
        # as __cause__, the exception the job raised.
        raise CronJobExit(code, message) from cause

    def _run_dry(self, args: tuple[Any, ...], options: dict[str, Any]) -> None:
        self.logger.log("dry_run", f"DRY RUN: {self.job_name} (no changes will be made)", min_verbosity=0)
        started = time.monotonic()
        try:
            closed = self._closure(options)
            if closed is not None:
                self.log("skipped", closed)
                return
            self.logger.log("dry_run_lock", "Skipping lock acquisition for dry run", min_verbosity=0)
            self._log_starting()
            # Belt and braces: whatever the job does, its writes are rolled back.
            with transaction.atomic():
                self._execute(args, options)
                transaction.set_rollback(True)
            status, code, message = self._result()
        except BaseException as exc:  # noqa: BLE001 - every way out maps to one line
            status, code, message = self._outcome(exc)
            self._cause = exc
        self._report(status, code, message, time.monotonic() - started)

    def _log_starting(self) -> None:
        self.logger.log("starting", f"Starting {self.job_name} on pod {self.pod_id}", min_verbosity=0)

    def _run_locked(self, args: tuple[Any, ...], options: dict[str, Any]) -> None:
        try:
            not_taken = self._take_lock()
        except DATABASE_ERRORS as exc:
            self._fail(*classify_database_error(exc))
        except JobStop as exc:  # a signal, or a live run of this occurrence: nothing recorded
            self._fail(int(exc.exit_code), str(exc))
        if not_taken is not None:
            self._record_skip(not_taken.reason, not_taken.summary)
            return
        try:
            status, code, message, duration = self._run_holding_lock(args, options)
        finally:
            self._stop_heartbeat()
            self._best_effort(self.release_lock)
        self._report(status, code, message, duration)

    def _run_holding_lock(
        self, args: tuple[Any, ...], options: dict[str, Any]
    ) -> tuple[str, int, str, float]:
        started = time.monotonic()
        try:
            if not self.force and self._occurrence_succeeded():
                self._record_skip(
                    already_succeeded(self.job_name, self.occurrence.name), {"already_done": True}
                )
                return CronJobRun.Status.SKIPPED, ExitCode.OK, "", 0.0
            closed = self._closure(options)
            if closed is not None:
                self._record_skip(closed, {"closed": True})
                return CronJobRun.Status.SKIPPED, ExitCode.OK, "", 0.0
            self._close_abandoned_runs()
            self.run = CronJobRun.objects.create(
                job_name=self.job_name,
                occurrence=self.occurrence.name,
                trigger=self.occurrence.trigger,
                scheduled_for=self.occurrence.scheduled_for,
                pod=self.pod_id,
                forced=self.force,
            )
            self.logger.context["run_id"] = self.run.pk
            self.log("lock_acquired", f"Acquired lock for pod: {self.pod_id}")
            self._start_heartbeat()
            self._observe(signals.run_started)
            self._log_starting()
            self._execute(args, options)
            status, code, message = self._result()
        except BaseException as exc:  # noqa: BLE001 - every way out maps to one line
            status, code, message = self._outcome(exc)
            self._cause = exc
        duration = time.monotonic() - started
        if self.run is not None:
            self._best_effort(self._finish_run, status, code, message, duration)
            self._observe(signals.run_finished, status=status, message=message, duration=duration)
        return status, code, message, duration

    def _execute(self, args: tuple[Any, ...], options: dict[str, Any]) -> None:
        self._in_job = True
        self._job_started = time.monotonic()
        self._arm_deadline()
        try:
            self.checkpoint()
            if options.get("profile"):
                with profiled() as profile:
                    self._returned = self.execute_job(*args, **options)
                self.log(
                    "profile",
                    profile.line(),
                    seconds=round(profile.seconds, 4),
                    queries=profile.queries,
                    peak_rss_mib=round(profile.peak_rss_mib, 1),
                )
            else:
                self._returned = self.execute_job(*args, **options)
        finally:
            self._in_job = False
            self._disarm_timer()

    def _result(self) -> Outcome:
        failures = [
            f"{self.summary[key]} {phrase}" for key, phrase in self._failures.items() if self.summary[key]
        ]
        if failures:
            return CronJobRun.Status.FAILED, ExitCode.FAILED, "failed: " + ", ".join(failures)
        return CronJobRun.Status.SUCCEEDED, ExitCode.OK, ""

    def _outcome(self, exc: BaseException) -> Outcome:
        """(status, exit code, one line) for the way a run ended; the line is redacted, since it
        is stored on the run and shown by cron_status, the dashboard and the alerts."""
        status, code, message = self._classify(exc)
        return status, code, redact(message)

    def _classify(self, exc: BaseException) -> Outcome:
        if isinstance(exc, JobStop):
            return exc.status, int(exc.exit_code), str(exc)
        if isinstance(exc, KeyboardInterrupt):
            return CronJobRun.Status.INTERRUPTED, ExitCode.SIGINT, "interrupted by SIGINT"
        if isinstance(exc, UsageError):
            return CronJobRun.Status.FAILED, ExitCode.USAGE, f"bad arguments: {exc}"
        if self.verbosity >= 2:
            self.stderr.write(redact("".join(traceback.format_exception(exc))))
        if isinstance(exc, DATABASE_ERRORS):
            connections["default"].close()  # a broken connection is replaced on next use
            code, message = classify_database_error(exc)
            return CronJobRun.Status.FAILED, code, message
        if not isinstance(exc, Exception):
            raise exc  # SystemExit and friends are not ours to swallow
        return (
            CronJobRun.Status.FAILED,
            ExitCode.FAILED,
            f"failed: {type(exc).__name__}: {first_line(exc, '')}",
        )

    def _report(self, status: str, code: int, message: str, duration: float) -> None:
        counts = " ".join(f"{k}={v}" for k, v in sorted(self.summary.items()))
        suffix = f" ({counts})" if counts else ""
        if code == ExitCode.OK:
            if status != CronJobRun.Status.SKIPPED:
                self.logger.log(
                    "completed", f"Completed {self.job_name} in {duration:.2f}s{suffix}", min_verbosity=0
                )
            return
        self._returned = None
        detail = (message or status).removeprefix("failed: ")
        self._fail(code, f"Job {self.job_name} failed: {detail} after {duration:.2f}s{suffix}", self._cause)

    def _closure(self, options: dict[str, Any]) -> str | None:
        """Why this run must not work (the club is closed on its day), else None."""
        if not self.skip_on_closed_days or options.get("ignore_closures"):
            return None
        day = self.closure_day(options)
        reason = signals.closed_reason(self, day)
        if reason is None:
            return None
        return f"Club closed on {day} ({reason}): nothing done (--ignore-closures runs it anyway)"
