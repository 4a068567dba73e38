"""Quiet hours in the member's own time zone."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest

from notifications.quiet_hours import QuietHours

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
DENVER = zoneinfo.ZoneInfo("America/Denver")
NIGHT = QuietHours(datetime.time(21), datetime.time(8))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("now", "zone", "until"),
    [
        # 20:59 in New York: not yet quiet.
        (utc(2026, 11, 21, 1, 59), NEW_YORK, None),
        # 21:00 in New York: quiet until 08:00 the next morning.
        (utc(2026, 11, 21, 2, 0), NEW_YORK, datetime.datetime(2026, 11, 21, 8, tzinfo=NEW_YORK)),
        # 07:59: quiet until 08:00 the same morning; 08:00 is allowed.
        (utc(2026, 11, 21, 12, 59), NEW_YORK, datetime.datetime(2026, 11, 21, 8, tzinfo=NEW_YORK)),
        (utc(2026, 11, 21, 13, 0), NEW_YORK, None),
        # 06:00 UTC is 01:00 in New York but 23:00 (the evening before) in Denver.
        (utc(2026, 11, 21, 6, 0), NEW_YORK, datetime.datetime(2026, 11, 21, 8, tzinfo=NEW_YORK)),
        (utc(2026, 11, 21, 6, 0), DENVER, datetime.datetime(2026, 11, 21, 8, tzinfo=DENVER)),
        # 14:00 UTC is 09:00 in New York (allowed) but 07:00 in Denver (quiet).
        (utc(2026, 11, 21, 14, 0), NEW_YORK, None),
        (utc(2026, 11, 21, 14, 0), DENVER, datetime.datetime(2026, 11, 21, 8, tzinfo=DENVER)),
    ],
)
def test_quiet_until(
    now: datetime.datetime, zone: zoneinfo.ZoneInfo, until: datetime.datetime | None
) -> None:
    assert NIGHT.quiet_until(now, zone) == until


def test_the_end_is_local_wall_clock_time_across_a_dst_change() -> None:
    # 1 November 2026: New York falls back at 02:00. 22:00 on 31 October (EDT) is quiet until
    # 08:00 EST on 1 November, 11 hours later, not 10.
    now = datetime.datetime(2026, 10, 31, 22, tzinfo=NEW_YORK)
    until = NIGHT.quiet_until(now, NEW_YORK)
    assert until is not None and until.utcoffset() == datetime.timedelta(hours=-5)
    assert until.astimezone(datetime.UTC) - now.astimezone(datetime.UTC) == datetime.timedelta(hours=11)


def test_quiet_hours_inside_one_day() -> None:
    lunch = QuietHours(datetime.time(12), datetime.time(13, 30))
    assert lunch.is_quiet(datetime.time(12, 15)) and not lunch.is_quiet(datetime.time(13, 30))
    assert not lunch.is_quiet(datetime.time(23))


def test_from_settings(settings) -> None:
    settings.SMS_QUIET_HOURS = "22:30-07:00"
    assert QuietHours.from_settings() == QuietHours(datetime.time(22, 30), datetime.time(7))
    settings.SMS_QUIET_HOURS = ""
    assert QuietHours.from_settings() is None
