"""The one path every notice takes: record it in the ledger, send it, mark it sent.

``Outbox(job).deliver(notice)`` first claims the notice's ledger row under its unique key
(job, day, recipient, kind, channel; the day is the run's club day unless the notice names
its own), inside the job's fenced unit of work; a row
already ``sent`` means the notice went out before and nothing is sent (unless ``--resend``).
Then it sends, outside any transaction, and marks the row ``sent`` — or ``failed`` with the
error, counted, without stopping the other notices. A row left ``pending`` by a run that died
mid-send is sent again by the next run, with the same Message-ID so mail systems can drop a
duplicate of the one in-flight message.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.message import make_msgid
from django.db import DatabaseError, connections
from django.db.models import F
from django.utils import timezone

from notifications.models import Delivery

if TYPE_CHECKING:
    from utils.cronjob import BaseCronJobCommand


@dataclass
class Notice:
    kind: str
    recipient: str  # the ledger's key: "member:<id>" or an address
    describe: str  # who, for the log (a name, never a phone number)
    email: EmailMessage

    channel: str = Delivery.Channel.EMAIL
    # The day the ledger keys the notice on: the run's club day unless the notice is about a
    # date of its own (a briefing for an operations day is sent once per that day, whenever
    # the run that sends it happens).
    day: datetime.date | None = None


def member_key(member_id: int) -> str:
    return f"member:{member_id}"


class Outbox:
    SENT = "sent"
    ALREADY_SENT = "already_sent"
    FAILED = "failed"
    DRY_RUN = "dry_run"

    def __init__(self, job: BaseCronJobCommand) -> None:
        self.job = job
        self._connection = None

    def deliver(self, notice: Notice) -> str:
        job = self.job
        job.checkpoint()
        if job.dry_run:
            job.log("dry_run", f"Would send {notice.channel} {notice.email.subject!r} to {notice.describe}")
            job.count("would_send")
            return self.DRY_RUN
        delivery = self._claim(notice)
        if delivery is None:
            job.log("info", f"Already sent {notice.kind} to {notice.describe} today", min_verbosity=2)
            job.count("already_sent")
            return self.ALREADY_SENT
        try:
            self._send(notice, delivery)
        except Exception as exc:  # noqa: BLE001 - one recipient's failure must not stop the others
            self.close()  # the next notice starts a fresh session
            error = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.FAILED, error=error[:2000])
            job.log("failed", f"Could not send {notice.kind} to {notice.describe}: {error}")
            job.count("failed")
            return self.FAILED
        _record_sent(delivery.pk)
        job.log("sent", f"Sent {notice.email.subject!r} to {notice.describe}")
        job.count("sent")
        return self.SENT

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _claim(self, notice: Notice) -> Delivery | None:
        """The notice's ledger row, claimed for this run; None when it was already sent."""
        job = self.job
        key = {
            "job_name": job.job_name,
            "day": notice.day or job.occurrence_day,
            "recipient": notice.recipient,
            "kind": notice.kind,
            "channel": notice.channel,
        }
        with job.unit_of_work():
            delivery, created = Delivery.objects.get_or_create(
                **key, defaults={"run": job.run, "attempts": 1, "message_id": _message_id()}
            )
            if created:
                return delivery
            if delivery.status == Delivery.Status.SENT and not job.resend:
                return None
            if delivery.status == Delivery.Status.SENT:
                # An explicit resend is a new message; an in-doubt retry keeps its Message-ID.
                delivery.message_id = _message_id()
            Delivery.objects.filter(pk=delivery.pk).update(
                status=Delivery.Status.PENDING,
                attempts=F("attempts") + 1,
                run=job.run,
                message_id=delivery.message_id,
                error="",
            )
            return delivery

    def _send(self, notice: Notice, delivery: Delivery) -> None:
        if self._connection is None:
            # Opened here and kept for the whole run: a backend that opens its own connection
            # closes it after every message (a new SMTP session per notice).
            self._connection = get_connection()
            self._connection.open()
        message = notice.email
        message.connection = self._connection
        message.extra_headers["Message-ID"] = delivery.message_id
        message.send()


def _record_sent(pk: int) -> None:
    """Mark a delivery sent. The message is out: if the database connection broke meanwhile,
    record it on a new connection before letting the error end the run (exit 75), so the next
    run doesn't send it again."""
    mark = Delivery.objects.filter(pk=pk)
    try:
        mark.update(status=Delivery.Status.SENT, sent_at=timezone.now(), error="")
    except DatabaseError:
        connections["default"].close()
        mark.update(status=Delivery.Status.SENT, sent_at=timezone.now(), error="")
        raise


def _message_id() -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "manage2soar.local"
    return make_msgid("m2s", domain=domain)
