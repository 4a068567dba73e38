"""What the notifications need of the job that sends: a small interface, not the command class.

``utils.cronjob.BaseCronJobCommand`` provides it for every scheduled job; ``operations.alerts``
provides it for alerts sent on a job's behalf. The notifications import no command class.
"""

from __future__ import annotations

import datetime
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections import Counter

    from utils.locking import Lease
    from utils.models import CronJobRun


class SendingJob(Protocol):
    # Read-only members: the notifications never set them, so a class attribute (a command's
    # job_name) or a narrower type (a command's max_execution_time) provides them as well.
    @property
    def job_name(self) -> str:
        """The ledger's job: rows are keyed by it."""

    @property
    def run(self) -> CronJobRun | None:
        """The run the ledger rows point at; None while not running (a dry run)."""

    @property
    def lease(self) -> Lease | None:
        """The lease the job's writes are fenced by (a unit of work, or one fenced statement:
        ``CronJobLock.objects.fence``); None for a job that holds no lock."""

    @property
    def dry_run(self) -> bool:
        """Write nothing, send nothing: say what would happen."""

    @property
    def resend(self) -> bool:
        """Send again what the ledger says already went out (--resend)."""

    @property
    def send_in_doubt(self) -> bool:
        """Send again the notices in doubt (--send-in-doubt): an operator's decision, never automatic."""

    @property
    def max_execution_time(self) -> datetime.timedelta | None:
        """Retries stop in time for the job's deadline; None: the retry policy alone bounds them."""

    @property
    def summary(self) -> Counter[str]:
        """The run's counts so far (sent, failed, ...), for its closing line."""

    @property
    def occurrence_day(self) -> datetime.date:
        """The club day the ledger keys a notice on, unless the notice names its own."""

    @property
    def lock_acquired(self) -> bool:
        """Whether this run holds its job's lock: then no other run of the job is alive, and a
        row it left ``pending`` may be taken over at once."""

    def remaining_time(self) -> datetime.timedelta | None:
        """Time left before the job's deadline; None without one."""

    def checkpoint(self) -> None:
        """Raise if the job must stop (SIGTERM, deadline, lost lease)."""

    def unit_of_work(self) -> AbstractContextManager[None]:
        """One transaction, fenced by the job's lease (a run that lost it writes nothing)."""

    def no_hard_stop(self) -> AbstractContextManager[None]:
        """A block the hard stop must not cut: a message handed to its provider, not yet marked."""

    def log(self, event: str, message: str, *, min_verbosity: int = 1, **fields: Any) -> None:
        """One log line of ``event``; shown from ``min_verbosity`` on."""

    def log_warning(self, message: str, **fields: Any) -> None: ...

    def count(self, key: str, n: int = 1) -> None:
        """Add to the run's summary counts."""

    def count_failure(self, key: str, phrase: str, n: int = 1) -> None:
        """Count something that makes the run fail once the rest is done (``phrase`` names it
        in the run's one line, e.g. "notice(s) not sent")."""
