"""How the scheduler writes times, durations and outcomes in its log lines."""

from __future__ import annotations

import datetime
import signal
import zoneinfo

from utils.cronlog import EMOJI, LEVEL, CronLogger
from utils.registry import JobSpec

UTC_NAMES = ("UTC", "Etc/UTC")
MEANING = {0: "done", 1: "failed", 2: "bad arguments or configuration", 75: "temporary failure"}


def describe(spec: JobSpec, slot: datetime.datetime) -> str:
    """A slot in UTC, followed by the job's own wall clock when its zone is not UTC."""
    text = f"{slot:%Y-%m-%d %H:%M} UTC"
    if spec.timezone not in UTC_NAMES:
        text += f" ({slot.astimezone(zoneinfo.ZoneInfo(spec.timezone)):%H:%M %Z})"
    return text


def age(delta: datetime.timedelta) -> str:
    """A measured duration: 2.4s, 3m05s, 2h10m."""
    seconds = delta.total_seconds()
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def exit_meaning(code: int) -> tuple[int, str]:
    """(the code a shell would show, what it means) for a child's return code."""
    if code < 0:
        return 128 - code, f"killed by {signal.Signals(-code).name}"
    if code in (130, 143):
        return code, "interrupted"
    return code, MEANING.get(code, "exit code")


class SchedulerLogger(CronLogger):
    """The scheduler's log lines: the jobs' format, with ⏰ for scheduling and ⏱️ for deadlines."""

    emoji = {**EMOJI, "scheduler": "⏰", "timed_out": "⏱️"}
    levels = {**LEVEL, "timed_out": "warning"}
