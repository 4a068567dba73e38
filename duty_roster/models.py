"""The duty roster: who crews which day, scheduled by the roster manager or proposed ad hoc."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from logsheet.models import Airfield, DutyCrew


class DutyAssignmentQuerySet(models.QuerySet["DutyAssignment"]):
    def operating(self) -> DutyAssignmentQuerySet:
        """Days that will fly: scheduled, or ad hoc and confirmed."""
        return self.filter(status=DutyAssignment.Status.ACTIVE).filter(
            Q(is_scheduled=True) | Q(is_confirmed=True)
        )

    def unconfirmed_ad_hoc(self) -> DutyAssignmentQuerySet:
        return self.filter(status=DutyAssignment.Status.ACTIVE, is_scheduled=False, is_confirmed=False)


class DutyAssignment(DutyCrew):
    class Status(models.TextChoices):
        ACTIVE = "active"
        EXPIRED = "expired", "Expired (ad-hoc day not confirmed in time)"
        CANCELLED = "cancelled"

    date = models.DateField()
    location = models.ForeignKey(Airfield, on_delete=models.PROTECT, related_name="duty_days")
    is_scheduled = models.BooleanField(default=True, help_text="False: an ad-hoc day proposed by members.")
    is_confirmed = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expired_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)

    objects = DutyAssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["date", "location"]
        constraints = [
            models.UniqueConstraint(fields=["date", "location"], name="one_duty_day_per_date_and_field")
        ]

    def __str__(self) -> str:
        kind = "scheduled" if self.is_scheduled else "ad hoc"
        return f"{self.date} {self.location.identifier} ({kind}, {self.status})"


class ClubClosureQuerySet(models.QuerySet["ClubClosure"]):
    def covering(self, day: datetime.date) -> ClubClosureQuerySet:
        """Closures whose inclusive range holds ``day``."""
        return self.filter(start__lte=day, end__gte=day)


class ClubClosure(models.Model):
    """Days the club is closed (a holiday, the winter break): jobs that say so don't run."""

    start = models.DateField(help_text="First closed day (club time).")
    end = models.DateField(help_text="Last closed day, inclusive; the same as start for one day.")
    reason = models.CharField(max_length=200, help_text='Shown in the job logs, e.g. "Winter break".')

    objects = ClubClosureQuerySet.as_manager()

    class Meta:
        ordering = ["start", "end"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="closure_ends_on_or_after_start")
        ]

    def __str__(self) -> str:
        if self.start == self.end:
            return f"{self.start}: {self.reason}"
        return f"{self.start} to {self.end}: {self.reason}"

    def clean(self) -> None:
        if self.start and self.end and self.end < self.start:
            raise ValidationError({"end": "The last closed day cannot be before the first."})
