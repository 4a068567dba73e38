"""The scheduler's log lines: the jobs' format, with ⏰ for scheduling and ⏱️ for deadlines."""

from __future__ import annotations

from utils.cronlog import EMOJI, LEVEL, CronLogger


class SchedulerLogger(CronLogger):
    emoji = {**EMOJI, "scheduler": "⏰", "timed_out": "⏱️"}
    levels = {**LEVEL, "timed_out": "warning"}
