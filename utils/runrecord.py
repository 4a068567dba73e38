"""The run history side of a run: the rows a run writes about itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, ParamSpec, TypeVar

from django.db import connections
from django.utils import timezone

from utils import signals
from utils.cronlog import first_line
from utils.errors import DATABASE_ERRORS, classify_database_error
from utils.exitcodes import ExitCode
from utils.models import CronJobRun

if TYPE_CHECKING:
    from collections import Counter

    from django.dispatch import Signal

    from utils.identity import Occurrence
    from utils.locking import Lease

_P = ParamSpec("_P")
_T = TypeVar("_T")


class RunRecorder:
    """Mixin of BaseCronJobCommand: records, skips and closes CronJobRun rows.

    Uses the command's job_name, occurrence, pod_id, force, run, summary and log methods.
    """

    job_name: ClassVar[str]
    occurrence: Occurrence
    force: bool
    run: CronJobRun | None
    summary: Counter[str]
    lease: Lease | None

    pod_id: str

    if TYPE_CHECKING:  # provided by the command

        def log(self, event: str, message: str, **fields: Any) -> None: ...
        def log_warning(self, message: str, **fields: Any) -> None: ...

    def _occurrence_succeeded(self) -> bool:
        return CronJobRun.objects.filter(
            job_name=self.job_name,
            occurrence=self.occurrence.name,
            status=CronJobRun.Status.SUCCEEDED,
        ).exists()

    def _close_abandoned_runs(self) -> None:
        """Holding the lock, any run of this job still marked running died without finishing."""
        CronJobRun.objects.filter(job_name=self.job_name, status=CronJobRun.Status.RUNNING).update(
            status=CronJobRun.Status.FAILED,
            finished_at=timezone.now(),
            error="abandoned: its pod stopped renewing the lease (killed or lost)",
        )

    def _record_skip(self, reason: str, summary: dict[str, Any]) -> None:
        self.log("skipped", reason)
        now = timezone.now()
        skipped = self._best_effort(
            CronJobRun.objects.create,
            job_name=self.job_name,
            occurrence=self.occurrence.name,
            trigger=self.occurrence.trigger,
            scheduled_for=self.occurrence.scheduled_for,
            pod=self.pod_id,
            started_at=now,
            finished_at=now,
            status=CronJobRun.Status.SKIPPED,
            duration_seconds=0.0,
            summary=summary,
            error=reason,
            exit_code=ExitCode.OK,
            forced=self.force,
        )
        if self.lease is not None:  # holding the lock, this run handled its slot
            self._observe(signals.run_skipped, run=skipped, reason=reason)

    def _finish_run(self, status: str, code: int, message: str, duration: float) -> None:
        assert self.run is not None
        CronJobRun.objects.filter(pk=self.run.pk).update(
            status=status,
            finished_at=timezone.now(),
            duration_seconds=round(duration, 3),
            summary=dict(self.summary),
            error=message,
            exit_code=code,
        )

    def _observe(self, signal: Signal, **kwargs: Any) -> None:
        """Tell the receivers of ``run_started``/``run_finished`` (utils.signals); a receiver
        that fails is one warning line, never the run's outcome."""
        for receiver, result in signal.send_robust(sender=type(self), job=self, **kwargs):
            if isinstance(result, Exception):
                name = getattr(receiver, "__qualname__", repr(receiver))
                self.log_warning(f"{name} failed: {type(result).__name__}: {first_line(result, '')}")

    def _best_effort(self, func: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T | None:
        """Bookkeeping after a failure must not hide the failure: retry once on a new connection."""
        for attempt in (1, 2):
            try:
                return func(*args, **kwargs)
            except DATABASE_ERRORS as exc:
                connections["default"].close()
                if attempt == 2:
                    self.log_warning(f"Could not record the run: {classify_database_error(exc)[1]}")
        return None
