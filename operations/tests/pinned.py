"""Runs and status reads at pinned times, shared by the cron_status and job-state tests."""

from __future__ import annotations

import datetime
import json
from typing import Any

import time_machine

from testsupport.commands import CommandResult, run_command

UTC = datetime.UTC


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def demo_at(moment: datetime.datetime, *args: str) -> CommandResult:
    with time_machine.travel(moment):
        return run_command("test_cronjob", "--units=1", "--unit-seconds=0", *args)


def status_at(moment: datetime.datetime, *args: str) -> CommandResult:
    with time_machine.travel(moment, tick=False):
        return run_command("cron_status", *args)


def demo_json(moment: datetime.datetime) -> dict[str, Any]:
    [job] = json.loads(status_at(moment, "--json", "test_cronjob").out)
    return job
