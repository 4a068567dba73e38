"""In-app notifications, the delivery ledger that keeps every notice from being sent twice, and the
data that says which channels a kind of notice uses and which a member wants."""

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


class NoticeKind(models.Model):
    """A kind of notice and the channels it goes out on: data, edited in the admin.

    A job names the kind of each notice (``Notice.kind_key``); the Outbox asks this table whether
    the kind goes by email, is offered by SMS to members who opted in, and is posted to Slack.
    A kind without a row keeps the behaviour of old: email and Slack if the job gives them, no SMS.
    """

    class QuietHours(models.TextChoices):
        DEFER = "defer", "Defer the SMS to the end of the member's quiet hours"
        DROP = "drop", "Drop the SMS (the other channels still go)"

    key = models.CharField(max_length=50, unique=True, help_text="As the jobs name it, e.g. duty_preop.")
    description = models.CharField(max_length=200, blank=True)
    email = models.BooleanField(default=True, help_text="Sent by email.")
    sms = models.BooleanField(default=False, help_text="Also sent by SMS to members who opted in to SMS.")
    slack = models.BooleanField(default=False, help_text="Posted to the club's Slack channel.")
    sms_quiet_hours = models.CharField(
        "SMS in quiet hours",
        max_length=10,
        choices=QuietHours.choices,
        default=QuietHours.DEFER,
        help_text="What becomes of an SMS due in the member's quiet hours (SMS_QUIET_HOURS, their zone).",
    )

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class OptOut(models.Model):
    """A member who does not want one kind of notice on one channel."""

    CHANNELS = (("email", "Email"), ("sms", "SMS"))

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="opt_outs")
    kind = models.ForeignKey(NoticeKind, on_delete=models.CASCADE, related_name="opt_outs")
    channel = models.CharField(max_length=10, choices=CHANNELS)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "kind", "channel"], name="one_opt_out_per_kind_channel")
        ]

    def __str__(self) -> str:
        return f"{self.member} wants no {self.kind} by {self.channel}"


class Delivery(models.Model):
    """One notice to one recipient on one channel, recorded before it is sent.

    The unique key (job, day, recipient, kind, channel) is what makes a notice go out once: a
    retried pod, a second Job for the same slot or a manual rerun the same day finds the row
    already ``sent`` and sends nothing. An SMS due in the member's quiet hours waits as
    ``deferred`` until ``not_before`` (``send_deferred_notices`` sends it) or is ``dropped``.
    A notice its provider may have taken without saying so is ``in_doubt``: never sent again
    unless an operator says so (docs/notifications.md#in-doubt).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending (claimed, being sent)"
        SENT = "sent"
        FAILED = "failed"
        IN_DOUBT = "in_doubt", "In doubt (the provider may have it: check, then resolve)"
        DEFERRED = "deferred", "Deferred (quiet hours)"
        DROPPED = "dropped", "Dropped (quiet hours, or too late to send)"

    class Channel(models.TextChoices):
        EMAIL = "email"
        SMS = "sms"
        SLACK = "slack"
        IN_APP = "in_app", "In-app"

    job_name = models.CharField(max_length=100)
    day = models.DateField(help_text="The club-local day of the run's occurrence, or the notice's own date.")
    recipient = models.CharField(max_length=254, help_text="member:<id>, or an address.")
    kind = models.CharField(max_length=100)
    notice_kind = models.CharField(
        max_length=50, blank=True, help_text="The NoticeKind whose channels and quiet hours it follows."
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Send attempts, retries included.")
    run = models.ForeignKey("utils.CronJobRun", null=True, blank=True, on_delete=models.SET_NULL)
    message_id = models.CharField(
        max_length=255, blank=True, help_text="The email's Message-ID, or the provider's id of an SMS."
    )
    error = models.TextField(blank=True, help_text="The last attempt's error.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="The last claim or attempt: when its sender last acted on it."
    )
    claim_token = models.CharField(
        max_length=32, blank=True, help_text="New on every claim: a claim compares it, as it was read."
    )
    handed_over_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the message itself last went out to the provider (cleared by an answer that "
        "refused it): a pending row with it set may have been taken.",
    )
    resolution = models.TextField(blank=True, help_text="Who resolved a notice in doubt, when, and how.")
    sent_at = models.DateTimeField(null=True, blank=True)
    not_before = models.DateTimeField(null=True, blank=True, help_text="A deferred notice waits until then.")
    body = models.TextField(blank=True, help_text="The text of a deferred SMS, sent as it was written.")

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at"]
        permissions = [("resolve_delivery", "Can resolve a delivery in doubt")]
        constraints = [
            models.UniqueConstraint(
                fields=["job_name", "day", "recipient", "kind", "channel"], name="deliver_each_notice_once"
            )
        ]
        indexes = [
            # send_deferred_notices: the deferred rows that are due.
            models.Index(fields=["not_before"], condition=Q(status="deferred"), name="delivery_deferred_due"),
            # cron_status, the dashboard and /metrics: the notices in doubt, per job.
            models.Index(fields=["job_name"], condition=Q(status="in_doubt"), name="delivery_in_doubt"),
        ]

    def __str__(self) -> str:
        return f"{self.job_name} {self.day} {self.kind} → {self.recipient} ({self.status})"
