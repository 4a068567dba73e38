"""The calendar every section shares: the year of flying days, an older season and the roster ahead."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from utils.clubtime import club_tz

DAY = datetime.timedelta(days=1)

# The calendar, in days before "today".
WINDOW_DAYS = 358  # the year of flying: inside "the last 12 months" however a job counts them
OLD_SEASON_AGE = 450  # three days of an older season, outside every 12-month window
WEATHER_CANCELLED = 0.18  # share of planned flying days lost to weather
AGING_AGE = 11  # the one logsheet nobody finalized (at the second field)
OPEN_AGE = 3  # home-field logsheets of the last 3 days are still open: normal, not aging
ROSTER_DAYS = 28  # the duty roster reaches four weeks ahead


def flying_day(day: datetime.date) -> bool:
    """Weekends all year; Wednesdays too from May to September."""
    return day.weekday() >= 5 or (day.weekday() == 2 and 5 <= day.month <= 9)


@dataclass(frozen=True)
class Calendar:
    today: datetime.date
    past: tuple[datetime.date, ...]  # flying days at each home field in the last year
    old: tuple[datetime.date, ...]  # three days of an older season
    upcoming: tuple[datetime.date, ...]  # rostered days, tomorrow always among them

    @classmethod
    def build(cls, seed: int, today: datetime.date) -> Calendar:
        rng = random.Random(f"{seed}:calendar")  # noqa: S311 - demo data, not secrets
        year = [today - age * DAY for age in range(WINDOW_DAYS, 0, -1)]
        past = [day for day in year if flying_day(day) and rng.random() >= WEATHER_CANCELLED]
        around = [today - age * DAY for age in range(OLD_SEASON_AGE + 10, OLD_SEASON_AGE - 11, -1)]
        old = tuple(day for day in around if day.weekday() >= 5)[:3]
        ahead = [today + n * DAY for n in range(1, ROSTER_DAYS + 1)]
        upcoming = tuple(day for day in ahead if day == ahead[0] or flying_day(day))
        return cls(today, tuple(past), old, upcoming)

    def age(self, day: datetime.date) -> int:
        return (self.today - day).days

    def finalized(self, day: datetime.date) -> bool:
        return self.age(day) > OPEN_AGE

    @property
    def aging_day(self) -> datetime.date:
        return self.today - AGING_AGE * DAY

    @property
    def tomorrow(self) -> datetime.date:
        return self.today + DAY


def at(day: datetime.date, hour: int) -> datetime.datetime:
    """The club's local time ``hour``:00 on ``day``."""
    return datetime.datetime.combine(day, datetime.time(hour), club_tz())


def clock(minutes: int) -> datetime.time:
    """A time of day from minutes after midnight."""
    return datetime.time(minutes // 60, minutes % 60)
