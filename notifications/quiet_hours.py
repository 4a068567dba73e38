"""Quiet hours: no SMS between SMS_QUIET_HOURS (default 21:00-08:00) in the member's own zone."""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class QuietHours:
    start: datetime.time
    end: datetime.time

    @classmethod
    def from_settings(cls) -> QuietHours | None:
        """SMS_QUIET_HOURS, which the notifications app checks as it starts (a bad value is a
        configuration error: one line, exit 2)."""
        value = settings.SMS_QUIET_HOURS
        try:
            return cls.parse(value)
        except ValueError:
            raise ImproperlyConfigured(f"SMS_QUIET_HOURS={value!r} must look like 21:00-08:00") from None

    @classmethod
    def parse(cls, value: str) -> QuietHours | None:
        """``"21:00-08:00"``; None for none (blank, or start and end the same). ValueError if malformed."""
        value = value.strip()
        if not value:
            return None
        start, end = (datetime.time.fromisoformat(part.strip()) for part in value.split("-"))
        return None if start == end else cls(start, end)

    def is_quiet(self, local: datetime.time) -> bool:
        if self.start < self.end:  # e.g. 13:00-15:00, inside one day
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # across midnight

    def quiet_until(self, now: datetime.datetime, zone: zoneinfo.ZoneInfo) -> datetime.datetime | None:
        """When quiet hours end (aware, in ``zone``) if ``now`` is inside them; else None."""
        local = now.astimezone(zone)
        if not self.is_quiet(local.time()):
            return None
        day = local.date()
        if local.time() >= self.end:  # evening: the quiet hours end tomorrow
            day += datetime.timedelta(days=1)
        # Built from the wall-clock time, so a DST change overnight still ends them at 08:00.
        return datetime.datetime.combine(day, self.end, tzinfo=zone)

    def label(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"
