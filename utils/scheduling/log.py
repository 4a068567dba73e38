"""The scheduler's log lines: the jobs' format, with ⏰ for scheduling and ⏱️ for deadlines."""

from __future__ import annotations

import datetime
import json
from typing import Any

from utils.cronlog import CronLogger, redact

EXTRA_EMOJI = {"scheduler": "⏰", "timed_out": "⏱️"}
EXTRA_LEVEL = {"timed_out": "warning"}


class SchedulerLogger(CronLogger):
    def log(self, event: str, message: str, *, min_verbosity: int = 1, **fields: Any) -> None:
        if event not in EXTRA_EMOJI:
            super().log(event, message, min_verbosity=min_verbosity, **fields)
            return
        if self.verbosity < min_verbosity:
            return
        message = redact(message)
        if self.fmt == "json":
            record = {
                "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
                "level": EXTRA_LEVEL.get(event, "info"),
                "job": self.job_name,
                "event": event,
                "message": message,
                **self.context,
                **fields,
            }
            line = redact(json.dumps(record, default=str, ensure_ascii=False))
        else:
            line = f"{EXTRA_EMOJI[event]} [{self.job_name}] {message}"
        self.out.write(line + "\n")
        self.out.flush()
