"""Timing rules a job's schedule facts must satisfy before they become a CronJob."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterator
from typing import TYPE_CHECKING

from croniter import croniter

if TYPE_CHECKING:
    from utils.registry import JobSpec

# Kubernetes checks for missed schedules about every 10 s: a shorter starting deadline can
# make it skip a slot that was never late.
MIN_STARTING_DEADLINE = datetime.timedelta(seconds=10)


def occurrences(schedule: str, timezone: str, after: datetime.datetime) -> Iterator[datetime.datetime]:
    """The run times of ``schedule`` in ``timezone`` after ``after``, as aware UTC datetimes.

    The cron expression is read on the zone's wall clock, and daylight saving time follows one
    rule: a local time that happens twice (autumn) runs once, at its first occurrence; a local
    time that doesn't exist (spring) runs at the first valid minute after it. Slots that land
    on the same instant run once.
    """
    zone = zoneinfo.ZoneInfo(timezone)
    wall_start = after.astimezone(zone).replace(tzinfo=None)
    previous: datetime.datetime | None = None
    for wall in croniter(schedule, wall_start).all_next(datetime.datetime):
        instant = _first_valid_instant(wall, zone)
        if instant <= after or instant == previous:
            continue
        previous = instant
        yield instant


def _first_valid_instant(wall: datetime.datetime, zone: zoneinfo.ZoneInfo) -> datetime.datetime:
    """``wall`` (naive, the zone's clock) as UTC; fold=0 for an ambiguous time, and a time in a
    spring-forward gap moves to the first minute after the gap."""
    candidate = wall
    while True:
        instant = candidate.replace(tzinfo=zone, fold=0).astimezone(datetime.UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == candidate:
            return instant
        candidate = (candidate + datetime.timedelta(minutes=1)).replace(second=0, microsecond=0)


def shortest_gap(schedule: str, timezone: str, runs: int = 2000) -> datetime.timedelta:
    """The shortest time between two consecutive runs over about a year (or ``runs`` runs)."""
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    horizon = start + datetime.timedelta(days=400)
    gap = datetime.timedelta.max
    previous = None
    for count, current in enumerate(occurrences(schedule, timezone, start)):
        if previous is not None:
            gap = min(gap, current - previous)
        if current > horizon or count >= runs:
            break
        previous = current
    return gap


def timing_problems(spec: JobSpec, lease_seconds: float) -> list[str]:
    """One line per inconsistency in ``spec``; empty when the job can be scheduled safely."""
    name = spec.command
    if not croniter.is_valid(spec.schedule):
        return [f"{name}: {spec.schedule!r} is not a cron expression"]
    try:
        zoneinfo.ZoneInfo(spec.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return [f"{name}: {spec.timezone!r} is not an IANA time zone"]
    problems = []
    lease = datetime.timedelta(seconds=lease_seconds)
    if lease >= spec.deadline:
        problems.append(
            f"{name}: the lock lease ({span(lease)}) must be shorter than the deadline "
            f"({span(spec.deadline)})"
        )
    gap = shortest_gap(spec.schedule, spec.timezone)
    if spec.deadline > gap:
        problems.append(
            f"{name}: the deadline ({span(spec.deadline)}) is longer than the shortest gap between two "
            f"runs ({span(gap)})"
        )
    if spec.starting_deadline < MIN_STARTING_DEADLINE:
        problems.append(
            f"{name}: startingDeadlineSeconds ({spec.starting_deadline.total_seconds():g}) is under "
            f"{MIN_STARTING_DEADLINE.total_seconds():g}"
        )
    elif spec.starting_deadline >= gap:
        problems.append(
            f"{name}: the starting deadline ({span(spec.starting_deadline)}) must be shorter than the "
            f"shortest gap between two runs ({span(gap)})"
        )
    return problems


def span(delta: datetime.timedelta) -> str:
    """A configured duration: 10m, 1h, 90s."""
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{delta.total_seconds():g}s"
