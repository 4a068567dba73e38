"""Airfields, aircraft, the day's logsheet and its flights."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models

if TYPE_CHECKING:
    from members.models import Member


class Airfield(models.Model):
    identifier = models.CharField(max_length=8, unique=True, help_text="ICAO or FAA code, e.g. KFRR.")
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["identifier"]

    def __str__(self) -> str:
        return f"{self.identifier} {self.name}"


class Aircraft(models.Model):
    n_number = models.CharField("registration", max_length=10, unique=True)
    make = models.CharField(max_length=50, blank=True)
    model = models.CharField(max_length=50, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        abstract = True
        ordering = ["n_number"]

    def __str__(self) -> str:
        return " ".join(part for part in (self.n_number, self.make, self.model) if part)


class Glider(Aircraft):
    competition_number = models.CharField(max_length=4, blank=True)
    seats = models.PositiveSmallIntegerField(default=2)
    club_owned = models.BooleanField(default=True)


class Towplane(Aircraft):
    name = models.CharField(max_length=50, blank=True)


# The duty crew of a day, as (field, label): the fields of DutyCrew, in roster order.
CREW_ROLES: tuple[tuple[str, str], ...] = (
    ("duty_officer", "Duty officer"),
    ("assistant_duty_officer", "Assistant duty officer"),
    ("duty_instructor", "Duty instructor"),
    ("surge_instructor", "Surge instructor"),
    ("tow_pilot", "Tow pilot"),
    ("surge_tow_pilot", "Surge tow pilot"),
)
CREW_FIELDS: tuple[str, ...] = tuple(field_name for field_name, _ in CREW_ROLES)


def crew_field() -> models.ForeignKey[Member | None, Member | None]:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )


class DutyCrew(models.Model):
    """The crew of a flying day: who did it (the logsheet), who is to (the duty roster).

    Its fields come first in a model's field list; the admins list their forms' fields.
    """

    duty_officer = crew_field()
    assistant_duty_officer = crew_field()
    duty_instructor = crew_field()
    surge_instructor = crew_field()
    tow_pilot = crew_field()
    surge_tow_pilot = crew_field()

    class Meta:
        abstract = True

    def crew(self) -> list[tuple[str, object]]:
        """(role label, member) for every filled crew role, in roster order."""
        return [
            (label, member) for field, label in CREW_ROLES if (member := getattr(self, field)) is not None
        ]


class LogsheetQuerySet(models.QuerySet["Logsheet"]):
    def aging(self, today: datetime.date, days: int) -> LogsheetQuerySet:
        """Not finalized and more than ``days`` days old on ``today``."""
        return self.filter(finalized=False, log_date__lt=today - datetime.timedelta(days=days))


class Logsheet(DutyCrew):
    log_date = models.DateField()
    airfield = models.ForeignKey(Airfield, on_delete=models.PROTECT, related_name="logsheets")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finalized = models.BooleanField(default=False)

    objects = LogsheetQuerySet.as_manager()

    class Meta:
        ordering = ["-log_date"]
        constraints = [
            models.UniqueConstraint(fields=["log_date", "airfield"], name="one_logsheet_per_day_and_field")
        ]
        indexes = [
            # notify_aging_logsheets: unfinalized sheets by date.
            models.Index(fields=["finalized", "log_date"], name="logsheet_finalized_date"),
        ]

    def __str__(self) -> str:
        return f"{self.log_date} {self.airfield.identifier}"


class Flight(models.Model):
    logsheet = models.ForeignKey(Logsheet, on_delete=models.CASCADE, related_name="flights")
    pilot = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="flights"
    )
    instructor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="flights_as_instructor",
    )
    tow_pilot = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="flights_as_tow_pilot",
    )
    glider = models.ForeignKey(Glider, null=True, blank=True, on_delete=models.SET_NULL)
    towplane = models.ForeignKey(Towplane, null=True, blank=True, on_delete=models.SET_NULL)
    launch_time = models.TimeField(null=True, blank=True)
    landing_time = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["logsheet", "launch_time"]

    def __str__(self) -> str:
        return f"{self.logsheet} {self.pilot} {self.launch_time or ''}".strip()

    @property
    def duration(self) -> datetime.timedelta | None:
        if self.launch_time is None or self.landing_time is None:
            return None
        day = self.logsheet.log_date
        return datetime.datetime.combine(day, self.landing_time) - datetime.datetime.combine(
            day, self.launch_time
        )
