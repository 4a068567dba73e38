"""Club time: every "today" and "tomorrow" in business logic is the club's, not the server's."""

from __future__ import annotations

import datetime
import zoneinfo

from django.conf import settings
from django.utils import timezone


def club_tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.CLUB_TIMEZONE)


def club_now() -> datetime.datetime:
    return timezone.now().astimezone(club_tz())


def club_today() -> datetime.date:
    return club_now().date()


def club_tomorrow() -> datetime.date:
    return club_today() + datetime.timedelta(days=1)


def club_date(moment: datetime.datetime) -> datetime.date:
    """The club-local date of an instant."""
    return moment.astimezone(club_tz()).date()


def club_time_text(moment: datetime.datetime) -> str:
    """An instant as operators read it: club-local, to the minute."""
    return moment.astimezone(club_tz()).strftime("%Y-%m-%d %H:%M")
