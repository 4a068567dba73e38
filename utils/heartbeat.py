"""The heartbeat: renews a job's lease every third of it while the job works.

It runs in a thread with its own database connection. When a renewal finds the lease gone
(expired during a stall, or taken over), it calls ``on_lost`` once and stops: the job is told
to stop, and its fenced units of work can no longer write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import DatabaseError, connections

from utils.locking import Lease


class Heartbeat(threading.Thread):
    def __init__(
        self,
        lease: Lease,
        on_lost: Callable[[], None],
        on_error: Callable[[DatabaseError], None] | None = None,
        interval: float | None = None,
    ) -> None:
        super().__init__(name=f"heartbeat-{lease.job_name}", daemon=True)
        self.lease = lease
        self.on_lost = on_lost
        self.on_error = on_error
        self.interval = interval if interval is not None else lease.seconds / 3
        self._stopped = threading.Event()

    def stop(self) -> None:
        self._stopped.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout=self.lease.seconds)

    def beat(self) -> bool:
        """Renew once; False when the lease is lost."""
        from utils.models import CronJobLock

        return CronJobLock.objects.renew(self.lease)

    def run(self) -> None:
        try:
            while not self._stopped.wait(self.interval):
                try:
                    alive = self.beat()
                except DatabaseError as exc:
                    # A blip: try again next beat. If the lease runs out meanwhile, the next
                    # renewal says so and the job stops.
                    if self.on_error:
                        self.on_error(exc)
                    connections["default"].close()
                    continue
                if not alive:
                    self.on_lost()
                    return
        finally:
            connections.close_all()
