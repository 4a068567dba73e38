"""The one path every notice takes: record it in the ledger, send it, mark it sent.

A ``Notice`` carries what each channel would send: an email, an SMS text, a Slack text. The
``Outbox`` asks the data which of them go out: the notice's kind (``NoticeKind``: email? SMS
offered? Slack?), the member's preferences (SMS opt-in, a number not refused, per-kind opt-outs)
and the configuration (Twilio, the Slack webhook). Each channel that goes is one ledger row
under the unique key (job, day, recipient, kind, channel), so the email and the SMS of one
briefing are each sent once.

For each row the Outbox first claims it inside the job's fenced unit of work; a row already
``sent`` means it went out before and nothing is sent (unless ``--resend``). Then it sends,
outside any transaction, retrying a temporary failure with back-off (``notifications.retry``)
and counting every attempt on the row, and marks it ``sent`` — or ``failed`` with the last
error, counted, without stopping the other notices. A row left ``pending`` by a run that died
mid-send is sent again by the next run (an email with the same Message-ID, so mail systems can
drop a duplicate of the one in-flight message). An SMS due in the member's quiet hours is
``deferred`` (sent by ``send_deferred_notices`` when they end) or ``dropped``, per kind.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.db import DatabaseError, connections
from django.db.models import F
from django.utils import timezone

from notifications import sms
from notifications.channels import DeliveryError, EmailChannel, SlackChannel, SmsChannel
from notifications.models import Delivery, NoticeKind, OptOut
from notifications.quiet_hours import QuietHours
from notifications.retry import RetryPolicy, retry_budget

if TYPE_CHECKING:
    from members.models import Member
    from utils.cronjob import BaseCronJobCommand

EMAIL, SMS, SLACK = Delivery.Channel.EMAIL, Delivery.Channel.SMS, Delivery.Channel.SLACK
SLACK_RECIPIENT = "slack:club"
Status = Delivery.Status


@dataclass
class Notice:
    kind: str  # the ledger's kind, e.g. "duty_delinquents:2026-12"
    recipient: str  # the ledger's key: "member:<id>", an address, or SLACK_RECIPIENT
    describe: str  # who, for the log (a name, never a phone number)
    email: EmailMessage | None = None
    # The day the ledger keys the notice on: the run's club day unless the notice is about a
    # date of its own (a briefing for an operations day is sent once per that day, whenever
    # the run that sends it happens).
    day: datetime.date | None = None
    sms: str | None = None  # the SMS text, cut to two segments when sent
    slack: str | None = None  # the Slack post
    member: Member | None = None  # the recipient's preferences (loaded by id when missing)
    kind_key: str | None = None  # the NoticeKind; default the kind up to its first ":"

    @property
    def policy_key(self) -> str:
        return self.kind_key or self.kind.partition(":")[0]

    @property
    def member_id(self) -> int | None:
        prefix, _, pk = self.recipient.partition(":")
        return int(pk) if prefix == "member" and pk.isdigit() else None


def member_key(member_id: int) -> str:
    return f"member:{member_id}"


def slack_notice(kind: str, text: str, *, day: datetime.date | None = None) -> Notice:
    """A post to the club's Slack channel (one per kind and day)."""
    return Notice(kind, SLACK_RECIPIENT, "the club's Slack channel", slack=text, day=day)


def posts_to_slack(kind: str) -> bool:
    """Whether a notice of ``kind`` would be posted to Slack (webhook set, the kind says so)."""
    if not SlackChannel.configured():
        return False
    row = NoticeKind.objects.filter(key=kind.partition(":")[0]).values_list("slack", flat=True).first()
    return row is None or row


class Outbox:
    SENT = "sent"
    ALREADY_SENT = "already_sent"
    FAILED = "failed"
    DRY_RUN = "dry_run"
    DEFERRED = "deferred"
    DROPPED = "dropped"

    def __init__(self, job: BaseCronJobCommand) -> None:
        self.job = job
        self.senders: dict[str, Any] = {EMAIL: EmailChannel(), SMS: SmsChannel(), SLACK: SlackChannel()}
        self.retry = RetryPolicy.from_settings()
        self.quiet = QuietHours.from_settings()
        self._members: dict[int, Member | None] = {}
        self._said: set[str] = set()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        for sender in self.senders.values():
            sender.close()

    # --- Which channels ----------------------------------------------------------------------
    @cached_property
    def kinds(self) -> dict[str, NoticeKind]:
        return {kind.key: kind for kind in NoticeKind.objects.all()}

    @cached_property
    def opt_outs(self) -> set[tuple[int, str, str]]:
        return set(OptOut.objects.values_list("member_id", "kind__key", "channel"))

    def deliver(self, notice: Notice) -> dict[str, str]:
        """Send the notice on each channel it goes out on; the outcome per channel."""
        self.job.checkpoint()
        return {
            channel: self._deliver_on(notice, channel, payload) for channel, payload in self.routes(notice)
        }

    def routes(self, notice: Notice) -> list[tuple[str, Any]]:
        """The channels the notice goes out on, each with what it sends."""
        kind = self.kinds.get(notice.policy_key)
        routes: list[tuple[str, Any]] = []
        if notice.email is not None and (kind is None or kind.email) and not self._opted_out(notice, EMAIL):
            routes.append((EMAIL, notice.email))
        if notice.sms and kind is not None and kind.sms and self._sms_wanted(notice):
            routes.append((SMS, sms.fit(notice.sms)))
        if notice.slack and (kind is None or kind.slack):
            if SlackChannel.configured():
                routes.append((SLACK, notice.slack))
            else:
                self._say_once("slack", "info", "Slack is not configured (SLACK_WEBHOOK_URL): nothing posted")
        return routes

    def member(self, notice: Notice) -> Member | None:
        if notice.member is not None:
            return notice.member
        pk = notice.member_id
        if pk is not None and pk not in self._members:
            self._members[pk] = get_user_model().objects.filter(pk=pk).first()
        return self._members.get(pk) if pk is not None else None

    def _opted_out(self, notice: Notice, channel: str) -> bool:
        pk = notice.member_id
        if pk is None or (pk, notice.policy_key, channel) not in self.opt_outs:
            return False
        self.job.log(
            "info", f"{notice.describe} opted out of {notice.policy_key} by {channel}", min_verbosity=2
        )
        self.job.count("opted_out")
        return True

    def _sms_wanted(self, notice: Notice) -> bool:
        member = self.member(notice)
        if member is None or not member.can_receive_sms or self._opted_out(notice, SMS):
            return False
        if not SmsChannel.configured():
            self._say_once(
                "sms",
                "warning",
                "SMS is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER): "
                "members who opted in get no SMS",
            )
            self.job.count("sms_not_configured")
            return False
        return True

    def _say_once(self, topic: str, event: str, message: str) -> None:
        if topic not in self._said:
            self._said.add(topic)
            self.job.log(event, message, min_verbosity=1 if event == "warning" else 2)

    # --- One channel -------------------------------------------------------------------------
    def _deliver_on(self, notice: Notice, channel: str, payload: Any) -> str:
        job = self.job
        until = self._quiet_until(notice) if channel == SMS else None
        if job.dry_run:
            return self._dry_run(notice, channel, payload, until)
        if until is not None:
            return self._hold(notice, payload, until)
        delivery = self._claim(notice, channel)
        if delivery is None:
            return self.ALREADY_SENT
        return self._send(notice, channel, payload, delivery)

    def _dry_run(self, notice: Notice, channel: str, payload: Any, until: datetime.datetime | None) -> str:
        job = self.job
        if until is not None:
            defer = self._defers(notice)
            verb = "defer" if defer else "drop"
            job.log(
                "dry_run",
                f"Would {verb} the SMS to {notice.describe}: quiet hours until {until:%H:%M} their time",
            )
            job.count("would_defer" if defer else "would_drop")
        else:
            job.log(
                "dry_run", f"Would send {channel} {self._what(notice, channel, payload)} to {notice.describe}"
            )
            job.count("would_send")
        return self.DRY_RUN

    def _what(self, notice: Notice, channel: str, payload: Any) -> str:
        if channel == EMAIL:
            return repr(payload.subject)
        if channel == SMS:
            count = sms.segments(payload)
            return f"{notice.policy_key} ({count} segment{'s' * (count != 1)})"
        return notice.policy_key

    def _quiet_until(self, notice: Notice) -> datetime.datetime | None:
        member = self.member(notice)
        if self.quiet is None or member is None:
            return None
        return self.quiet.quiet_until(timezone.now(), member.zone)

    def _defers(self, notice: Notice) -> bool:
        kind = self.kinds.get(notice.policy_key)
        return kind is None or kind.sms_quiet_hours == NoticeKind.QuietHours.DEFER

    def _hold(self, notice: Notice, text: str, until: datetime.datetime) -> str:
        """An SMS due in quiet hours: recorded as deferred (with its text) or dropped."""
        defer = self._defers(notice)
        if defer:
            delivery = self._claim(notice, SMS, status=Status.DEFERRED, not_before=until, body=text)
        else:
            delivery = self._claim(notice, SMS, status=Status.DROPPED, error="quiet hours")
        if delivery is None:
            return self.ALREADY_SENT
        if defer:
            self.job.log(
                "info",
                f"Deferred the SMS to {notice.describe} until {until:%a %H:%M} their time (quiet hours)",
            )
            self.job.count("deferred")
            return self.DEFERRED
        self.job.log("info", f"Dropped the SMS to {notice.describe}: quiet hours there until {until:%H:%M}")
        self.job.count("dropped")
        return self.DROPPED

    def _claim(
        self, notice: Notice, channel: str, *, status: str = Status.PENDING, **fields: Any
    ) -> Delivery | None:
        """The notice's ledger row on ``channel``, claimed for this run; None when it is not ours to send."""
        job = self.job
        key = {
            "job_name": job.job_name,
            "day": notice.day or job.occurrence_day,
            "recipient": notice.recipient,
            "kind": notice.kind,
            "channel": channel,
        }
        values = {
            "status": status,
            "run": job.run,
            "notice_kind": notice.policy_key,
            "not_before": None,
            "body": "",
            "error": "",
            **fields,
        }
        with job.unit_of_work():
            delivery, created = Delivery.objects.select_related("run").get_or_create(
                **key, defaults={**values, "message_id": _message_id() if channel == EMAIL else ""}
            )
            if created:
                return delivery
            current = delivery.status
            if (
                current == Status.PENDING
                and delivery.run is not None
                and delivery.run.job_name != job.job_name
            ):
                return self._not_ours(notice, channel, "in_flight")  # send_deferred_notices has it
            if current in (Status.SENT, Status.DEFERRED, Status.DROPPED) and not job.resend:
                return self._not_ours(notice, channel, current)
            message_id = delivery.message_id if channel == EMAIL else ""
            if channel == EMAIL and (current == Status.SENT or not message_id):
                # An explicit resend is a new message; an in-doubt retry keeps its Message-ID.
                message_id = _message_id()
            claimed = Delivery.objects.filter(pk=delivery.pk, status=current).update(
                **values, message_id=message_id
            )
            if not claimed:
                return self._not_ours(notice, channel, "in_flight")
            delivery.status, delivery.message_id = status, message_id
            return delivery

    def _not_ours(self, notice: Notice, channel: str, why: str) -> None:
        if why == Status.SENT:
            self.job.log("info", f"Already sent {notice.kind} to {notice.describe} today", min_verbosity=2)
            self.job.count("already_sent")
        else:
            self.job.log(
                "info", f"The {channel} of {notice.kind} to {notice.describe} is {why}", min_verbosity=2
            )
            self.job.count("dropped" if why == Status.DROPPED else "deferred")
        return None

    # --- A deferred SMS, when its quiet hours are over (send_deferred_notices) ------------------
    def send_held(self, delivery: Delivery, member: Member | None) -> str:
        """Send a deferred SMS now, unless it no longer should go (then it is dropped, with why)."""
        job = self.job
        job.checkpoint()
        describe = member.full_name if member is not None else delivery.recipient
        notice = Notice(
            delivery.kind,
            delivery.recipient,
            describe,
            day=delivery.day,
            sms=delivery.body,
            member=member,
            kind_key=delivery.notice_kind or None,
        )
        reason = self._no_longer(notice, delivery)
        until = self._quiet_until(notice) if reason is None else None
        if job.dry_run:
            if reason is not None:
                job.log("dry_run", f"Would drop the deferred SMS to {describe}: {reason}")
                job.count("would_drop")
                return self.DRY_RUN
            return self._dry_run(notice, SMS, delivery.body, until)
        claimable = Delivery.objects.filter(pk=delivery.pk, status=delivery.status)
        if reason is not None:
            if claimable.update(status=Status.DROPPED, error=reason[:2000]):
                job.log("info", f"Dropped the deferred SMS to {describe}: {reason}")
                job.count("dropped")
            return self.DROPPED
        if until is not None:  # the member moved to a zone where it is night again
            claimable.update(status=Status.DEFERRED, not_before=until)
            job.log("info", f"Deferred the SMS to {describe} again, until {until:%a %H:%M} their time")
            job.count("deferred")
            return self.DEFERRED
        if not claimable.update(status=Status.PENDING, run=job.run, error=""):
            return self.ALREADY_SENT  # another run took it
        return self._send(notice, SMS, delivery.body, delivery)

    def _no_longer(self, notice: Notice, delivery: Delivery) -> str | None:
        """Why a deferred SMS should not go after all; None if it still should."""
        kind = self.kinds.get(notice.policy_key)
        member = notice.member
        if member is None or not member.can_receive_sms:
            return "the member no longer takes SMS"
        if kind is None or not kind.sms:
            return f"{notice.policy_key} is no longer sent by SMS"
        if (member.pk, notice.policy_key, SMS) in self.opt_outs:
            return f"the member opted out of {notice.policy_key} by SMS"
        max_age = datetime.timedelta(hours=settings.SMS_DEFERRED_MAX_AGE_HOURS)
        if delivery.not_before is not None and timezone.now() > delivery.not_before + max_age:
            return f"too late: its quiet hours ended more than {settings.SMS_DEFERRED_MAX_AGE_HOURS} h ago"
        return None

    def _send(self, notice: Notice, channel: str, payload: Any, delivery: Delivery) -> str:
        job = self.job
        try:
            provider_id = self.attempt(notice, channel, payload, delivery)
        except DeliveryError as err:
            Delivery.objects.filter(pk=delivery.pk).update(status=Status.FAILED, error=str(err)[:2000])
            how = "" if channel == EMAIL else f" by {channel}"
            job.log("failed", f"Could not send {notice.kind}{how} to {notice.describe}: {err}")
            job.count("failed")
            return self.FAILED
        _record_sent(delivery.pk, provider_id or delivery.message_id)
        what = self._what(notice, channel, payload)
        job.log("sent", f"Sent {what if channel == EMAIL else f'{channel} {what}'} to {notice.describe}")
        job.count("sent")
        return self.SENT

    def attempt(self, notice: Notice, channel: str, payload: Any, delivery: Delivery) -> str:
        """Send, retrying temporary failures within the job's deadline; every attempt on the row."""
        job = self.job
        tries = 0
        while True:
            tries += 1
            Delivery.objects.filter(pk=delivery.pk).update(
                attempts=F("attempts") + 1, last_attempt_at=timezone.now()
            )
            try:
                return self._send_once(notice, channel, payload, delivery)
            except DeliveryError as err:
                Delivery.objects.filter(pk=delivery.pk).update(error=str(err)[:2000])
                if err.block_reason:
                    self._block(notice, err.block_reason)
                if not err.temporary:
                    raise
                if tries >= self.retry.attempts:
                    raise DeliveryError(f"{err} (gave up after {tries} attempts)", temporary=True) from err
                wait = self.retry.delay(tries, err.retry_after)
                budget = retry_budget(job.remaining_time(), job.max_execution_time)
                if wait > budget.total_seconds():
                    raise DeliveryError(
                        f"{err} (no time left to retry before the deadline)", temporary=True
                    ) from err
                job.log(
                    "warning",
                    f"{channel} to {notice.describe} failed ({err}); retrying in {wait:.1f}s "
                    f"(attempt {tries + 1} of {self.retry.attempts})",
                )
                job.count("retried")
                self._pause(wait)

    def _send_once(self, notice: Notice, channel: str, payload: Any, delivery: Delivery) -> str:
        sender = self.senders[channel]
        if channel == EMAIL:
            return sender.send(payload, delivery.message_id)
        if channel == SMS:
            member = self.member(notice)
            assert member is not None
            return sender.send(member.phone, payload)
        return sender.send(payload)

    def _pause(self, seconds: float) -> None:
        """Sleep, but stop at once on SIGTERM, the deadline or a lost lease."""
        until = time.monotonic() + seconds
        while (left := until - time.monotonic()) > 0:
            time.sleep(min(left, 0.25))
            self.job.checkpoint()

    def _block(self, notice: Notice, reason: str) -> None:
        """The provider refused the number for good: no SMS to it until it changes."""
        member = self.member(notice)
        if member is None:
            return
        now = timezone.now()
        with self.job.unit_of_work():
            get_user_model().objects.filter(pk=member.pk, sms_blocked_at__isnull=True).update(
                sms_blocked_at=now, sms_blocked_reason=reason[:200]
            )
        member.sms_blocked_at, member.sms_blocked_reason = now, reason[:200]
        self.job.log_warning(f"{notice.describe}'s phone number was refused ({reason}): no more SMS to it")
        self.job.count("sms_blocked")


def _record_sent(pk: int, message_id: str) -> None:
    """Mark a delivery sent. The message is out: if the database connection broke meanwhile,
    record it on a new connection before letting the error end the run (exit 75), so the next
    run doesn't send it again."""
    mark = Delivery.objects.filter(pk=pk)
    values = {"status": Status.SENT, "error": "", "message_id": message_id}
    try:
        mark.update(sent_at=timezone.now(), **values)
    except DatabaseError:
        connections["default"].close()
        mark.update(sent_at=timezone.now(), **values)
        raise


def _message_id() -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "manage2soar.local"
    return make_msgid("m2s", domain=domain)
