"""The rules that say whether a job is healthy: overdue, failing in a row, slow.

Every rule reads facts the status queries already fetched (``operations.status``); nothing here
touches the database, so a test can check a rule with plain values.

- **Overdue.** A slot of the schedule (read on the job's zone with ``utils.timing.occurrences``)
  is *due* once ``starting_deadline + max_execution_time + CRONJOB_OVERDUE_GRACE_MINUTES`` have
  passed since it: by then Kubernetes has started the Job and the Job has finished or been
  stopped. The job is overdue when its latest due slot has no run that *ran* started at or
  after the slot (one minute of clock skew allowed). A run *ran* when it succeeded, or when it
  was skipped for a reason of its own (the occurrence had already succeeded, a closed day):
  every skip except "the lock was held by another pod", whose holder's run is the one that
  counts. A failed, timed-out or interrupted run is not a run that ran.
- **Waiting.** A job with no run at all is judged only on the slots at or after the moment this
  installation first knew it (``operations.known_jobs``): until the first of them is due it is
  waiting, not overdue. A job that has run once is judged on every slot.
- **Failing.** Consecutive failures are the ``failed`` and ``timed_out`` runs since the job's
  last ``succeeded`` one; skipped, interrupted and running runs neither break nor extend the
  streak.
- **Slow.** The latest finished run took at least ``CRONJOB_SLOW_RATIO`` (0.8) of
  ``max_execution_time``, or the run holding the lock has been running that long.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings

from utils.registry import JobSpec
from utils.timing import occurrences

CLOCK_SKEW = datetime.timedelta(minutes=1)
# How far back previous_slot() looks, widening until it finds a slot (a yearly job included).
_LOOKBACK = [datetime.timedelta(hours=2), datetime.timedelta(days=2), datetime.timedelta(days=32)]
_LOOKBACK += [datetime.timedelta(days=400), datetime.timedelta(days=5 * 366)]


def overdue_grace() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.CRONJOB_OVERDUE_GRACE_MINUTES)


def due_after(spec: JobSpec) -> datetime.timedelta:
    """How long after a slot its run must have happened."""
    return spec.starting_deadline + spec.deadline + overdue_grace()


def next_slot(spec: JobSpec, now: datetime.datetime) -> datetime.datetime:
    return next(occurrences(spec.schedule, spec.timezone, now))


def previous_slot(spec: JobSpec, at_or_before: datetime.datetime) -> datetime.datetime | None:
    """The latest slot of ``spec`` at or before ``at_or_before`` (None if none in five years)."""
    for window in _LOOKBACK:
        latest = None
        for slot in occurrences(spec.schedule, spec.timezone, at_or_before - window):
            if slot > at_or_before:
                break
            latest = slot
        if latest is not None:
            return latest
    return None


@dataclass(frozen=True)
class Overdue:
    slot: datetime.datetime  # the slot that has no run
    due_at: datetime.datetime  # when it became overdue


def first_slot(spec: JobSpec, since: datetime.datetime) -> datetime.datetime:
    """The first slot of ``spec`` at or after ``since``."""
    return next(occurrences(spec.schedule, spec.timezone, since - datetime.timedelta(microseconds=1)))


def overdue(
    spec: JobSpec,
    last_ran: datetime.datetime | None,
    now: datetime.datetime,
    waiting_since: datetime.datetime | None = None,
) -> tuple[datetime.datetime | None, Overdue | None]:
    """(the latest due slot, the overdue slot or None) for a job whose last run that ran
    started at ``last_ran``. For a job that has never run, ``waiting_since`` is when this
    installation first knew it: earlier slots are not its to miss."""
    slot = previous_slot(spec, now - due_after(spec))
    if slot is None or (waiting_since is not None and slot < waiting_since):
        return None, None
    if last_ran is not None and last_ran >= slot - CLOCK_SKEW:
        return slot, None
    return slot, Overdue(slot=slot, due_at=slot + due_after(spec))


def is_slow(duration: datetime.timedelta | float | None, deadline: datetime.timedelta | None) -> bool:
    if duration is None or deadline is None or deadline.total_seconds() <= 0:
        return False
    seconds = duration.total_seconds() if isinstance(duration, datetime.timedelta) else duration
    return seconds >= settings.CRONJOB_SLOW_RATIO * deadline.total_seconds()
