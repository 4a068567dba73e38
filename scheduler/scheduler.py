"""The scheduler: each job's due slot becomes a child ``manage.py <job>``, like a CronJob's pod.

Time, processes and the database are injected (``Clock``, ``Launcher``, ``RunRecords``), so
tests drive days through a fake clock. What keeps two schedulers (or a scheduler and
Kubernetes) from doing a slot twice is not here: it is the job's lock and its occurrence check,
which every child goes through exactly as a pod does.
"""

from __future__ import annotations

import datetime
import secrets
import signal
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scheduler.children import Child, Launcher
from scheduler.clock import Clock
from scheduler.records import RunRecords
from scheduler.slots import MISSED_COUNT_LIMIT, Due, due_slots, next_slot, occurrence_name
from scheduler.text import age, describe, exit_meaning
from utils.cronlog import CronLogger, first_line
from utils.errors import DATABASE_ERRORS
from utils.exitcodes import ExitCode
from utils.models import CronJobRun
from utils.registry import JobSpec
from utils.timing import span

Status = CronJobRun.Status
# After SIGKILL a process ends at once; if one somehow does not, stop waiting after this.
REAP_TIMEOUT = datetime.timedelta(seconds=10)


@dataclass
class Running:
    spec: JobSpec
    child: Child
    pod: str
    started: datetime.datetime
    slot: datetime.datetime | None  # None: a run started by --once
    overrun_at: datetime.datetime  # deadline + margin: the scheduler steps in
    term_sent: datetime.datetime | None = None
    overran: bool = False
    killed: bool = False


@dataclass
class Watched:
    spec: JobSpec
    seen_until: datetime.datetime  # every slot up to here was started, skipped or reported
    next_slot: datetime.datetime


class Scheduler:
    def __init__(
        self,
        specs: Iterable[JobSpec],
        *,
        clock: Clock,
        launcher: Launcher,
        logger: CronLogger,
        records: RunRecords | None = None,
        job_args: Sequence[str] = (),
        grace: float = 25.0,
        overrun_margin: float = 15.0,
        kill_after: float = 15.0,
        poll: float = 0.25,
        max_sleep: float = 60.0,
        host: str | None = None,
    ) -> None:
        self.specs = list(specs)
        self.clock, self.launcher, self.logger, self.records = clock, launcher, logger, records
        self.job_args = list(job_args)
        self.grace, self.poll, self.max_sleep = grace, poll, max_sleep
        self.overrun_margin = datetime.timedelta(seconds=overrun_margin)
        self.kill_after = datetime.timedelta(seconds=kill_after)
        self.host = host or socket.gethostname()
        self.watched: dict[str, Watched] = {}
        self.running: dict[str, Running] = {}
        self.exit_codes: dict[str, int] = {}
        self.stopping = False
        self.stop_signal: int = signal.SIGTERM
        self._signals: list[int] = []

    # --- Lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        """Begin watching each job from its last scheduled run (so a restart catches up)."""
        now = self.clock.now()
        self._log(
            f"Scheduler started on {self.host}: {len(self.specs)} job(s); stops on SIGTERM/SIGINT "
            f"within {self.grace:g}s"
        )
        history = self._history()
        for spec in self.specs:
            since = min(history.get(spec.command, now), now)
            self.watched[spec.command] = Watched(spec, since, next_slot(spec, since))
            upcoming = next_slot(spec, now)
            self._log(f"{spec.command}: {spec.schedule} ({spec.timezone}), next {describe(spec, upcoming)}")

    def run(self, until: datetime.datetime | None = None) -> None:
        """Schedule until a signal (or ``until``), then stop the children and return."""
        self.start()
        while True:
            self._take_signals()
            now = self.clock.now()
            if not self.stopping and until is not None and now >= until:
                self._stop(signal.SIGTERM, "the time given with --for is up")
            if self.stopping:
                break
            wait = self.tick(now)
            if until is not None:
                wait = min(wait, (until - now).total_seconds())
            self.clock.sleep(max(wait, 0.0))
        self.drain()

    def run_once(self, spec: JobSpec) -> int:
        """Start ``spec``'s job now, outside any slot, and wait for it; return its exit code."""
        self._launch(spec, None, self.clock.now())
        while spec.command in self.running:
            self._take_signals()
            if self.stopping:
                break
            self._reap(self.clock.now())
            if spec.command in self.running:
                self.clock.sleep(self.poll)
        self.drain()
        return self.exit_codes.get(spec.command, ExitCode.FAILED)

    def request_stop(self, signum: int) -> None:
        """Called from a signal handler: only note it; the loop acts on it."""
        self._signals.append(signum)
        self.clock.wake()

    def tick(self, now: datetime.datetime) -> float:
        """One pass: reap children, start what is due; return how long to sleep."""
        self._reap(now)
        if not self.stopping:
            for watched in self.watched.values():
                if now >= watched.next_slot:
                    self._schedule(watched, now)
        wake = [w.next_slot for w in self.watched.values()]
        if self.running:
            wake.append(now + datetime.timedelta(seconds=self.poll))
        if not wake:
            return self.max_sleep
        return min(max((min(wake) - now).total_seconds(), 0.0), self.max_sleep)

    def drain(self) -> None:
        """Wait up to the grace period for running children, then SIGKILL the rest."""
        give_up = self.clock.now() + datetime.timedelta(seconds=self.grace)
        while self.running:
            self._take_signals()
            now = self.clock.now()
            self._reap(now)
            if not self.running:
                break
            if now >= give_up + REAP_TIMEOUT:
                self._log(f"gave up waiting for {', '.join(self.running)}", event="failed")
                break
            if now >= give_up:
                for run in self.running.values():
                    if not run.killed:
                        run.killed = True
                        self._log(
                            f"{run.spec.command} (pid {run.child.pid}) still running {self.grace:g}s after "
                            f"{signal.Signals(self.stop_signal).name}: SIGKILL",
                            event="stopping",
                        )
                        run.child.kill()
            self.clock.sleep(self.poll)
        if self.stopping:
            self._log("Scheduler stopped")

    # --- Slots -----------------------------------------------------------------------------
    def _schedule(self, watched: Watched, now: datetime.datetime) -> None:
        spec = watched.spec
        due = due_slots(spec, watched.seen_until, now)
        watched.seen_until = max(watched.seen_until, now)
        watched.next_slot = next_slot(spec, watched.seen_until)
        if due.missed:
            self._log_missed(spec, due)
        if due.run is None:
            return
        busy = self.running.get(spec.command)
        if busy is not None:
            self._log(
                f"{spec.command}: slot {describe(spec, due.run)} not started: the run started "
                f"{age(now - busy.started)} ago (pid {busy.child.pid}) is still running",
                event="skipped",
            )
            return
        self._launch(spec, due.run, now)

    def _log_missed(self, spec: JobSpec, due: Due) -> None:
        assert due.first_missed is not None and due.last_missed is not None
        if due.run is not None:
            late = f"only the latest, {describe(spec, due.run)}, runs"
        else:
            late = f"more than {span(spec.starting_deadline)} late (its starting deadline)"
        if due.missed == 1:
            what = f"missed slot {describe(spec, due.first_missed)}"
        elif due.missed > MISSED_COUNT_LIMIT:
            what = f"missed more than {MISSED_COUNT_LIMIT} slots since {describe(spec, due.first_missed)}"
        else:
            what = (
                f"missed {due.missed} slots, {describe(spec, due.first_missed)} to "
                f"{describe(spec, due.last_missed)}"
            )
        self._log(f"{spec.command}: {what}: not run, {late}", event="skipped")

    # --- Children --------------------------------------------------------------------------
    def _launch(self, spec: JobSpec, slot: datetime.datetime | None, now: datetime.datetime) -> None:
        pod = f"{self.host}-{spec.cronjob_name}-{secrets.token_hex(3)}"
        env = {"POD_NAME": pod, "CRONJOB_LOG_FORMAT": self.logger.fmt}
        what = "now (a manual run)"
        if slot is not None:
            occurrence = occurrence_name(spec, slot)
            env["CRONJOB_OCCURRENCE"] = occurrence
            env["CRONJOB_SCHEDULED_FOR"] = slot.isoformat()
            what = f"for slot {describe(spec, slot)} ({occurrence})"
        try:
            child = self.launcher.start(spec.command, self.job_args, env)
        except OSError as exc:
            self._log(f"could not start {spec.command}: {exc}", event="failed")
            self.exit_codes[spec.command] = ExitCode.FAILED
            return
        self.running[spec.command] = Running(
            spec, child, pod, now, slot, overrun_at=now + spec.deadline + self.overrun_margin
        )
        self._log(f"Started {spec.command} {what}, pid {child.pid}")

    def _reap(self, now: datetime.datetime) -> None:
        for name, run in list(self.running.items()):
            code = run.child.poll()
            if code is None:
                self._enforce_deadline(run, now)
                continue
            del self.running[name]
            self.exit_codes[name] = self._finished(run, code, now)

    def _enforce_deadline(self, run: Running, now: datetime.datetime) -> None:
        """The child's own timer should have stopped it; past a margin, the scheduler does."""
        if run.term_sent is None and now >= run.overrun_at:
            run.overran = True
            run.term_sent = now
            self._log(
                f"{run.spec.command} (pid {run.child.pid}) overran its max_execution_time of "
                f"{span(run.spec.deadline)} by {age(now - run.started - run.spec.deadline)}: SIGTERM",
                event="timed_out",
            )
            run.child.send_signal(signal.SIGTERM)
        elif run.term_sent is not None and not run.killed and now >= run.term_sent + self.kill_after:
            run.killed = True
            self._log(f"{run.spec.command} (pid {run.child.pid}) ignored SIGTERM: SIGKILL", event="timed_out")
            run.child.kill()

    def _finished(self, run: Running, code: int, now: datetime.datetime) -> int:
        took = age(now - run.started)
        name = run.spec.command
        if run.overran:
            self._record(
                run,
                (Status.RUNNING, Status.INTERRUPTED),
                Status.TIMED_OUT,
                f"timed out: ran past its max_execution_time of {span(run.spec.deadline)}; "
                "stopped by the scheduler",
                ExitCode.FAILED,
            )
            self._log(f"{name} stopped after {took}: recorded timed_out", event="timed_out")
            return ExitCode.FAILED
        if run.killed:
            interrupted = ExitCode.SIGINT if self.stop_signal == signal.SIGINT else ExitCode.SIGTERM
            self._record(
                run,
                (Status.RUNNING,),
                Status.INTERRUPTED,
                f"interrupted: killed by the scheduler {self.grace:g}s after "
                f"{signal.Signals(self.stop_signal).name}",
                interrupted,
            )
            self._log(f"{name} killed after {took}: recorded interrupted", event="stopping")
            return interrupted
        code, meaning = exit_meaning(code)
        self._log(
            f"{name} finished after {took}: exit {code} ({meaning})",
            event="scheduler" if code == 0 else "warning",
        )
        return code

    def _record(self, run: Running, statuses: Sequence[str], status: str, error: str, code: int) -> None:
        if self.records is None:
            return
        try:
            self.records.close_killed(run.spec.command, run.pod, statuses, status, error, code)
        except DATABASE_ERRORS as exc:
            self._log(f"could not record {run.spec.command}'s run: {first_line(exc)}", event="warning")

    # --- Signals ---------------------------------------------------------------------------
    def _take_signals(self) -> None:
        while self._signals:
            signum = self._signals.pop(0)
            self._stop(signum, f"received {signal.Signals(signum).name}")

    def _stop(self, signum: int, why: str) -> None:
        children = ", ".join(f"{r.spec.command} (pid {r.child.pid})" for r in self.running.values())
        if self.stopping:
            self._log(f"{why} again: passing it on to {children or 'no job'}", event="stopping")
        else:
            self.stopping, self.stop_signal = True, signum
            waiting = f"; waiting up to {self.grace:g}s for {children}" if children else ""
            self._log(f"Stopping: {why}; no new runs{waiting}", event="stopping")
        for run in self.running.values():
            run.child.send_signal(signum)

    # --- Helpers ---------------------------------------------------------------------------
    def _history(self) -> dict[str, datetime.datetime]:
        if self.records is None or not self.specs:
            return {}
        try:
            return self.records.last_scheduled(spec.command for spec in self.specs)
        except DATABASE_ERRORS as exc:
            self._log(f"could not read the run history ({first_line(exc)}): no catch-up", event="warning")
            return {}

    def _log(self, message: str, event: str = "scheduler") -> None:
        self.logger.log(event, message)
