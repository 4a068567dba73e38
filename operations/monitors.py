"""Monitors people already use, each off unless configured; a monitor that is down never fails
the job (every call has a short timeout and only logs a warning).

- healthchecks.io-style ping URLs: ``CRONJOB_PING_URL_TEMPLATE`` (``{job}`` = the command name,
  ``{cronjob}`` = its CronJob name) gets ``/start``, then the plain URL (success) or ``/fail``,
  each with ``?rid=`` a UUID derived from the run id, so the service pairs start and end.
- Sentry Crons: with ``SENTRY_DSN`` set, an ``in_progress`` check-in at start and ``ok`` or
  ``error`` at the end, with the monitor's schedule, zone, margin and maximum runtime taken
  from the command class. sentry-sdk is imported only then: it costs memory every job counts.
"""

from __future__ import annotations

import math
import uuid
import weakref
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    from sentry_sdk._types import MonitorConfig

    from utils.cronjob import BaseCronJobCommand

RUN_NAMESPACE = uuid.UUID("6f1d4c1e-8a4e-4d36-9a59-3c2f0b7e5a10")
PING_SUFFIX = {"start": "/start", "success": "", "fail": "/fail"}
# The id of each running job's in_progress check-in, which its closing check-in names.
_check_in_ids: weakref.WeakKeyDictionary[BaseCronJobCommand, str | None] = weakref.WeakKeyDictionary()


def run_uuid(job_name: str, run_id: int) -> str:
    """The run id as the UUID healthchecks.io wants for ``rid`` (the same for start and end)."""
    return str(uuid.uuid5(RUN_NAMESPACE, f"{job_name}:{run_id}"))


def ping_url(job_name: str) -> str | None:
    template = settings.CRONJOB_PING_URL_TEMPLATE
    if not template:
        return None
    return template.format(job=job_name, cronjob=job_name.replace("_", "-")).rstrip("/")


def ping(job: BaseCronJobCommand, signal: str, message: str = "", *, run_id: int | None = None) -> None:
    """Send ``start``, ``success`` or ``fail`` to the job's ping URL, if one is configured, for
    ``run_id`` (default: the job's run)."""
    url = ping_url(job.job_name)
    if run_id is None and job.run is not None:
        run_id = job.run.pk
    if url is None or run_id is None:
        return
    import requests  # lazily: only a configured monitor pays for the import

    target = url + PING_SUFFIX[signal]
    try:
        response = requests.post(
            target,
            params={"rid": run_uuid(job.job_name, run_id)},
            data=message.encode()[:10_000],
            timeout=settings.CRONJOB_MONITOR_TIMEOUT,
        )
    except requests.RequestException as exc:
        job.log_warning(f"Ping monitor unreachable ({signal}): {type(exc).__name__}")
        return
    if response.status_code >= 400:
        job.log_warning(f"Ping monitor answered {response.status_code} to {signal}")


def monitor_config(job: BaseCronJobCommand) -> MonitorConfig | None:
    """Sentry's monitor settings from the command class; None for a job with no schedule."""
    if not job.schedule:
        return None
    config: MonitorConfig = {
        "schedule": {"type": "crontab", "value": job.schedule},
        "timezone": job.schedule_timezone or settings.CRONJOB_TIMEZONE,
        "checkin_margin": max(1, math.ceil(job.starting_deadline.total_seconds() / 60)),
        "failure_issue_threshold": settings.CRONJOB_ALERT_AFTER_FAILURES,
    }
    if job.max_execution_time is not None:
        config["max_runtime"] = max(1, math.ceil(job.max_execution_time.total_seconds() / 60))
    return config


def _sentry() -> Any:
    import sentry_sdk

    client = sentry_sdk.get_client()
    if not client.is_active() or client.dsn != settings.SENTRY_DSN:
        sentry_sdk.init(
            dsn=settings.SENTRY_DSN,
            environment=settings.SENTRY_ENVIRONMENT,
            default_integrations=False,
            auto_enabling_integrations=False,
        )
    return sentry_sdk


def sentry_checkin(job: BaseCronJobCommand, status: str, duration: float | None = None) -> None:
    """A Sentry Crons check-in (``in_progress``, ``ok`` or ``error``) for a scheduled job."""
    config = monitor_config(job)
    if not settings.SENTRY_DSN or config is None:
        return
    sentry_sdk = _sentry()
    from sentry_sdk.crons import capture_checkin

    slug = job.job_name.replace("_", "-")
    if status == "in_progress":
        _check_in_ids[job] = capture_checkin(monitor_slug=slug, status=status, monitor_config=config)
        return
    capture_checkin(
        monitor_slug=slug,
        check_in_id=_check_in_ids.get(job),
        status=status,
        duration=duration,
        monitor_config=config,
    )
    # The pod ends right after the run: send now, but never wait long for a Sentry that is down.
    sentry_sdk.flush(timeout=settings.CRONJOB_MONITOR_TIMEOUT)
