"""The run-once machinery's tables: the lock (a lease) and the run history."""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models.functions import Now
from django.utils import timezone

from utils.locking import CronJobLockManager


class CronJobLock(models.Model):
    """One row while a job runs. ``job_name`` is unique, so two pods can never both hold it.

    The lease (``expires_at``) is short and renewed by a heartbeat; every acquisition writes a
    new ``token``, and renewal and release match it. All times are the database's clock.
    ``occurrence`` tells a retried pod of the same occurrence (which waits for the holder) from
    a run of another one (which skips). A row made by hand with only ``job_name``,
    ``locked_by`` and ``expires_at`` (as the original system did) is valid: the other columns
    have defaults, and its empty occurrence is never anyone's.
    """

    job_name = models.CharField(max_length=100, unique=True)
    locked_by = models.CharField(max_length=255, help_text="Pod name, or host-pid-suffix.")
    # Defaults in the schema too, for rows inserted by plain SQL.
    token = models.CharField(
        max_length=32, blank=True, default="", db_default="", help_text="New on every acquisition."
    )
    occurrence = models.CharField(
        max_length=200,
        blank=True,
        default="",
        db_default="",
        help_text="The holder's occurrence (Kubernetes Job or slot).",
    )
    locked_at = models.DateTimeField(default=timezone.now, db_default=Now())
    expires_at = models.DateTimeField()

    objects = CronJobLockManager()

    class Meta:
        verbose_name = "cron job lock"

    def __str__(self) -> str:
        return f"{self.job_name} ({self.locked_by})"

    def is_expired(self, now: datetime.datetime | None = None) -> bool:
        """Whether the lease has run out (by this process's clock unless ``now`` is given)."""
        return self.expires_at <= (now or timezone.now())

    @classmethod
    def cleanup_expired_locks(cls) -> int:
        """Delete the locks whose lease ran out (by the database's clock); return how many."""
        deleted, _ = cls.objects.filter(expires_at__lte=Now()).delete()
        return deleted


class CronJobRun(models.Model):
    """One attempt to run a job: what monitoring, ``cron_status`` and the analytics read."""

    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        SKIPPED = "skipped"
        INTERRUPTED = "interrupted"
        TIMED_OUT = "timed_out"

    class Trigger(models.TextChoices):
        SCHEDULED = "scheduled"
        MANUAL = "manual"

    job_name = models.CharField(max_length=100)
    occurrence = models.CharField(
        max_length=200, help_text="The Kubernetes Job or scheduler slot; manual-… for a manual run."
    )
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    pod = models.CharField(max_length=255)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    duration_seconds = models.FloatField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True, help_text="Counts the job reported.")
    error = models.TextField(blank=True, help_text="One line: why it failed or was skipped.")
    exit_code = models.SmallIntegerField(null=True, blank=True)
    forced = models.BooleanField(default=False)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            # cron_status and the metrics collector: the latest runs of each job.
            models.Index(fields=["job_name", "-started_at"], name="cronjobrun_job_started"),
            # The occurrence check before a run: has this slot already succeeded?
            models.Index(fields=["job_name", "occurrence", "status"], name="cronjobrun_occurrence"),
        ]

    def __str__(self) -> str:
        return f"{self.job_name} {self.occurrence} {self.status}"
