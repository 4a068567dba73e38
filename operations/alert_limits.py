"""What bounds the alert a failing run sends as it ends: a deadline, and SIGTERM/SIGINT.

The run's own stop control is done by then (the run has its outcome, and a stop already asked
for, say by the deadline, would stop the alert before it began), so the alert has limits of
its own: ``ALERT_DEADLINE`` for the whole alert (its back-offs stop in time for it, as a job's
do), plus at most one send's deadline (``EMAIL_TIMEOUT``, ``CHANNEL_TIMEOUT``); and a SIGTERM or
SIGINT stops it at its next checkpoint: between two sends, or in a back-off. The signal is then
passed on to the job's own handler, which had it before.
"""

from __future__ import annotations

import datetime
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from utils.errors import Interrupted, JobStop

# The alert at the end of a failed run: together with one send's deadline, inside the 60 s the
# rendered activeDeadlineSeconds keeps beyond a job's own deadline and stop grace.
ALERT_DEADLINE = datetime.timedelta(seconds=30)

Handler = Callable[[int, FrameType | None], Any] | int | None


class AlertLimits:
    def __init__(self, deadline: datetime.timedelta | None = None) -> None:
        self.deadline = ALERT_DEADLINE if deadline is None else deadline
        self.stop: JobStop | None = None
        self._started = time.monotonic()

    def remaining(self) -> datetime.timedelta:
        elapsed = datetime.timedelta(seconds=time.monotonic() - self._started)
        return max(self.deadline - elapsed, datetime.timedelta(0))

    def check(self) -> None:
        """Raise if a signal came or the deadline passed."""
        if self.stop is not None:
            raise self.stop
        if not self.remaining():
            raise JobStop(f"its {self.deadline.total_seconds():g}s were up")

    @contextmanager
    def signals(self) -> Iterator[None]:
        """SIGTERM and SIGINT stop the alert while this lasts (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        caught: list[tuple[int, FrameType | None]] = []

        def on_signal(signum: int, frame: FrameType | None) -> None:
            caught.append((signum, frame))
            if self.stop is None:
                self.stop = Interrupted(signum)

        previous: dict[int, Handler] = {
            signum: signal.signal(signum, on_signal) for signum in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            for signum, frame in caught[:1]:
                handler = previous[signum]
                if callable(handler):
                    handler(signum, frame)
