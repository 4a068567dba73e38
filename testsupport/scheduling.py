"""Fakes for driving the scheduler through days in milliseconds: a clock and child processes.

``FakeClock.sleep()`` moves time forward at once (stopping early at an event registered with
``at()``, e.g. a signal); ``FakeLauncher`` starts ``FakeChild``ren that end when the fake clock
reaches their duration, obey or ignore SIGTERM, and die on SIGKILL. ``OffsetClock`` is real
time shifted to a chosen instant, for real children started on a slot a second away.
"""

from __future__ import annotations

import datetime
import itertools
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from io import StringIO

from scheduler.text import SchedulerLogger
from utils.registry import JobSpec

UTC = datetime.UTC


def spec(
    schedule: str,
    timezone: str = "Etc/UTC",
    command: str = "test_cronjob",
    deadline: float = 300,
    starting_deadline: float = 900,
) -> JobSpec:
    return JobSpec(
        command=command,
        schedule=schedule,
        timezone=timezone,
        deadline=datetime.timedelta(seconds=deadline),
        starting_deadline=datetime.timedelta(seconds=starting_deadline),
        resource_class="light",
        help="",
    )


def captured_logger(fmt: str = "text") -> tuple[SchedulerLogger, StringIO]:
    out = StringIO()
    return SchedulerLogger("scheduler", out, out, fmt=fmt), out


class FakeClock:
    def __init__(self, start: datetime.datetime) -> None:
        self._now = start
        self._events: list[tuple[datetime.datetime, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self.sleeps = 0

    def now(self) -> datetime.datetime:
        return self._now

    def at(self, when: datetime.datetime, callback: Callable[[], None]) -> None:
        """Call ``callback`` when time reaches ``when`` (the sleep in progress ends there)."""
        self._events.append((when, next(self._order), callback))
        self._events.sort(key=lambda event: event[:2])

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        if self.sleeps > 1_000_000:
            raise RuntimeError("the scheduler loop does not end")
        target = self._now + datetime.timedelta(seconds=seconds)
        if self._events and self._events[0][0] <= target:
            when, _, callback = self._events.pop(0)
            self._now = max(self._now, when)
            callback()
            return
        self._now = target

    def wake(self) -> None:
        """Sleeping takes no real time here: nothing to cut short."""

    def jump(self, to: datetime.datetime) -> None:
        """Downtime (or a clock step): time is suddenly ``to``."""
        self._now = to


class OffsetClock:
    """Real, monotonic time, starting at ``start``."""

    def __init__(self, start: datetime.datetime) -> None:
        self._start, self._t0 = start, time.monotonic()

    def now(self) -> datetime.datetime:
        return self._start + datetime.timedelta(seconds=time.monotonic() - self._t0)

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, min(seconds, 0.1)))

    def wake(self) -> None:
        pass


@dataclass
class Behaviour:
    duration: float = 1.0  # seconds of fake time until it exits by itself
    code: int = 0
    obeys_sigterm: bool = True  # exits 143 (130 for SIGINT) at once when signalled


@dataclass
class FakeChild:
    clock: FakeClock
    pid: int
    command: str
    args: Sequence[str]
    env: Mapping[str, str]
    behaviour: Behaviour
    started: datetime.datetime = field(init=False)
    signals: list[int] = field(default_factory=list)
    returncode: int | None = None

    def __post_init__(self) -> None:
        self.started = self.clock.now()
        self._ends = self.started + datetime.timedelta(seconds=self.behaviour.duration)
        self._code = self.behaviour.code

    def poll(self) -> int | None:
        if self.returncode is None and self.clock.now() >= self._ends:
            self.returncode = self._code
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is not None:
            return
        self.signals.append(signum)
        if signum == signal.SIGKILL:
            self.returncode = -signal.SIGKILL
        elif self.behaviour.obeys_sigterm:
            self._ends, self._code = self.clock.now(), 128 + signum

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class FakeLauncher:
    def __init__(self, clock: FakeClock, on_start: Callable[[FakeChild], None] | None = None) -> None:
        self.clock = clock
        self.on_start = on_start
        self.behaviours: dict[str, Behaviour] = {}
        self.started: list[FakeChild] = []
        self._pids = itertools.count(1000)

    def behave(
        self, command: str, *, duration: float = 1.0, code: int = 0, obeys_sigterm: bool = True
    ) -> None:
        """How ``command``'s children behave (see ``Behaviour``)."""
        self.behaviours[command] = Behaviour(duration, code, obeys_sigterm)

    def start(self, command: str, args: Sequence[str], env: Mapping[str, str]) -> FakeChild:
        behaviour = self.behaviours.get(command, Behaviour())
        child = FakeChild(self.clock, next(self._pids), command, list(args), dict(env), behaviour)
        self.started.append(child)
        if self.on_start is not None:
            self.on_start(child)
        return child

    def start_times(self) -> list[datetime.datetime]:
        return [child.started for child in self.started]


class FakeRecords:
    """The scheduler's records without a database: a given history, and the calls made."""

    def __init__(self, history: Mapping[str, datetime.datetime] | None = None) -> None:
        self.history = dict(history or {})
        self.closed: list[tuple[str, str, tuple[str, ...], str, str, int]] = []

    def last_scheduled(self, jobs: object) -> dict[str, datetime.datetime]:
        return dict(self.history)

    def close_killed(
        self, job: str, pod: str, statuses: Sequence[str], status: str, error: str, exit_code: int
    ) -> int:
        self.closed.append((job, pod, tuple(statuses), status, error, exit_code))
        return 1
