"""Taking the job's lock for this run's occurrence: a holder of the same occurrence is waited for.

A Kubernetes Job retries a failed pod under the same Job name, so with the same occurrence, and
after a SIGKILL the new pod can start while the dead pod's lease is still live. Skipping then
(exit 0) would leave the occurrence unfinished behind a Job that reports Complete. So a run that
finds its own occurrence holding the lock waits for it, trying again as it goes, for at most one
lease and a margin: the holder's lease lapses (it died: this run takes over, closes the dead run
as abandoned and does what is left) or the holder finishes (the occurrence check that follows
the lock then decides). A holder still alive after that wait is a live run of the occurrence:
exit 75, and the Job's next retry comes back later. A holder of another occurrence means a skip
at once, as always. The Job's ``activeDeadlineSeconds`` leaves room for the wait
(``utils.registry.JobSpec.active_deadline``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings

from utils.errors import OccurrenceStillRunning
from utils.locking import HeldLock, Lease
from utils.models import CronJobLock

if TYPE_CHECKING:
    from utils.identity import Occurrence

# Beyond one lease: the time to notice a lapsed lease and take it (polls, a statement's round
# trip, a lock wait behind a unit of work the holder was committing).
TAKEOVER_MARGIN_SECONDS = 5.0
# Tries again after 50 ms, then twice as long each time, up to a quarter of a second: a holder
# that finishes (a duplicate Job for the slot) is noticed at once, and a dead one costs three
# small queries per try for one lease.
_FIRST_POLL, _LONGEST_POLL = 0.05, 0.25
_SLEEP_SLICE = 0.25  # how often a waiting run looks for SIGTERM/SIGINT


@dataclass(frozen=True)
class NotTaken:
    """Why a run skips without the lock: its line and its run's summary."""

    reason: str
    summary: dict[str, Any]

    @classmethod
    def held_by(cls, holder: str, job_name: str) -> NotTaken:
        return cls(f"Job {job_name} is already running on {holder}", {"held_by": holder})

    @classmethod
    def done(cls, job_name: str, occurrence: str) -> NotTaken:
        return cls(already_succeeded(job_name, occurrence), {"already_done": True})


def already_succeeded(job_name: str, occurrence: str) -> str:
    return f"{job_name} already succeeded for {occurrence} (--force runs it again)"


def takeover_wait_seconds(lease_seconds: float) -> float:
    """The longest a run waits for a holder of its own occurrence."""
    return lease_seconds + TAKEOVER_MARGIN_SECONDS


class LockTaking:
    """Mixin of BaseCronJobCommand: ``_take_lock()`` (uses the command's acquire_lock,
    occurrence, checkpoint and log)."""

    job_name: ClassVar[str]
    occurrence: Occurrence
    force: bool
    lease: Lease | None
    _waiting_for_holder: bool

    if TYPE_CHECKING:  # provided by the command

        def acquire_lock(self) -> bool: ...
        def _occurrence_succeeded(self) -> bool: ...
        def checkpoint(self) -> None: ...
        def log(self, event: str, message: str, **fields: Any) -> None: ...

    def _take_lock(self) -> NotTaken | None:
        """Take the lock, waiting for a holder of this occurrence; None once this run holds it,
        else why it skips (a holder of another occurrence, or the occurrence finished while it
        waited). Raises ``OccurrenceStillRunning`` when a run of this occurrence stayed alive
        through the wait, ``Interrupted`` on SIGTERM/SIGINT."""
        started = time.monotonic()
        wait = takeover_wait_seconds(float(settings.CRONJOB_LEASE_SECONDS))
        poll, waited_for, unseen = _FIRST_POLL, None, 0
        self._waiting_for_holder = False
        while not self.acquire_lock():
            holder = CronJobLock.objects.holder(self.job_name)
            if holder is None:
                # Released between the two statements (try again), or a row still being
                # inserted by a transaction that hangs (its occurrence unknown: skip as before).
                unseen += 1
                if unseen > 1:
                    return NotTaken.held_by("another pod", self.job_name)
                continue
            if holder.occurrence != self.occurrence.name:
                return NotTaken.held_by(holder.holder, self.job_name)
            if not self.force and self._occurrence_succeeded():
                return NotTaken.done(self.job_name, self.occurrence.name)  # no need for the lock
            if waited_for is None:
                self._log_waiting(holder, wait)
            waited_for = holder
            self._waiting_for_holder = True  # its end is logged below, not by acquire_lock
            left = started + wait - time.monotonic()
            if left <= 0:
                raise OccurrenceStillRunning(self.job_name, self.occurrence.name, holder.holder, wait)
            self._sleep(min(poll, left))
            poll = min(poll * 2, _LONGEST_POLL)
        self._waiting_for_holder = False
        if waited_for is not None:
            waited = f"{time.monotonic() - started:.1f}s"
            if self.lease is not None and self.lease.replaced:
                after = f"after waiting {waited} for {waited_for.holder}"
                self.log("replaced", f"Replaced expired lock for {self.job_name} {after}")
            else:
                self.log("waiting", f"Waited {waited} for {waited_for.holder}, which released the lock")
        return None

    def _log_waiting(self, holder: HeldLock, wait: float) -> None:
        left = max(holder.expires_in.total_seconds(), 0.0)
        self.log(
            "waiting",
            f"{holder.holder} holds the lock for this occurrence ({self.occurrence.name}), lease "
            f"{left:.0f}s left: waiting up to {wait:.0f}s for it to finish or its lease to run out",
        )

    def _sleep(self, seconds: float) -> None:
        """Sleep, stopping at once on SIGTERM/SIGINT (``checkpoint()`` raises the stop)."""
        until = time.monotonic() + seconds
        while (left := until - time.monotonic()) > 0:
            time.sleep(min(left, _SLEEP_SLICE))
            self.checkpoint()
