"""The scheduler's sense of time, injectable so tests can drive days through in milliseconds."""

from __future__ import annotations

import datetime
import threading
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime.datetime:
        """The current time, timezone-aware (UTC)."""

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or less if ``wake()`` is called meanwhile."""

    def wake(self) -> None:
        """End the current (or the next) ``sleep()`` early; safe to call from a signal handler."""


class SystemClock:
    """Wall-clock time; sleeps are cut short by ``wake()`` (a signal arrived)."""

    def __init__(self) -> None:
        self._woken = threading.Event()

    def now(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._woken.wait(seconds)
        self._woken.clear()

    def wake(self) -> None:
        self._woken.set()
