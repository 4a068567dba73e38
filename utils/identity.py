"""Who is running a job (the lock holder) and which occurrence of it (the run's slot).

In Kubernetes the manifests pass the pod name and the Job name through the downward API
(``POD_NAME``, ``JOB_NAME``). A Job that a CronJob created is named ``<cronjob>-<minutes since
the epoch of its scheduled time>``, so the slot can be read back from the name; a Job made with
``kubectl create job --from=cronjob/...`` carries the operator's name and counts as manual.
The local scheduler passes ``CRONJOB_OCCURRENCE`` and ``CRONJOB_SCHEDULED_FOR`` instead.
"""

from __future__ import annotations

import datetime
import os
import re
import secrets
import socket
from dataclasses import dataclass


def pod_id() -> str:
    """The lock holder's name: the pod's, or host-pid-suffix outside Kubernetes."""
    pod_name = os.environ.get("POD_NAME", "").strip()
    if pod_name:
        return pod_name
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"


@dataclass(frozen=True)
class Occurrence:
    name: str
    scheduled_for: datetime.datetime | None  # UTC; None for a manual run

    @property
    def trigger(self) -> str:
        return "manual" if self.scheduled_for is None else "scheduled"


def _parse_utc(value: str) -> datetime.datetime:
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"CRONJOB_SCHEDULED_FOR={value!r} is not an ISO date and time") from None
    if parsed.tzinfo is None:
        raise ValueError(f"CRONJOB_SCHEDULED_FOR={value!r} has no time zone")
    return parsed.astimezone(datetime.UTC)


def current_occurrence(
    job_name: str, explicit: str | None = None, now: datetime.datetime | None = None
) -> Occurrence:
    """This run's occurrence, from the option, the scheduler, Kubernetes, or a fresh manual id."""
    scheduled_raw = os.environ.get("CRONJOB_SCHEDULED_FOR", "").strip()
    name = explicit or os.environ.get("CRONJOB_OCCURRENCE", "").strip()
    if name:
        return Occurrence(name, _parse_utc(scheduled_raw) if scheduled_raw else None)
    k8s_job = os.environ.get("JOB_NAME", "").strip()
    if k8s_job:
        cronjob = job_name.replace("_", "-")
        match = re.fullmatch(rf"{re.escape(cronjob)}-(\d{{7,}})", k8s_job)
        scheduled = datetime.datetime.fromtimestamp(int(match.group(1)) * 60, datetime.UTC) if match else None
        return Occurrence(k8s_job, scheduled)
    now = now or datetime.datetime.now(datetime.UTC)
    return Occurrence(f"manual-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}", None)
