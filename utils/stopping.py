"""What stops a run early: SIGTERM/SIGINT, the deadline, a lost lease, a heartbeat that can't renew.

A stop is first a request: the job stops at its next ``checkpoint()``. If it hasn't after
CRONJOB_STOP_GRACE_SECONDS, a SIGALRM raises the stop where the job stands (an open transaction
is rolled back, so a unit of work is whole or absent). A second SIGTERM/SIGINT stops it at once.
"""

from __future__ import annotations

import datetime
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings

from utils.errors import Interrupted, JobStop, LeaseLost, LeaseUnrenewable, TimedOut, classify_database_error
from utils.heartbeat import DatabaseFailure, Heartbeat
from utils.locking import Lease


class StopControl:
    """Mixin of BaseCronJobCommand: signal handlers, the deadline timer and the heartbeat.

    Uses the command's job_name, max_execution_time, lease and log_warning.
    """

    job_name: ClassVar[str]
    max_execution_time: datetime.timedelta | None
    lease: Lease | None
    _lease_taken_at: float | None = None  # time.monotonic() before the lease was taken
    _unit_renewed_at: float | None = None  # ... before the last committed unit of work renewed it
    _stop: JobStop | None = None
    _in_job: bool = False
    _no_hard_stop: bool = False
    _heartbeat: Heartbeat | None = None

    if TYPE_CHECKING:  # provided by the command

        def log_warning(self, message: str, **fields: Any) -> None: ...

    def checkpoint(self) -> None:
        """Stop here if SIGTERM/SIGINT arrived, the deadline passed, or the lease was lost."""
        if self._stop is None:
            self._check_lease_renewed()
        if self._stop is not None:
            raise self._stop

    def _check_lease_renewed(self) -> None:
        """A heartbeat stuck inside one statement can't say it failed: if neither it nor a unit
        of work has renewed the lease for as long as the heartbeat allows itself, stop."""
        heartbeat = self._heartbeat
        if heartbeat is None:
            return
        renewed_at = max(heartbeat.renewed_at, self._unit_renewed_at or heartbeat.renewed_at)
        unrenewed_for = time.monotonic() - renewed_at
        if unrenewed_for >= heartbeat.give_up_after:
            self._request_stop(LeaseUnrenewable(self.job_name, unrenewed_for, "its renewal has not returned"))

    def _start_heartbeat(self) -> None:
        assert self.lease is not None
        self._heartbeat = Heartbeat(
            self.lease,
            on_lost=lambda: self._request_stop(LeaseLost(self.job_name)),
            on_error=self._heartbeat_failed,
            on_unrenewable=lambda seconds, exc: self._request_stop(
                LeaseUnrenewable(self.job_name, seconds, classify_database_error(exc)[1])
            ),
            renewed_at=self._lease_taken_at,
        )
        self._heartbeat.start()

    def _heartbeat_failed(self, exc: DatabaseFailure) -> None:
        self.log_warning(f"Heartbeat could not renew the lease: {classify_database_error(exc)[1]}")

    def _stop_heartbeat(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.stop()
            self._heartbeat = None

    def _request_stop(self, stop: JobStop) -> None:
        """Ask the job to stop at its next checkpoint; after the grace period, stop it anyway."""
        if self._stop is not None:
            return
        self._stop = stop
        if self._in_job:
            signal.setitimer(signal.ITIMER_REAL, settings.CRONJOB_STOP_GRACE_SECONDS)

    def _arm_deadline(self) -> None:
        if self.max_execution_time is not None and _in_main_thread():
            signal.setitimer(signal.ITIMER_REAL, self.max_execution_time.total_seconds())

    def _disarm_timer(self) -> None:
        if _in_main_thread():
            signal.setitimer(signal.ITIMER_REAL, 0)

    def _on_stop_signal(self, signum: int, frame: FrameType | None) -> None:
        if isinstance(self._stop, Interrupted) and self._in_job:
            raise Interrupted(signum)  # a second signal: stop where we stand
        self._request_stop(Interrupted(signum))

    @contextmanager
    def no_hard_stop(self) -> Iterator[None]:
        """A block the hard stop must not cut (a message handed to its provider, not yet marked
        sent); a stop requested meanwhile happens at the next checkpoint after it."""
        self._no_hard_stop = True
        try:
            yield
        finally:
            self._no_hard_stop = False

    def _on_alarm(self, signum: int, frame: FrameType | None) -> None:
        if not self._in_job:
            return
        if self._no_hard_stop and self._stop is not None:
            return  # the stop stays requested: the next checkpoint raises it
        if self._stop is None:
            assert self.max_execution_time is not None
            self._request_stop(TimedOut(self.max_execution_time.total_seconds()))
            return
        raise self._stop  # the grace period is over: stop where the job stands

    @contextmanager
    def _stop_signals(self) -> Iterator[None]:
        if not _in_main_thread():
            yield
            return
        handlers = {
            signal.SIGTERM: self._on_stop_signal,
            signal.SIGINT: self._on_stop_signal,
            signal.SIGALRM: self._on_alarm,
        }
        previous = {signum: signal.signal(signum, handler) for signum, handler in handlers.items()}
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()
