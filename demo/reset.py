"""What counts as club data, how to tell it is there, and how ``--reset`` deletes it."""

from __future__ import annotations

from django.db import models

from duty_roster.models import DutyAssignment
from instructors.models import InstructionReport
from logsheet.models import Airfield, Flight, Glider, Logsheet, Towplane
from maintenance.models import AircraftMeister, MaintenanceDeadline, MaintenanceIssue
from members.models import Member
from notifications.models import Delivery, Notification
from utils.models import CronJobLock, CronJobRun

# Deleted in this order: each model before what it points to with PROTECT.
CLUB_MODELS: tuple[type[models.Model], ...] = (
    Delivery, Notification, CronJobRun, CronJobLock, InstructionReport, Flight, Logsheet,
    DutyAssignment, MaintenanceIssue, MaintenanceDeadline, AircraftMeister, Glider, Towplane, Airfield,
)  # fmt: skip


class ClubNotEmpty(Exception):
    """The database already holds club data and --reset was not given."""


def club_data_present() -> str:
    """What club data the database holds, e.g. "75 members, 2 airfields" ("" when none)."""
    counts = {
        "members": Member.objects.filter(is_superuser=False).count(),
        "airfields": Airfield.objects.count(),
        "gliders": Glider.objects.count(),
        "towplanes": Towplane.objects.count(),
    }
    return ", ".join(f"{n:,} {name}" for name, n in counts.items() if n)


def delete_club_data() -> None:
    """Everything of the club except superusers (their accounts are how operators log in)."""
    for model in CLUB_MODELS:
        model._default_manager.all().delete()
    Member.objects.filter(is_superuser=False).delete()


def make_room(*, reset: bool) -> None:
    """Delete the old club when ``reset``; otherwise refuse (ClubNotEmpty) if there is one."""
    if reset:
        delete_club_data()
    elif present := club_data_present():
        raise ClubNotEmpty(present)
