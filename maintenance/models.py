"""Aircraft maintenance: open issues (some grounding), deadlines, and each aircraft's meister."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q

from logsheet.models import Glider, Towplane
from utils.clubtime import club_today


class AircraftRef(models.Model):
    """Points at exactly one aircraft: a glider or a towplane."""

    glider = models.ForeignKey(Glider, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    towplane = models.ForeignKey(Towplane, null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(glider__isnull=False, towplane__isnull=True)
                | Q(glider__isnull=True, towplane__isnull=False),
                name="%(class)s_one_aircraft",
            )
        ]

    @property
    def aircraft(self) -> Glider | Towplane:
        aircraft = self.glider or self.towplane
        assert aircraft is not None  # the one_aircraft constraint
        return aircraft

    @property
    def aircraft_key(self) -> tuple[str, int]:
        if self.glider_id is not None:
            return ("glider", self.glider_id)
        assert self.towplane_id is not None  # the one_aircraft constraint
        return ("towplane", self.towplane_id)


class MaintenanceIssueQuerySet(models.QuerySet["MaintenanceIssue"]):
    def open(self) -> MaintenanceIssueQuerySet:
        return self.filter(resolved=False)

    def grounding(self) -> MaintenanceIssueQuerySet:
        return self.open().filter(grounded=True)


class MaintenanceIssue(AircraftRef):
    description = models.TextField()
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    report_date = models.DateField(default=club_today)
    grounded = models.BooleanField(default=False)
    resolved = models.BooleanField(default=False)
    resolved_date = models.DateField(null=True, blank=True)

    objects = MaintenanceIssueQuerySet.as_manager()

    class Meta(AircraftRef.Meta):
        ordering = ["-grounded", "report_date"]
        indexes = [
            # send_maintenance_digest and the duty briefing: open issues.
            models.Index(fields=["resolved", "grounded"], name="maint_issue_open"),
        ]

    def __str__(self) -> str:
        return f"{self.aircraft}: {self.description[:40]}"


class MaintenanceDeadlineQuerySet(models.QuerySet["MaintenanceDeadline"]):
    def due_by(self, day: datetime.date) -> MaintenanceDeadlineQuerySet:
        """Overdue, or due on or before ``day``."""
        return self.filter(due_date__lte=day)


class MaintenanceDeadline(AircraftRef):
    class Kind(models.TextChoices):
        ANNUAL = "annual", "Annual inspection"
        TRANSPONDER = "transponder", "Transponder check"
        PITOT_STATIC = "pitot_static", "Pitot-static check"
        ELT = "elt", "ELT battery"
        PARACHUTE = "parachute", "Parachute repack"
        HUNDRED_HOUR = "100hr", "100-hour inspection"
        OTHER = "other", "Other"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    due_date = models.DateField()
    description = models.CharField(max_length=200, blank=True)

    objects = MaintenanceDeadlineQuerySet.as_manager()

    class Meta(AircraftRef.Meta):
        ordering = ["due_date"]

    def __str__(self) -> str:
        return f"{self.aircraft}: {self.get_kind_display()} due {self.due_date}"


class AircraftMeister(AircraftRef):
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="meisterships"
    )

    class Meta(AircraftRef.Meta):
        verbose_name = "aircraft meister"

    def __str__(self) -> str:
        return f"{self.member} looks after {self.aircraft}"
