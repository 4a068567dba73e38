"""The states a scheduled job can be in: the one list that ``cron_status`` (text, ``--json`` and
``--check``), the dashboard, ``/metrics`` and the alerts all use.

Each state says what ``cron_status --check`` makes of it (exit 1 or 0), whether it is alerted
(an email to the admins, once per problem) and how the dashboard colours it. A job can be in
several at once (overdue and failing); ``JobState.ORDER`` ranks them and the first is the one a
badge shows. The rules that decide each state are in ``operations.health`` and
``operations.status``; docs/monitoring.md lists them.
"""

from __future__ import annotations

import enum


class JobState(enum.Enum):
    """value, check exit, alerts, dashboard colour, meaning."""

    FAILING = ("failing", 1, True, "bad", "failed CRONJOB_ALERT_AFTER_FAILURES times or more in a row")
    OVERDUE = ("overdue", 1, True, "bad", "its latest due slot has no run that ran")
    IN_DOUBT = ("in_doubt", 1, True, "bad", "it has notices in doubt in the delivery ledger")
    FAILED = ("failed", 0, False, "warn", "its latest failure streak is shorter than the alert threshold")
    SLOW = ("slow", 0, True, "warn", "its last run (or the live one) took CRONJOB_SLOW_RATIO of its deadline")
    RUNNING = ("running", 0, False, "info", "a live lock is held: a run is in progress")
    WAITING = ("waiting", 0, False, "none", "never ran; its first slot since it was first seen is not due")
    OK = ("ok", 0, False, "good", "none of the above")

    def __new__(cls, value: str, check_exit: int, alerts: bool, css: str, meaning: str) -> JobState:
        state = object.__new__(cls)
        state._value_ = value
        return state

    def __init__(self, value: str, check_exit: int, alerts: bool, css: str, meaning: str) -> None:
        self.check_exit = check_exit  # what `cron_status --check` exits with for it
        self.alerts = alerts  # emailed (and posted to Slack) by the alerts, once per problem
        self.css = css  # the dashboard's badge colour: bad, warn, info, none, good
        self.meaning = meaning

    @property
    def needs_attention(self) -> bool:
        """Whether ``--check`` exits 1 for it."""
        return self.check_exit != 0

    @classmethod
    def ranked(cls, states: set[JobState]) -> list[JobState]:
        """``states`` in the order of the enum (the worst first), or [OK] when empty."""
        return [state for state in cls if state in states] or [cls.OK]
