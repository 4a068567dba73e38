"""Operator command: the next runs of every scheduled job, with what daylight saving time does."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from scheduler.dst import preview
from utils.cli import OneLineErrorsCommand, whole_number
from utils.cronjob import iso_date
from utils.registry import JobSpec, job_specs


class Command(OneLineErrorsCommand):
    help = (
        "Preview the next N run times of each scheduled job in UTC, in the job's zone and in club "
        "time, marking runs on a day the clocks change and runs moved by the DST rule."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--next", type=whole_number(1, 1000), default=5, metavar="N", help="Runs per job (5)."
        )
        parser.add_argument(
            "--from",
            dest="start",
            type=iso_date,
            metavar="YYYY-MM-DD",
            help="Start at the beginning of this day in each job's zone (default: now).",
        )
        parser.add_argument("--job", action="append", metavar="JOB", help="Only this job (repeatable).")

    def handle(self, *args: Any, **options: Any) -> None:
        specs = selected(job_specs(), options["job"], self.usage_error)
        for index, spec in enumerate(specs):
            if index:
                self.stdout.write("")
            after = start_of(spec, options["start"])
            for line in preview(spec, after, options["next"], settings.CLUB_TIMEZONE):
                self.stdout.write(line)


def start_of(spec: JobSpec, day: datetime.date | None) -> datetime.datetime:
    """Just before midnight starting ``day`` in the job's zone (so a run at 00:00 counts), or now."""
    if day is None:
        return datetime.datetime.now(datetime.UTC)
    midnight = datetime.datetime.combine(day, datetime.time(), zoneinfo.ZoneInfo(spec.timezone))
    return midnight.astimezone(datetime.UTC) - datetime.timedelta(microseconds=1)


def selected(specs: list[JobSpec], names: list[str] | None, fail: Any) -> list[JobSpec]:
    """The specs named (all without names); an unknown name is a usage error."""
    if not names:
        return specs
    known = {spec.command: spec for spec in specs}
    unknown = [name for name in names if name not in known]
    if unknown:
        fail(f"no scheduled job {unknown[0]!r} (scheduled: {', '.join(known)})")
    return [known[name] for name in names]
