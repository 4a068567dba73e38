"""What daylight saving time does to a schedule's runs, in words (for ``cron_schedule``).

The run times themselves always come from ``utils.timing.occurrences`` (the one DST rule);
this module only explains them: a run moved out of a spring-forward gap, a time that happens
twice in autumn, a day on which the zone's clocks change. It also says where the Kubernetes
CronJob controller (robfig/cron v3) would do otherwise; see docs/scheduling.md.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass

from croniter import croniter

from utils.registry import JobSpec
from utils.timing import occurrences


@dataclass(frozen=True)
class Run:
    at: datetime.datetime  # UTC
    local: datetime.datetime  # in the job's zone
    notes: tuple[str, ...]


def runs(spec: JobSpec, after: datetime.datetime, count: int) -> Iterator[Run]:
    """The next ``count`` runs of ``spec`` after ``after``, each with its DST notes."""
    zone = zoneinfo.ZoneInfo(spec.timezone)
    for index, instant in enumerate(occurrences(spec.schedule, spec.timezone, after)):
        if index >= count:
            return
        local = instant.astimezone(zone)
        yield Run(instant, local, tuple(notes(spec.schedule, zone, local)))


def notes(schedule: str, zone: zoneinfo.ZoneInfo, local: datetime.datetime) -> list[str]:
    wall = local.replace(tzinfo=None)
    found = []
    gap = _gap_times(schedule, zone, wall)
    if gap and not croniter.match(schedule, wall):
        found.append(f"moved from {_times(gap)} ({_not_exist(gap)}); Kubernetes skips it that day")
    elif gap:
        found.append(f"also covers {_times(gap)} ({_not_exist(gap)})")
    if _ambiguous(wall, zone):
        found.append(
            f"{wall:%H:%M} happens twice: runs once, at the first ({local:%Z}); Kubernetes runs it twice"
        )
    change = clock_change(zone, local.date())
    if change:
        found.append(f"clocks change this day ({change})")
    return found


def clock_change(zone: zoneinfo.ZoneInfo, day: datetime.date) -> str | None:
    """'EST→EDT' when ``zone``'s UTC offset changes during ``day``, else None."""
    start = datetime.datetime.combine(day, datetime.time(), zone)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(), zone)
    if start.utcoffset() == end.utcoffset():
        return None
    return f"{start:%Z}→{end:%Z}"


def _gap_times(schedule: str, zone: zoneinfo.ZoneInfo, wall: datetime.datetime) -> list[datetime.datetime]:
    """Scheduled wall times just before ``wall`` that don't exist (so they run at ``wall``)."""
    gap: list[datetime.datetime] = []
    cursor = croniter(schedule, wall)
    while True:
        earlier = cursor.get_prev(datetime.datetime)
        if _exists(earlier, zone) or wall - earlier > datetime.timedelta(hours=3):
            return list(reversed(gap))
        gap.append(earlier)


def _exists(wall: datetime.datetime, zone: zoneinfo.ZoneInfo) -> bool:
    there_and_back = wall.replace(tzinfo=zone).astimezone(datetime.UTC).astimezone(zone)
    return there_and_back.replace(tzinfo=None) == wall


def _ambiguous(wall: datetime.datetime, zone: zoneinfo.ZoneInfo) -> bool:
    return wall.replace(tzinfo=zone, fold=0).utcoffset() != wall.replace(tzinfo=zone, fold=1).utcoffset()


def _not_exist(walls: list[datetime.datetime]) -> str:
    return "does not exist" if len(walls) == 1 else "do not exist"


def _times(walls: list[datetime.datetime]) -> str:
    if len(walls) == 1:
        return f"{walls[0]:%H:%M}"
    return f"{walls[0]:%H:%M}–{walls[-1]:%H:%M}"


def preview(spec: JobSpec, after: datetime.datetime, count: int, club_timezone: str) -> list[str]:
    """A job's header line and its next ``count`` runs: UTC, the job's zone, club time, notes."""
    zone_names = {spec.timezone, "UTC", "Etc/UTC"}
    club = zoneinfo.ZoneInfo(club_timezone)
    lines = [f"{spec.command}  {spec.schedule}  (zone {spec.timezone}; club time {club_timezone})"]
    for run in runs(spec, after, count):
        columns = [f"{run.at:%Y-%m-%d %H:%M} UTC"]
        if spec.timezone not in ("UTC", "Etc/UTC"):
            columns.append(f"{run.local:%a %Y-%m-%d %H:%M %Z}")
        remarks = list(run.notes)
        if club_timezone not in zone_names:
            at_club = run.at.astimezone(club)
            columns.append(f"club {at_club:%a %Y-%m-%d %H:%M %Z}")
            change = clock_change(club, at_club.date())
            if change:
                remarks.append(f"club clocks change this day ({change})")
        line = "  " + "   ".join(columns)
        if remarks:
            line += "   ← " + "; ".join(remarks)
        lines.append(line)
    return lines
