"""What the scheduler itself reads and writes: little, and never in a job's place.

A child records its own run. The scheduler steps in only when it had to kill a child, which
then could not finish its record (or recorded ``interrupted`` for the SIGTERM the scheduler
sent it): one conditional UPDATE of that child's rows, found by its unique pod name, and the
deletion of a lock that child may still hold.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence

from django.db import connections, router
from django.db.models import Max
from django.utils import timezone

from utils.models import CronJobLock, CronJobRun


class RunRecords:
    def last_scheduled(self, jobs: Iterable[str]) -> dict[str, datetime.datetime]:
        """The latest slot each job was started for, by anyone (one query)."""
        try:
            rows = (
                CronJobRun.objects.filter(job_name__in=list(jobs), scheduled_for__isnull=False)
                .values("job_name")
                .annotate(last=Max("scheduled_for"))
            )
            return {row["job_name"]: row["last"] for row in rows}
        finally:
            _hang_up()

    def close_killed(
        self, job: str, pod: str, statuses: Sequence[str], status: str, error: str, exit_code: int
    ) -> int:
        """Mark the killed child's run (still in one of ``statuses``); return rows changed."""
        try:
            changed = CronJobRun.objects.filter(job_name=job, pod=pod, status__in=list(statuses)).update(
                status=status, finished_at=timezone.now(), error=error, exit_code=exit_code
            )
            # A child killed by SIGKILL could not release its lock: free the job now rather
            # than after a lease. Matched by holder, so nobody else's lock is touched.
            CronJobLock.objects.filter(job_name=job, locked_by=pod).delete()
            return changed
        finally:
            _hang_up()


def _hang_up() -> None:
    """The scheduler lives for weeks between uses of the database: don't keep a connection
    that the server or a firewall may drop meanwhile. (Inside a transaction, as in tests, the
    connection is not ours to close.)"""
    connection = connections[router.db_for_write(CronJobRun)]
    if not connection.in_atomic_block:
        connection.close()
