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

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
OCCURRENCE_MAX_LENGTH = 200  # CronJobRun.occurrence and CronJobLock.occurrence
POD_ID_MAX_LENGTH = 255  # CronJobLock.locked_by and CronJobRun.pod


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


def _slot_of(k8s_job: str, minutes: str) -> datetime.datetime:
    """The scheduled time a CronJob's Job name carries (minutes since the epoch)."""
    try:
        return EPOCH + datetime.timedelta(minutes=int(minutes))
    except OverflowError:
        raise ValueError(
            f"JOB_NAME={k8s_job!r} ends in {minutes}, which is not a time (minutes since the epoch)"
        ) from None


def _checked(name: str, source: str) -> str:
    if len(name) > OCCURRENCE_MAX_LENGTH:
        raise ValueError(f"{source} is {len(name)} characters long, more than {OCCURRENCE_MAX_LENGTH}")
    return name


def current_occurrence(
    job_name: str, explicit: str | None = None, now: datetime.datetime | None = None
) -> Occurrence:
    """This run's occurrence, from the option, the scheduler, Kubernetes, or a fresh manual id.

    ValueError (exit 2) for a name the run record can't hold or a slot that is no time."""
    scheduled_raw = os.environ.get("CRONJOB_SCHEDULED_FOR", "").strip()
    if explicit:
        return Occurrence(
            _checked(explicit, "--occurrence"), _parse_utc(scheduled_raw) if scheduled_raw else None
        )
    name = os.environ.get("CRONJOB_OCCURRENCE", "").strip()
    if name:
        return Occurrence(
            _checked(name, "CRONJOB_OCCURRENCE"), _parse_utc(scheduled_raw) if scheduled_raw else None
        )
    k8s_job = os.environ.get("JOB_NAME", "").strip()
    if k8s_job:
        cronjob = job_name.replace("_", "-")
        match = re.fullmatch(rf"{re.escape(cronjob)}-(\d{{7,}})", _checked(k8s_job, "JOB_NAME"))
        return Occurrence(k8s_job, _slot_of(k8s_job, match.group(1)) if match else None)
    now = now or datetime.datetime.now(datetime.UTC)
    return Occurrence(f"manual-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}", None)
