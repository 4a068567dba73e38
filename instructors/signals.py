"""Keep an instructor's late-SPR notification true as soon as a report is written (or removed)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from instructors.models import InstructionReport
from utils.clubtime import club_today


@receiver(post_save, sender=InstructionReport, dispatch_uid="instructors.refresh_late_sprs_on_save")
@receiver(post_delete, sender=InstructionReport, dispatch_uid="instructors.refresh_late_sprs_on_delete")
def refresh_late_sprs(sender: type[InstructionReport], instance: InstructionReport, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return  # loaddata: the database may be half-loaded
    # Here, not at the top: the app's ready() imports this module, and the notices bring the
    # whole Outbox, which a process that never saves a report (every other job) doesn't need.
    from instructors.notices.late_sprs import refresh_late_sprs_notification

    refresh_late_sprs_notification(instance.instructor_id, club_today())
