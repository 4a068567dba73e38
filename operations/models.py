"""The run history rolled up per hour and per day (``aggregate_cron_analytics``): what the
dashboard and /metrics read once the raw runs are pruned."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class CronJobStats(models.Model):
    """What the runs of one job in one period added up to (``aggregate_cron_analytics``)."""

    job_name = models.CharField(max_length=100)
    runs = models.PositiveIntegerField(default=0, help_text="Every run that started in the period.")
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    timed_out = models.PositiveIntegerField(default=0)
    interrupted = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    skipped_lock_held = models.PositiveIntegerField(
        default=0, help_text="Of the skipped runs, those that found the lock held by another pod."
    )
    running = models.PositiveIntegerField(default=0, help_text="Still running when aggregated.")
    success_rate = models.FloatField(
        null=True, blank=True, help_text="succeeded / (succeeded + failed + timed_out + interrupted)."
    )
    duration_p50 = models.FloatField(null=True, blank=True)
    duration_p95 = models.FloatField(null=True, blank=True)
    duration_max = models.FloatField(null=True, blank=True)
    items_processed = models.PositiveBigIntegerField(
        default=0, help_text="The runs' 'processed' and 'sent' counts, added up."
    )
    counts = models.JSONField(default=dict, blank=True, help_text="Every summary count, added up.")
    aggregated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class CronJobHourlyStats(CronJobStats):
    hour = models.DateTimeField(help_text="Start of the UTC hour.")

    class Meta:
        db_table = "utils_cronjobhourlystats"  # created by the utils app, before operations had its own
        verbose_name = "cron job hourly stats"
        verbose_name_plural = "cron job hourly stats"
        ordering = ["-hour", "job_name"]
        constraints = [models.UniqueConstraint(fields=["job_name", "hour"], name="cronjobstats_hour_unique")]

    def __str__(self) -> str:
        return f"{self.job_name} {self.hour:%Y-%m-%d %H:00}Z"


class CronJobDailyStats(CronJobStats):
    day = models.DateField(help_text="The UTC day.")

    class Meta:
        db_table = "utils_cronjobdailystats"
        verbose_name = "cron job daily stats"
        verbose_name_plural = "cron job daily stats"
        ordering = ["-day", "job_name"]
        constraints = [models.UniqueConstraint(fields=["job_name", "day"], name="cronjobstats_day_unique")]
        # The dashboard and the metrics read the latest days of every job.
        indexes = [models.Index(fields=["day"], name="cronjobstats_day")]

    def __str__(self) -> str:
        return f"{self.job_name} {self.day}"


class KnownJob(models.Model):
    """A scheduled job this installation knows, and since when (``operations.known_jobs``).

    A job that has never run is *waiting*, not overdue, until its first slot at or after
    ``first_seen_at`` is due: a fresh install is healthy before any schedule has come round.
    """

    job_name = models.CharField(max_length=100, unique=True)
    first_seen_at = models.DateTimeField(
        help_text="When this installation first knew the job: the migrate that added it, or the first "
        "status read that found it missing."
    )

    class Meta:
        verbose_name = "known scheduled job"
        ordering = ["job_name"]

    def __str__(self) -> str:
        return f"{self.job_name} (known since {self.first_seen_at:%Y-%m-%d %H:%M}Z)"
