"""The club calendar of closed days, as scheduled jobs ask it (``utils.cronjob`` calls ``closure_on``)."""

from __future__ import annotations

import datetime

from duty_roster.models import ClubClosure


def closure_on(day: datetime.date) -> ClubClosure | None:
    """The closure covering ``day`` (the earliest-starting one if several overlap), else None."""
    return ClubClosure.objects.covering(day).first()
