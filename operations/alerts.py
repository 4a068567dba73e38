"""Alerts without Prometheus: an email to the site admins (and Slack when configured).

Alerts take the same never-twice path as every notice (``notifications.delivery.Outbox``), so
each problem is reported once, whoever notices it first - the failing run itself or
``cron_status --check --notify`` - and a retried pod or a rerun sends nothing again. The ledger
keys a problem by the job and:

- a failure streak: ``failure_streak:<id of the streak's first failed run>``, on that run's day;
- an overdue slot: ``overdue:<slot in UTC>``, on the slot's day;
- a slow run: ``slow:<run id>``, on the run's day;
- notices in doubt: ``in_doubt:<id of the job's newest ledger row in doubt>``, on that row's
  day (a new notice in doubt is a new alert; rows of alerts in doubt are shown, not alerted on).

An alert that can't be sent is logged and recorded ``failed`` (or ``in_doubt``) in the ledger;
it never changes the exit code of the job it is about. The alert a failing run sends as it ends
is bounded in time and stops on SIGTERM (``operations.alert_limits``); what it could not send,
``cron_status --check --notify`` sends later.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from operations import health
from operations.alert_limits import AlertLimits
from operations.states import JobState
from operations.status import ALERTS_OF
from utils.clubtime import club_date, club_time_text, club_today
from utils.cronlog import redact
from utils.errors import JobStop
from utils.models import CronJobRun

if TYPE_CHECKING:
    from operations.status import JobStatus
    from utils.cronjob import BaseCronJobCommand

# The notice kind whose channels (admin-editable) alerts follow.
ALERT_KIND = "job_failure"


class AlertSender:
    """The ``SendingJob`` (notifications.job) of alerts sent on behalf of ``job_name``.

    The alert is outside the job's work: it has its own counts (the failed run's summary is
    already recorded), is never a dry run, and needs no fence (it writes only the ledger). With
    ``limits`` (the alert at the end of a failed run) it stops at their deadline or on a signal;
    without, the retry policy alone bounds it.
    """

    dry_run = False
    resend = False
    send_in_doubt = False  # an alert in doubt is resolved in the admin, like any notice
    lock_acquired = False  # sent without the job's lock: a pending alert row is taken over only when stale
    lease = None  # no fence: an alert writes only the ledger

    def __init__(
        self,
        job_name: str,
        run: CronJobRun | None,
        log: Callable[[str, str], None],
        limits: AlertLimits | None = None,
    ) -> None:
        # The ledger's job: alerts about a job are kept apart from the job's own notices, so its
        # next run (which holds the job's lock) never takes over an alert being sent meanwhile.
        self.job_name = f"{ALERTS_OF}{job_name}"
        self.run = run
        self.summary: Counter[str] = Counter()
        self._log = log
        self.limits = limits

    @property
    def max_execution_time(self) -> datetime.timedelta | None:
        return self.limits.deadline if self.limits is not None else None

    @property
    def occurrence_day(self) -> datetime.date:
        return club_today()

    def checkpoint(self) -> None:
        """Stop if the alert's limits say so (a signal, its deadline)."""
        if self.limits is not None:
            self.limits.check()

    def remaining_time(self) -> datetime.timedelta | None:
        return self.limits.remaining() if self.limits is not None else None

    @contextmanager
    def no_hard_stop(self) -> Iterator[None]:
        yield

    def log_warning(self, message: str, **fields: Any) -> None:
        self._log("warning", message)

    @contextmanager
    def unit_of_work(self) -> Iterator[None]:
        self.checkpoint()  # no claim and no send after a stop
        with transaction.atomic():
            yield

    def log(self, event: str, message: str, *, min_verbosity: int = 1, **fields: Any) -> None:
        if min_verbosity <= 1:
            self._log(event, message)

    def count(self, key: str, n: int = 1) -> None:
        self.summary[key] += n

    def count_failure(self, key: str, phrase: str, n: int = 1) -> None:
        """An alert that could not be sent is counted; it never fails the job it is about."""
        self.summary[key] += n


@dataclass(frozen=True)
class Alert:
    job_name: str
    kind: str  # the ledger's kind: what makes this problem one notice
    day: datetime.date
    headline: str  # "notify_late_sprs failed 2 times in a row"
    details: list[str]
    run: CronJobRun | None = None


def send_alert(
    alert: Alert, log: Callable[[str, str], None], limits: AlertLimits | None = None
) -> Counter[str]:
    """Email each site admin and post to Slack, each once; return the counts (sent, failed...).
    With ``limits``, raises ``JobStop`` when they stop it."""
    from notifications.channels import slack_escape
    from notifications.delivery import SLACK_RECIPIENT, Notice, Outbox
    from notifications.email import render_email

    sender = AlertSender(alert.job_name, alert.run, log, limits)
    admins = [address for _, address in settings.ADMINS]
    if not admins and not settings.SLACK_WEBHOOK_URL:
        log("warning", f"No ADMIN_EMAILS or SLACK_WEBHOOK_URL: nobody to tell that {alert.headline}")
        sender.count("no_recipient")
        return sender.summary
    context = {
        "alert": alert,
        "dashboard_url": f"{settings.SITE_URL}/cron/",
        "club_time": timezone.get_current_timezone_name(),
    }
    with Outbox(sender) as outbox:
        for address in admins:
            email = render_email("operations/email/job_alert", [address], context)
            notice = Notice(
                alert.kind, address, f"site admin {address}", email, day=alert.day, kind_key=ALERT_KIND
            )
            outbox.deliver(notice)
        if settings.SLACK_WEBHOOK_URL:
            lines = [f":rotating_light: {settings.CLUB_NAME}: {alert.headline}", *alert.details]
            text = "\n".join(slack_escape(line) for line in lines)
            notice = Notice(
                alert.kind, SLACK_RECIPIENT, "Slack", slack=text, day=alert.day, kind_key=ALERT_KIND
            )
            outbox.deliver(notice)
    return sender.summary


def failure_streak_alert(job_name: str, threshold: int) -> Alert | None:
    """The alert for ``job_name``'s current failure streak, if it is ``threshold`` long or more."""
    from operations.status import failure_streaks

    streak = failure_streaks(job_name).get(job_name)
    if streak is None or streak.failures < threshold:
        return None
    last = (
        CronJobRun.objects.filter(job_name=job_name, status__in=("failed", "timed_out"))
        .order_by("-started_at")
        .first()
    )
    details = [f"The first failure of this streak started at {club_time_text(streak.first_at)} (club time)."]
    if last is not None:
        details.append(f"Last failure ({last.status}, run {last.pk}): {last.error or '-'}")
    return Alert(
        job_name=job_name,
        kind=f"failure_streak:{streak.first_run_id}",
        day=club_date(streak.first_at),
        headline=f"{job_name} failed {streak.failures} times in a row",
        details=details,
        run=last,
    )


def alert_after_failed_run(job: BaseCronJobCommand) -> None:
    """Called when a run of ``job`` ended failed or timed out: tell the admins once per streak."""
    alert = failure_streak_alert(job.job_name, settings.CRONJOB_ALERT_AFTER_FAILURES)
    if alert is None:
        return
    limits = AlertLimits()
    try:
        with limits.signals():
            counts = send_alert(alert, job.log, limits)
    except JobStop as stop:
        job.log_warning(
            f"The alert about {alert.headline} stopped ({stop}); "
            "cron_status --check --notify sends what is left"
        )
        return
    if counts["failed"]:
        job.log_warning(f"{counts['failed']} alert(s) about {alert.headline} could not be sent")


def problem_alerts(status: JobStatus, threshold: int) -> list[Alert]:
    """One alert per alerted state of ``status`` (``JobState.alerts``): overdue, failing, notices
    in doubt, slow. A waiting job, one that failed fewer times than ``threshold``, a running or an
    ok one is not alerted on."""
    alerts = []
    name = status.job_name
    states = status.states(threshold)
    if JobState.OVERDUE in states and status.overdue is not None:
        slot = status.overdue.slot
        last = f"{club_time_text(status.last_ran_at)} (club time)" if status.last_ran_at else "never"
        alerts.append(
            Alert(
                job_name=name,
                kind=f"overdue:{slot.astimezone(datetime.UTC):%Y%m%dT%H%MZ}",
                day=club_date(slot),
                headline=f"{name} is overdue: no run for its {club_time_text(slot)} slot",
                details=[
                    f"Schedule: {status.schedule} ({status.timezone}); the run was due by "
                    f"{club_time_text(status.overdue.due_at)} (club time).",
                    f"Last run that counted: {last}.",
                ],
            )
        )
    if JobState.FAILING in states:
        alert = failure_streak_alert(name, threshold)
        if alert is not None:
            alerts.append(alert)
    if JobState.IN_DOUBT in states and status.newest_in_doubt is not None:
        alerts.append(in_doubt_alert(status, *status.newest_in_doubt))
    if JobState.SLOW in states:
        running_slow = health.is_slow(status.running_for, status.deadline)
        run = status.last_run if running_slow else status.last_finished
        if run is not None:
            alerts.append(
                Alert(
                    job_name=name,
                    kind=f"slow:{run.pk}",
                    day=club_date(run.started_at),
                    headline=f"{name} is slow: {status.slowness()}",
                    details=[f"Run {run.pk} started at {club_time_text(run.started_at)} (club time)."],
                    run=run,
                )
            )
    return alerts


def in_doubt_alert(status: JobStatus, newest_id: int, newest_at: datetime.datetime) -> Alert:
    name = status.job_name
    return Alert(
        job_name=name,
        kind=f"in_doubt:{newest_id}",
        day=club_date(newest_at),
        headline=f"{name} has {status.in_doubt} notice(s) in doubt",
        details=[
            "Their provider (the SMTP server, Twilio, Slack) may have taken them without answering: "
            "they are not sent again by themselves.",
            "Check with the recipients, then resolve them in the admin (Deliveries, status in doubt), "
            f"or send them again with manage.py {name} --send-in-doubt.",
        ],
    )


def notify_problems(statuses: list[JobStatus], threshold: int) -> list[str]:
    """Alert about every problem (``cron_status --check --notify``); return the log lines."""
    lines: list[str] = []

    def log(event: str, message: str) -> None:
        emoji = {"sent": "📧", "failed": "⚠️", "warning": "⚠️"}.get(event, "ℹ️")
        lines.append(f"{emoji} {redact(message)}")  # like a job's log: no address in full

    for status in statuses:
        for alert in problem_alerts(status, threshold):
            counts = send_alert(alert, log)
            if not counts["sent"] and not counts["failed"] and counts["already_sent"]:
                lines.append(f"ℹ️ Already told the admins: {alert.headline}")
    return lines
