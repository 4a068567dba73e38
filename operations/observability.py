"""What happens around a run besides the work: monitors are told it started and how it ended,
and a run that ends a failure streak alerts the admins.

The receivers of the framework's ``run_started``, ``run_finished`` and ``run_skipped`` signals
(utils.signals), connected in ``OperationsConfig.ready()``: sent once a run's record exists, once
it has its outcome, and when a run holding the lock skipped its occurrence (never in a dry run).
A skipped slot (a closed day, an occurrence already done) is a handled slot: the monitors get a
success, or they would report a missed run on every closure day. Each step is best effort: a
monitor or alert that fails is one warning line and never changes the run's status or exit code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from operations import monitors
from utils.cronlog import first_line
from utils.models import CronJobRun

if TYPE_CHECKING:
    from utils.cronjob import BaseCronJobCommand

FAILURES = (CronJobRun.Status.FAILED, CronJobRun.Status.TIMED_OUT)


def _each(job: BaseCronJobCommand, steps: list[tuple[str, Callable[[], Any]]]) -> None:
    for name, step in steps:
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - monitoring must never fail the job
            job.log_warning(f"{name} failed: {type(exc).__name__}: {first_line(exc, '')}")


def run_started(sender: type, job: BaseCronJobCommand, **kwargs: Any) -> None:
    assert job.run is not None
    started = f"{job.job_name} run {job.run.pk} ({job.occurrence.name}) started on {job.pod_id}"
    _each(
        job,
        [
            ("Ping monitor", lambda: monitors.ping(job, "start", started)),
            ("Sentry check-in", lambda: monitors.sentry_checkin(job, "in_progress")),
        ],
    )


def run_finished(
    sender: type, job: BaseCronJobCommand, status: str, message: str, duration: float, **kwargs: Any
) -> None:
    from operations.alerts import alert_after_failed_run

    succeeded = status == CronJobRun.Status.SUCCEEDED
    line = f"{job.job_name} {status} after {duration:.2f}s" + (f": {message}" if message else "")
    steps = [
        ("Ping monitor", lambda: monitors.ping(job, "success" if succeeded else "fail", line)),
        ("Sentry check-in", lambda: monitors.sentry_checkin(job, "ok" if succeeded else "error", duration)),
    ]
    if status in FAILURES:
        steps.append(("Failure alert", lambda: alert_after_failed_run(job)))
    _each(job, steps)


def run_skipped(
    sender: type, job: BaseCronJobCommand, run: CronJobRun | None, reason: str, **kwargs: Any
) -> None:
    line = f"{job.job_name} skipped: {reason}"
    run_id = run.pk if run is not None else None
    _each(
        job,
        [
            ("Ping monitor", lambda: monitors.ping(job, "success", line, run_id=run_id)),
            ("Sentry check-in", lambda: monitors.sentry_checkin(job, "ok", 0.0)),
        ],
    )
