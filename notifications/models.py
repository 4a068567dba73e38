"""In-app notifications and the delivery ledger that keeps every notice from being sent twice."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Notification(models.Model):
    """A message shown in the member's notification list. Jobs update theirs; they never stack."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    message = models.TextField()
    url = models.CharField(max_length=300, blank=True)
    read = models.BooleanField(default=False)
    dismissed = models.BooleanField(default=False)
    date_created = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    key = models.CharField(
        max_length=100,
        blank=True,
        help_text="Set by a scheduled job: its one live notification per member (e.g. late_sprs).",
    )

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            # A job keeps at most one live notification of each kind per member.
            models.UniqueConstraint(
                fields=["user", "key"],
                condition=Q(dismissed=False) & ~Q(key=""),
                name="one_live_notification_per_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.message[:50]}"


class Delivery(models.Model):
    """One notice to one recipient on one channel, recorded before it is sent.

    The unique key (job, day, recipient, kind, channel) is what makes a notice go out once: a
    retried pod, a second Job for the same slot or a manual rerun the same day finds the row
    already ``sent`` and sends nothing.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending (claimed, being sent)"
        SENT = "sent"
        FAILED = "failed"

    class Channel(models.TextChoices):
        EMAIL = "email"
        SMS = "sms"
        SLACK = "slack"
        IN_APP = "in_app", "In-app"

    job_name = models.CharField(max_length=100)
    day = models.DateField(help_text="The club-local day of the run's occurrence.")
    recipient = models.CharField(max_length=254, help_text="member:<id>, or an address.")
    kind = models.CharField(max_length=100)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    run = models.ForeignKey("utils.CronJobRun", null=True, blank=True, on_delete=models.SET_NULL)
    message_id = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["job_name", "day", "recipient", "kind", "channel"], name="deliver_each_notice_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.job_name} {self.day} {self.kind} → {self.recipient} ({self.status})"
