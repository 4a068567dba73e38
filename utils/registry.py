"""The job registry: every management command that subclasses BaseCronJobCommand.

Schedules live on the command classes; the Kubernetes manifests, the local scheduler,
``cron_status`` and the docs are derived from this registry.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import cache
from importlib import import_module

from django.conf import settings
from django.core.management import get_commands

from utils.cronjob import BaseCronJobCommand
from utils.takeover import takeover_wait_seconds

# Kubernetes resources of each class of job: (requests, limits) as (memory, cpu).
RESOURCE_CLASSES: dict[str, dict[str, dict[str, str]]] = {
    "light": {"requests": {"memory": "64Mi", "cpu": "50m"}, "limits": {"memory": "128Mi", "cpu": "100m"}},
    "heavy": {"requests": {"memory": "128Mi", "cpu": "100m"}, "limits": {"memory": "256Mi", "cpu": "200m"}},
}


# How long a Job's pod may take from the Job's start to the job's own timer starting.
START_UP_ALLOWANCE = datetime.timedelta(seconds=60)


@dataclass(frozen=True)
class JobSpec:
    """The schedule facts of one scheduled command."""

    command: str  # the management command, e.g. notify_late_sprs
    schedule: str  # cron expression
    timezone: str  # IANA zone the schedule is evaluated in
    deadline: datetime.timedelta  # max_execution_time (the Job's activeDeadlineSeconds derives from it)
    starting_deadline: datetime.timedelta  # how late a missed slot may still start
    resource_class: str
    help: str
    uses_storage: bool = False  # it saves files to the default storage (its pod gets the key)

    @property
    def cronjob_name(self) -> str:
        return self.command.replace("_", "-")

    @property
    def active_deadline(self) -> datetime.timedelta:
        """The Kubernetes Job's activeDeadlineSeconds: the deadline, plus the time the job's own
        timer needs to stop it (CRONJOB_STOP_GRACE_SECONDS), an allowance for the Job's clock
        starting before the process does (scheduling, image pull, Python start-up), and the wait
        of a retried pod for the lease of the pod before it (one lease and a margin,
        utils.takeover). So the job's own timer always fires first and the run is recorded
        ``timed_out``, not ``interrupted``."""
        grace = datetime.timedelta(seconds=settings.CRONJOB_STOP_GRACE_SECONDS)
        takeover = datetime.timedelta(seconds=takeover_wait_seconds(settings.CRONJOB_LEASE_SECONDS))
        return self.deadline + grace + START_UP_ALLOWANCE + takeover


@cache
def cron_commands() -> dict[str, type[BaseCronJobCommand]]:
    """Command name -> class, for every cron command of the installed apps, sorted by name."""
    found: dict[str, type[BaseCronJobCommand]] = {}
    for name, app in sorted(get_commands().items()):
        if app == "django.core":
            continue
        command_class = getattr(import_module(f"{app}.management.commands.{name}"), "Command", None)
        if isinstance(command_class, type) and issubclass(command_class, BaseCronJobCommand):
            found[name] = command_class
    return found


def scheduled_jobs() -> dict[str, type[BaseCronJobCommand]]:
    """The cron commands that declare a schedule (the ones Kubernetes runs)."""
    return {name: cls for name, cls in cron_commands().items() if cls.schedule}


def job_specs(default_timezone: str | None = None) -> list[JobSpec]:
    """The schedule facts of every scheduled command, in name order.

    A job's zone is its own ``schedule_timezone``, else ``default_timezone``, else the
    ``CRONJOB_TIMEZONE`` setting (Etc/UTC unless set): one setting makes them all club-local.
    """
    return [job_spec(name, default_timezone) for name in scheduled_jobs()]


def job_spec(name: str, default_timezone: str | None = None) -> JobSpec:
    """The facts of any cron command, scheduled or not (``run_scheduler --once``).

    KeyError if ``name`` is not a cron command; ValueError if it sets no max_execution_time.
    """
    cls = cron_commands()[name]
    if cls.max_execution_time is None:
        scheduled = " is scheduled but" if cls.schedule else ""
        raise ValueError(f"{name}{scheduled} sets no max_execution_time")
    return JobSpec(
        command=name,
        schedule=cls.schedule or "",
        timezone=cls.schedule_timezone or default_timezone or settings.CRONJOB_TIMEZONE,
        deadline=cls.max_execution_time,
        starting_deadline=cls.starting_deadline,
        resource_class=cls.resource_class,
        help=str(cls.help),
        uses_storage=cls.uses_storage,
    )
