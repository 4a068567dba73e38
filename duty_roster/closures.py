"""The club calendar of closed days, as scheduled jobs ask it (the ``closed_day`` signal of utils.signals)."""

from __future__ import annotations

import datetime
from typing import Any

from duty_roster.models import ClubClosure


def closure_on(day: datetime.date) -> ClubClosure | None:
    """The closure covering ``day`` (the earliest-starting one if several overlap), else None."""
    return ClubClosure.objects.covering(day).first()


def closed_day_reason(sender: type, day: datetime.date, **kwargs: Any) -> str | None:
    """Receiver of ``utils.signals.closed_day``: the closure's reason, if the club is closed."""
    closure = closure_on(day)
    return None if closure is None else closure.reason
