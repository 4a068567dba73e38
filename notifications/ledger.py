"""The ledger: one ``Delivery`` row per (job, day, recipient, kind, channel), and every change to it.

A row is claimed inside the job's fenced unit of work before anything is sent: created, or taken
over with a conditional UPDATE (``where status = <what we read>``) that only one run can win. A
row already ``sent`` (or held: ``deferred``, ``dropped``) is not ours unless ``--resend``. A
``pending`` row was being sent when its claimant stopped: a run holding its job's lock knows no
other run of the job is alive and takes it over (the one message left in doubt); any other
claimant (``send_deferred_notices`` for another job's row, or an alert sent without a lock)
waits until the row's last claim or attempt is older than ``IN_FLIGHT_SECONDS``.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail.message import make_msgid
from django.db import connections
from django.db.models import F, QuerySet
from django.utils import timezone

from notifications.models import Delivery
from notifications.notice import EMAIL, Notice
from utils.errors import DATABASE_ERRORS

if TYPE_CHECKING:
    from notifications.job import SendingJob
    from utils.models import CronJobRun

Status = Delivery.Status
ERROR_LENGTH = 2000  # Delivery.error keeps this much of a message
# A pending row claimed or attempted this recently may still be in its sender's hands: longer
# than every attempt's timeout and back-off together (notifications.retry).
IN_FLIGHT_SECONDS = 15 * 60


class Ledger:
    """Claims ledger rows for one job's run."""

    def __init__(self, job: SendingJob) -> None:
        self.job = job

    def claim(
        self, notice: Notice, channel: str, *, status: str = Status.PENDING, **fields: Any
    ) -> Delivery | None:
        """The notice's ledger row on ``channel``, claimed for this run; None when it is not ours to send."""
        key = self._key(notice, channel)
        values = {
            "status": status,
            "run": self.job.run,
            "notice_kind": notice.policy_key,
            "not_before": None,
            "body": "",
            "error": "",
            "last_attempt_at": timezone.now(),  # the claim: see IN_FLIGHT_SECONDS
            **fields,
        }
        with self.job.unit_of_work():
            delivery, created = Delivery.objects.select_related("run").get_or_create(
                **key, defaults={**values, "message_id": new_message_id() if channel == EMAIL else ""}
            )
            if created:
                return delivery
            return self._take_over(notice, channel, delivery, values)

    def _key(self, notice: Notice, channel: str) -> dict[str, Any]:
        job = self.job
        return {
            "job_name": job.job_name,
            "day": notice.day or job.occurrence_day,
            "recipient": notice.recipient,
            "kind": notice.kind,
            "channel": channel,
        }

    def _take_over(
        self, notice: Notice, channel: str, delivery: Delivery, values: dict[str, Any]
    ) -> Delivery | None:
        """An existing row, claimed with a conditional UPDATE if it is ours to (re)send."""
        job, current = self.job, delivery.status
        if current == Status.PENDING and not self._may_take_pending(delivery):
            self._not_ours(notice, channel, "in_flight")
            return None
        if current in (Status.SENT, Status.DEFERRED, Status.DROPPED) and not job.resend:
            self._not_ours(notice, channel, current)
            return None
        message_id = delivery.message_id if channel == EMAIL else ""
        if channel == EMAIL and (current == Status.SENT or not message_id):
            # An explicit resend is a new message; an in-doubt retry keeps its Message-ID.
            message_id = new_message_id()
        claimed = Delivery.objects.filter(pk=delivery.pk, status=current).update(
            **values, message_id=message_id
        )
        if not claimed:
            self._not_ours(notice, channel, "in_flight")
            return None
        delivery.status, delivery.message_id = values["status"], message_id
        return delivery

    def _may_take_pending(self, delivery: Delivery) -> bool:
        """Whether the sender of a pending row is known to be gone (see the module's docstring)."""
        job = self.job
        same_job = delivery.run is None or delivery.run.job_name == job.job_name
        if same_job and job.lock_acquired:
            return True
        claimed = delivery.last_attempt_at or delivery.created_at
        return timezone.now() - claimed > datetime.timedelta(seconds=IN_FLIGHT_SECONDS)

    def _not_ours(self, notice: Notice, channel: str, why: str) -> None:
        """Log and count a row that is not this run's to send (``why``: its status, or in flight)."""
        if why == Status.SENT:
            self.job.log("info", f"Already sent {notice.kind} to {notice.describe} today", min_verbosity=2)
            self.job.count("already_sent")
        else:
            self.job.log(
                "info", f"The {channel} of {notice.kind} to {notice.describe} is {why}", min_verbosity=2
            )
            self.job.count({Status.DROPPED: "dropped", "in_flight": "in_flight"}.get(why, "deferred"))


# --- A claimed row while it is sent ----------------------------------------------------------
def record_attempt(pk: int) -> None:
    Delivery.objects.filter(pk=pk).update(attempts=F("attempts") + 1, last_attempt_at=timezone.now())


def record_error(pk: int, error: str) -> None:
    """The last error of an attempt; the row stays pending while it may be retried."""
    Delivery.objects.filter(pk=pk).update(error=error[:ERROR_LENGTH])


def record_failed(pk: int, error: str) -> None:
    Delivery.objects.filter(pk=pk).update(status=Status.FAILED, error=error[:ERROR_LENGTH])


def record_sent(pk: int, message_id: str) -> None:
    """Mark a delivery sent. The message is out: if the database connection broke meanwhile,
    record it on a new connection before letting the error end the run (exit 75), so the next
    run doesn't send it again."""
    mark = Delivery.objects.filter(pk=pk)
    values = {"status": Status.SENT, "error": "", "message_id": message_id}
    try:
        mark.update(sent_at=timezone.now(), **values)
    except DATABASE_ERRORS:  # InterfaceError too: a connection that broke earlier
        connections["default"].close()
        mark.update(sent_at=timezone.now(), **values)
        raise


# --- A held (deferred) SMS, each change conditional on the status it was read with ------------
def _still(delivery: Delivery) -> QuerySet[Delivery]:
    return Delivery.objects.filter(pk=delivery.pk, status=delivery.status)


def drop_held(delivery: Delivery, reason: str) -> bool:
    """Drop a held SMS that should no longer go; False if another run changed it first."""
    return bool(_still(delivery).update(status=Status.DROPPED, error=reason[:ERROR_LENGTH]))


def defer_held(delivery: Delivery, until: datetime.datetime) -> None:
    _still(delivery).update(status=Status.DEFERRED, not_before=until)


def claim_held(delivery: Delivery, run: CronJobRun | None) -> bool:
    """Take a held SMS for this run to send now; False if another run took it."""
    return bool(_still(delivery).update(status=Status.PENDING, run=run, error=""))


def new_message_id() -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "manage2soar.local"
    return make_msgid("m2s", domain=domain)
