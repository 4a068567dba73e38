"""Which scheduled slots are due: run the latest if it is not too late, never replay a backlog.

The rule is the Kubernetes CronJob controller's with ``startingDeadlineSeconds``: of the slots
that passed since the scheduler last looked, only the most recent may start, and only if it is
at most the job's starting deadline old; every other one is reported as missed and skipped.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from utils.registry import JobSpec
from utils.timing import occurrences

# Counting missed slots stops here (the CronJob controller gives up at 100 too): a clock that
# is years off must not make the scheduler walk millions of slots.
MISSED_COUNT_LIMIT = 100


@dataclass(frozen=True)
class Due:
    run: datetime.datetime | None  # the slot to start now, if any
    missed: int  # slots skipped because they are too late (capped at MISSED_COUNT_LIMIT + 1)
    first_missed: datetime.datetime | None = None
    last_missed: datetime.datetime | None = None


def due_slots(spec: JobSpec, after: datetime.datetime, now: datetime.datetime) -> Due:
    """The slots of ``spec`` in (after, now]: the one to run and the ones missed."""
    if now <= after:
        return Due(None, 0)
    window_start = now - spec.starting_deadline
    latest = None
    for slot in occurrences(spec.schedule, spec.timezone, max(after, window_start - _EPSILON)):
        if slot > now:
            break
        latest = slot
    run = latest if latest is not None and latest >= window_start and latest > after else None
    missed, first, last = 0, None, None
    for slot in occurrences(spec.schedule, spec.timezone, after):
        if slot > now or slot == run or missed > MISSED_COUNT_LIMIT:
            break
        missed += 1
        first = first or slot
        last = slot
    return Due(run, missed, first, last)


def next_slot(spec: JobSpec, after: datetime.datetime) -> datetime.datetime:
    return next(occurrences(spec.schedule, spec.timezone, after))


def occurrence_name(spec: JobSpec, slot: datetime.datetime) -> str:
    """The slot's occurrence, named as the CronJob controller names its Job: minutes since the epoch."""
    return f"{spec.cronjob_name}-{int(slot.timestamp()) // 60}"


_EPSILON = datetime.timedelta(microseconds=1)
