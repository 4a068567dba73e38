"""The framework's hooks: what it tells the rest of the project, and the one thing it asks.

The framework imports no other project package; the apps above it connect receivers to these
signals in their ``AppConfig.ready()``:

- ``run_started(sender=<command class>, job=<command>)``: a run's record exists (never sent for
  a dry run or a skipped run). Operations starts its monitors' check-ins here.
- ``run_finished(sender, job, status, message, duration)``: the record has its outcome.
  Operations ends the check-ins and alerts on a failure streak here.
- ``run_skipped(sender, job, run, reason)``: a run that took the lock skipped its occurrence
  (it had already succeeded, or the club is closed on its day); ``run`` is the ``skipped`` record
  (None if it could not be written). The slot was handled, so operations tells the monitors so.
  Not sent for a skip because another pod holds the lock (that pod's run reports the slot), nor
  for a dry run.
- ``closed_day(sender, job, day)``: asked before a job with ``skip_on_closed_days`` works. A
  receiver returns why the club is closed on ``day`` (one short phrase), else None. The duty
  roster answers from its calendar of closures.

Receivers of the three run signals are called with ``send_robust``: a monitor or alert that fails
is one warning line and never changes the run's outcome. ``closed_day`` is a plain ``send``: a
calendar that can't be read fails the run like any other database error.
"""

from __future__ import annotations

import datetime

from django.dispatch import Signal

run_started = Signal()
run_finished = Signal()
run_skipped = Signal()
closed_day = Signal()


def closed_reason(job: object, day: datetime.date) -> str | None:
    """Why the club is closed on ``day`` for ``job``, by the first receiver that says so."""
    for _receiver, reason in closed_day.send(sender=type(job), job=job, day=day):
        if reason:
            return str(reason)
    return None
