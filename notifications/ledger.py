"""The ledger: one ``Delivery`` row per (job, day, recipient, kind, channel), and every change to it.

A row is claimed inside the job's fenced unit of work before anything is sent: created, or taken
over with a compare-and-swap, an UPDATE conditional on the status, the claim token and the
attempt time that were read, so that of two runs that read the row alike only one wins. Every
claim writes a new token; the writes that follow (an attempt, an error) match it, so a run whose
row was taken over writes nothing more to it.

A row already ``sent`` (or held: ``deferred``, ``dropped``) is not ours unless ``--resend``; a row
``in_doubt`` is not ours unless ``--send-in-doubt``. A ``pending`` row was being sent when its
claimant stopped. A run holding its job's lock knows no other run of the job is alive; any other
claimant (``send_deferred_notices`` for another job's row, an alert sent without a lock) waits
until the row's last claim or attempt is older than ``IN_FLIGHT_SECONDS``. Then, if the message
had been handed over (``handed_over_at``), the provider may have it: the row is left in doubt;
else it is taken over and sent.
"""

from __future__ import annotations

import datetime
import secrets
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail.message import make_msgid
from django.db import connections, router
from django.db.models import F, QuerySet
from django.utils import timezone

from notifications.models import Delivery
from notifications.notice import EMAIL, Notice
from utils.cronlog import redact
from utils.errors import DATABASE_ERRORS

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    from notifications.job import SendingJob
    from utils.models import CronJobRun

Status = Delivery.Status
ERROR_LENGTH = 2000  # Delivery.error keeps this much of a message
# A pending row claimed or attempted this recently may still be in its sender's hands: longer
# than every attempt's deadline and back-off together (notifications.retry).
IN_FLIGHT_SECONDS = 15 * 60
# What a notice in doubt is called in the run's one line (count_failure).
IN_DOUBT_PHRASE = "notice(s) in doubt, not sent again (resolve them in the admin, or --send-in-doubt)"


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
            **claim_values(),
            **fields,
        }
        message_id = new_message_id() if channel == EMAIL else ""
        fresh = self._insert_fenced(key, {**values, "message_id": message_id})
        if fresh is not None:
            return fresh
        with self.job.unit_of_work():
            delivery, created = Delivery.objects.select_related("run").get_or_create(
                **key, defaults={**values, "message_id": message_id}
            )
            if created:
                return delivery
            return self._take_over(notice, channel, delivery, values)

    def _insert_fenced(self, key: dict[str, Any], values: dict[str, Any]) -> Delivery | None:
        """A new row, claimed in one fenced statement; None when the row exists, the lease is
        lost or the backend has no such statement (``claim`` then takes its unit-of-work path,
        which says which)."""
        self.job.checkpoint()  # no claim after a stop, as in a unit of work
        fence = fence_of(self.job)
        if fence is None:
            return None
        delivery = Delivery(**key, **values, created_at=timezone.now())
        connection = connections[router.db_for_write(Delivery)]
        params = [
            field.get_db_prep_save(getattr(delivery, field.attname), connection)
            for field in Delivery._meta.concrete_fields
            if not field.primary_key
        ]
        sql = _fenced_insert(connection, tuple(key), fence[0])
        if _may_commit_lazily(connection, values["status"]):
            sql = f"SET LOCAL synchronous_commit = off; {sql}"
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, *fence[1]])
            row = cursor.fetchone()
        if row is None:
            return None
        delivery.pk = row[0]
        delivery._state.adding = False
        return delivery

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
        """An existing row, claimed by compare-and-swap if it is ours to (re)send."""
        current = delivery.status
        why = self._why_not_ours(delivery)
        if why is not None:
            if why == Status.IN_DOUBT and current == Status.PENDING:
                self._leave_in_doubt(notice, channel, delivery)
            else:
                self._not_ours(notice, channel, why)
            return None
        message_id = delivery.message_id if channel == EMAIL else ""
        if channel == EMAIL and (current == Status.SENT or not message_id):
            # An explicit resend is a new message; a retry or a notice in doubt keeps its Message-ID.
            message_id = new_message_id()
        if not as_read(delivery).update(**values, message_id=message_id):
            self._not_ours(notice, channel, "in_flight")
            return None
        delivery.message_id = message_id
        _apply(delivery, values)
        return delivery

    def _why_not_ours(self, delivery: Delivery) -> str | None:
        """Why an existing row is not this run's to send (its status, or "in_flight"); None if it is."""
        job, current = self.job, delivery.status
        if current == Status.PENDING:
            if not self._sender_gone(delivery):
                return "in_flight"
            handed_over = delivery.handed_over_at is not None
            return Status.IN_DOUBT if handed_over and not job.send_in_doubt else None
        if current == Status.IN_DOUBT:
            return None if job.send_in_doubt else Status.IN_DOUBT
        if current in (Status.SENT, Status.DEFERRED, Status.DROPPED):
            return None if job.resend else current
        return None  # failed: the provider refused it, so it may go again

    def _sender_gone(self, delivery: Delivery) -> bool:
        """Whether the sender of a pending row is known to be gone (see the module's docstring)."""
        job = self.job
        same_job = delivery.run is None or delivery.run.job_name == job.job_name
        if same_job and job.lock_acquired:
            return True
        claimed = delivery.last_attempt_at or delivery.created_at
        return timezone.now() - claimed > datetime.timedelta(seconds=IN_FLIGHT_SECONDS)

    def _leave_in_doubt(self, notice: Notice, channel: str, delivery: Delivery) -> None:
        """A pending row whose sender stopped after handing the message over: in doubt."""
        when = delivery.handed_over_at
        reason = f"its sender stopped after handing it over at {when:%Y-%m-%d %H:%M:%S} UTC, before an answer"
        if not as_read(delivery).update(status=Status.IN_DOUBT, error=reason):
            self._not_ours(notice, channel, "in_flight")
            return
        self._not_ours(notice, channel, Status.IN_DOUBT)

    def _not_ours(self, notice: Notice, channel: str, why: str) -> None:
        """Log and count a row that is not this run's to send (``why``: its status, or in flight)."""
        job = self.job
        if why == Status.SENT:
            job.log("info", f"Already sent {notice.kind} to {notice.describe} today", min_verbosity=2)
            job.count("already_sent")
        elif why == Status.IN_DOUBT:
            job.log("warning", f"The {channel} of {notice.kind} to {notice.describe} is in doubt: not sent")
            job.count_failure("in_doubt", IN_DOUBT_PHRASE)
        else:
            job.log("info", f"The {channel} of {notice.kind} to {notice.describe} is {why}", min_verbosity=2)
            job.count({Status.DROPPED: "dropped", "in_flight": "in_flight"}.get(why, "deferred"))


def claim_values() -> dict[str, Any]:
    """What every claim writes: a new token, and its time (see IN_FLIGHT_SECONDS)."""
    return {"claim_token": secrets.token_hex(16), "last_attempt_at": timezone.now(), "handed_over_at": None}


def as_read(delivery: Delivery) -> QuerySet[Delivery]:
    """The row, if it is still as ``delivery`` read it: the compare of a compare-and-swap."""
    return Delivery.objects.filter(
        pk=delivery.pk,
        status=delivery.status,
        claim_token=delivery.claim_token,
        last_attempt_at=delivery.last_attempt_at,
    )


def _apply(delivery: Delivery, values: dict[str, Any]) -> None:
    for field in ("status", "run", "claim_token", "last_attempt_at", "handed_over_at", "error"):
        if field in values:
            setattr(delivery, field, values[field])


def fence_of(job: SendingJob) -> tuple[str, list[str]] | None:
    """The condition that fences one statement by the job's lease (``CronJobLock.objects.fence``);
    None where a unit of work must do it."""
    from utils.models import CronJobLock

    return CronJobLock.objects.fence(job.lease)


def _may_commit_lazily(connection: BaseDatabaseWrapper, status: str) -> bool:
    """Whether a new claim may commit without waiting for its WAL to reach the disk.

    A pending claim promises nothing yet: nothing is sent before the hand-over, whose commit
    waits for the disk and so makes the claim durable first (PostgreSQL flushes its log in
    order). Should the database server crash before, the claim is gone and nothing was sent;
    the next run claims it anew. A claim that is itself an outcome (an SMS deferred or dropped
    for quiet hours) waits for the disk like any other write. The claim's own statement, run in
    autocommit (one implicit transaction), is all SET LOCAL touches.
    """
    return connection.vendor == "postgresql" and status == Status.PENDING and not connection.in_atomic_block


# The fenced claim's statement, per (database alias, vendor, key, fence): built once per run, not
# once per notice (quoting every column and typing every placeholder costs more than it seems).
_FENCED_INSERTS: dict[tuple[str, str, tuple[str, ...], str], str] = {}


def _fenced_insert(connection: BaseDatabaseWrapper, key: tuple[str, ...], fence: str) -> str:
    cache_key = (connection.alias, connection.vendor, key, fence)
    sql = _FENCED_INSERTS.get(cache_key)
    if sql is None:
        fields = Delivery._meta.concrete_fields
        columns = [connection.ops.quote_name(field.column) for field in fields if not field.primary_key]
        conflict = ", ".join(connection.ops.quote_name(field.column) for field in fields if field.name in key)
        sql = _FENCED_INSERTS[cache_key] = (
            f"INSERT INTO {Delivery._meta.db_table} ({', '.join(columns)}) "
            f"SELECT {', '.join(_placeholders(connection))} WHERE {fence} "
            f"ON CONFLICT ({conflict}) DO NOTHING RETURNING id"
        )
    return sql


def _placeholders(connection: BaseDatabaseWrapper) -> list[str]:
    """One placeholder per column of a new Delivery row; typed on PostgreSQL, where the values
    of an INSERT ... SELECT are not typed by the columns they go to."""
    fields = [field for field in Delivery._meta.concrete_fields if not field.primary_key]
    if connection.vendor != "postgresql":
        return ["%s"] * len(fields)
    return [f"CAST(%s AS {field.db_type(connection)})" for field in fields]


# --- A claimed row while it is sent (each write matches this run's claim) ---------------------
def _claimed(delivery: Delivery) -> QuerySet[Delivery]:
    return Delivery.objects.filter(pk=delivery.pk, claim_token=delivery.claim_token)


def record_handover(delivery: Delivery, fence: tuple[str, list[str]] | None = None) -> bool:
    """The message is about to go out to its provider; False if the row is no longer this run's
    (or, with ``fence``, if the statement's fence fails: the lease is lost)."""
    now = timezone.now()
    if fence is not None:  # one plain statement: the ORM's update() costs more than its commit
        connection = connections[router.db_for_write(Delivery)]
        when = connection.ops.adapt_datetimefield_value(now)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Delivery._meta.db_table} SET attempts = attempts + 1, last_attempt_at = %s, "
                f"handed_over_at = %s WHERE id = %s AND claim_token = %s AND status = %s AND {fence[0]}",
                [when, when, delivery.pk, delivery.claim_token, Status.PENDING, *fence[1]],
            )
            handed = cursor.rowcount
    else:
        claimed = _claimed(delivery).filter(status=Status.PENDING)
        handed = claimed.update(attempts=F("attempts") + 1, last_attempt_at=now, handed_over_at=now)
    if handed:
        delivery.last_attempt_at = delivery.handed_over_at = now
    return bool(handed)


def record_error(delivery: Delivery, error: str, *, counted: bool) -> None:
    """The error of an attempt the provider did not take (the row stays pending while it may be
    retried); ``counted``: the attempt is already counted (it got as far as the hand-over)."""
    values: dict[str, Any] = {"error": _stored(error), "handed_over_at": None}
    if not counted:
        values.update(attempts=F("attempts") + 1, last_attempt_at=timezone.now())
    _claimed(delivery).update(**values)
    delivery.handed_over_at = None


def record_failed(delivery: Delivery, error: str) -> None:
    _claimed(delivery).update(status=Status.FAILED, error=_stored(error), handed_over_at=None)


def record_in_doubt(delivery: Delivery, error: str) -> None:
    """The provider may have the message: never sent again by itself."""
    Delivery.objects.filter(pk=delivery.pk).update(status=Status.IN_DOUBT, error=_stored(error))


def record_sent(pk: int, message_id: str) -> None:
    """Mark a delivery sent. The message is out: if the database connection broke meanwhile,
    record it on a new connection before letting the error end the run (exit 75), so the next
    run doesn't send it again."""
    try:
        _mark_sent(pk, message_id)
    except DATABASE_ERRORS:  # InterfaceError too: a connection that broke earlier
        connections["default"].close()
        _mark_sent(pk, message_id)
        raise


def _mark_sent(pk: int, message_id: str) -> None:
    """One plain statement (the ORM's update() costs more than its commit)."""
    connection = connections[router.db_for_write(Delivery)]
    when = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Delivery._meta.db_table} SET status = %s, error = '', message_id = %s, sent_at = %s "
            "WHERE id = %s",
            [Status.SENT, message_id, when, pk],
        )


def _stored(error: str) -> str:
    """An error as the ledger keeps it: redacted like a log line (addresses, numbers, secrets)."""
    return redact(error)[:ERROR_LENGTH]


# --- A held (deferred) SMS, each change a compare-and-swap on the row as it was read --------
def drop_held(delivery: Delivery, reason: str) -> bool:
    """Drop a held SMS that should no longer go; False if another run changed it first."""
    return bool(as_read(delivery).update(status=Status.DROPPED, error=_stored(reason)))


def defer_held(delivery: Delivery, until: datetime.datetime) -> None:
    as_read(delivery).update(status=Status.DEFERRED, not_before=until)


def leave_held_in_doubt(delivery: Delivery) -> bool:
    """A held SMS its dead sender had handed over: in doubt; False if another run changed it first."""
    reason = "its sender stopped after handing it over, before the answer"
    return bool(as_read(delivery).update(status=Status.IN_DOUBT, error=reason))


def claim_held(delivery: Delivery, run: CronJobRun | None) -> bool:
    """Take a held SMS for this run to send now; False if another run took it."""
    values = {"status": Status.PENDING, "run": run, "error": "", **claim_values()}
    if not as_read(delivery).update(**values):
        return False
    _apply(delivery, values)
    return True


def new_message_id() -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "manage2soar.local"
    return make_msgid("m2s", domain=domain)
