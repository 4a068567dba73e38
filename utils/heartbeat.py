"""The heartbeat: renews a job's lease every third of it while the job works.

It runs in a thread with its own database connection. When a renewal finds the lease gone
(expired during a stall, or taken over), it calls ``on_lost`` once and stops: the job is told
to stop, and its fenced units of work can no longer write.

A renewal that fails (the connection broke, the database is away) is tried again at the next
beat. But once no renewal has succeeded for ``give_up_after`` (two thirds of the lease, on the
monotonic clock), the heartbeat calls ``on_unrenewable`` and stops: the lease may lapse within
the last third, and the job must stop before it does, not find out afterwards. The job also
asks ``overdue()`` at its checkpoints, which catches a heartbeat stuck inside one statement.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import DatabaseError, InterfaceError, connections

from utils.errors import DATABASE_ERRORS
from utils.locking import Lease

DatabaseFailure = DatabaseError | InterfaceError


class Heartbeat(threading.Thread):
    def __init__(
        self,
        lease: Lease,
        on_lost: Callable[[], None],
        on_error: Callable[[DatabaseFailure], None] | None = None,
        interval: float | None = None,
        on_unrenewable: Callable[[float, DatabaseFailure], None] | None = None,
        renewed_at: float | None = None,
    ) -> None:
        super().__init__(name=f"heartbeat-{lease.job_name}", daemon=True)
        self.lease = lease
        self.on_lost = on_lost
        self.on_error = on_error
        self.on_unrenewable = on_unrenewable
        self.interval = interval if interval is not None else lease.seconds / 3
        # One beat short of the lease: the job then has a third of it to reach a checkpoint.
        self.give_up_after = lease.seconds * 2 / 3
        # time.monotonic() before the last renewal (or the acquisition) that succeeded: the
        # lease lasts at least until then plus its length.
        self.renewed_at = renewed_at if renewed_at is not None else time.monotonic()
        self._stopped = threading.Event()

    def stop(self) -> None:
        self._stopped.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout=self.lease.seconds)

    def unrenewed_for(self) -> float:
        return time.monotonic() - self.renewed_at

    def overdue(self) -> bool:
        """Whether no renewal has succeeded for long enough that the lease may lapse soon."""
        return self.unrenewed_for() >= self.give_up_after

    def beat(self) -> bool:
        """Renew once; False when the lease is lost."""
        from utils.models import CronJobLock

        return CronJobLock.objects.renew(self.lease)

    def run(self) -> None:
        try:
            while not self._stopped.wait(self._next_wait()):
                attempted = time.monotonic()
                try:
                    alive = self.beat()
                except DATABASE_ERRORS as exc:
                    if self._failed(exc):
                        return
                    continue
                if not alive:
                    self.on_lost()
                    return
                self.renewed_at = attempted
        finally:
            connections.close_all()

    def _next_wait(self) -> float:
        """A beat's interval, but never past the moment the heartbeat would give up."""
        return max(0.0, min(self.interval, self.give_up_after - self.unrenewed_for()))

    def _failed(self, exc: DatabaseFailure) -> bool:
        """A renewal failed: True when it is time to give up (the job is told)."""
        if self.on_error:
            self.on_error(exc)
        # A broken connection is replaced at the next beat.
        connections["default"].close()
        if not self.overdue():
            return False
        if self.on_unrenewable:
            self.on_unrenewable(self.unrenewed_for(), exc)
        return True
