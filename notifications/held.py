"""SMS in quiet hours: held when due (deferred or dropped, per kind), sent when the quiet hours end.

An SMS due in the member's quiet hours is recorded ``deferred`` with its text and the time they
end, or ``dropped``, as its ``NoticeKind`` says. ``send_deferred_notices`` sends a deferred one
later, unless it should no longer go (then it is dropped, with why).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

from notifications.ledger import (
    IN_DOUBT_PHRASE,
    Status,
    claim_held,
    defer_held,
    drop_held,
    leave_held_in_doubt,
)
from notifications.models import NoticeKind
from notifications.notice import SMS, Notice, Outcome
from notifications.quiet_hours import QuietHours

if TYPE_CHECKING:
    from members.models import Member
    from notifications.job import SendingJob
    from notifications.ledger import Ledger
    from notifications.models import Delivery
    from notifications.routing import Routing
    from notifications.sending import Dispatcher


class QuietHoursHold:
    """Holds back the SMS due in a member's quiet hours, and lets them go when those end."""

    def __init__(self, job: SendingJob, routing: Routing, ledger: Ledger, dispatcher: Dispatcher) -> None:
        self.job, self.routing, self.ledger, self.dispatcher = job, routing, ledger, dispatcher
        self.quiet = QuietHours.from_settings()

    def quiet_until(self, notice: Notice) -> datetime.datetime | None:
        """When the recipient's quiet hours end, if it is quiet there now; else None."""
        member = self.routing.member(notice)
        if self.quiet is None or member is None:
            return None
        return self.quiet.quiet_until(timezone.now(), member.zone)

    def defers(self, notice: Notice) -> bool:
        kind = self.routing.kind(notice)
        return kind is None or kind.sms_quiet_hours == NoticeKind.QuietHours.DEFER

    def would_hold(self, notice: Notice, until: datetime.datetime) -> None:
        """A dry run's line for an SMS that quiet hours would hold."""
        defer = self.defers(notice)
        verb = "defer" if defer else "drop"
        self.job.log(
            "dry_run",
            f"Would {verb} the SMS to {notice.describe}: quiet hours until {until:%H:%M} their time",
        )
        self.job.count("would_defer" if defer else "would_drop")

    def hold(self, notice: Notice, text: str, until: datetime.datetime) -> str:
        """An SMS due in quiet hours: recorded as deferred (with its text) or dropped."""
        job, defer = self.job, self.defers(notice)
        if defer:
            delivery = self.ledger.claim(notice, SMS, status=Status.DEFERRED, not_before=until, body=text)
        else:
            delivery = self.ledger.claim(notice, SMS, status=Status.DROPPED, error="quiet hours")
        if delivery is None:
            return Outcome.ALREADY_SENT
        if defer:
            job.log(
                "info",
                f"Deferred the SMS to {notice.describe} until {until:%a %H:%M} their time (quiet hours)",
            )
            job.count("deferred")
            return Outcome.DEFERRED
        job.log("info", f"Dropped the SMS to {notice.describe}: quiet hours there until {until:%H:%M}")
        job.count("dropped")
        return Outcome.DROPPED

    # --- When the quiet hours are over (send_deferred_notices) ---------------------------------
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
        if self._handed_over(delivery):
            return self._in_doubt(delivery, describe)
        reason = self._no_longer(notice, delivery)
        until = self.quiet_until(notice) if reason is None else None
        if job.dry_run:
            return self._dry_run(notice, delivery, reason, until)
        # Every change to the row is fenced by the lease, like a claim: a run that lost its
        # lease can't take a held SMS that the next holder may be sending.
        if reason is not None:
            with job.unit_of_work():
                dropped = drop_held(delivery, reason)
            if dropped:
                job.log("info", f"Dropped the deferred SMS to {describe}: {reason}")
                job.count("dropped")
            return Outcome.DROPPED
        if until is not None:  # the member moved to a zone where it is night again
            with job.unit_of_work():
                defer_held(delivery, until)
            job.log("info", f"Deferred the SMS to {describe} again, until {until:%a %H:%M} their time")
            job.count("deferred")
            return Outcome.DEFERRED
        with job.unit_of_work():
            claimed = claim_held(delivery, job.run)
        if not claimed:
            return Outcome.ALREADY_SENT  # another run took it
        return self.dispatcher.send(notice, SMS, delivery.body, delivery)

    def _handed_over(self, delivery: Delivery) -> bool:
        """A pending SMS of ours whose (dead) sender had handed it to Twilio: it may be out."""
        pending = delivery.status == Status.PENDING and delivery.handed_over_at is not None
        return pending and not self.job.send_in_doubt

    def _in_doubt(self, delivery: Delivery, describe: str) -> str:
        job = self.job
        if job.dry_run:
            job.log("dry_run", f"Would leave the SMS to {describe} in doubt: its sender stopped mid-send")
            return Outcome.DRY_RUN
        with job.unit_of_work():
            doubted = leave_held_in_doubt(delivery)
        if not doubted:
            return Outcome.ALREADY_SENT  # another run acted on it first
        job.log("warning", f"The SMS to {describe} is in doubt (its sender stopped mid-send): not sent again")
        job.count_failure("in_doubt", IN_DOUBT_PHRASE)
        return Outcome.IN_DOUBT

    def _dry_run(
        self, notice: Notice, delivery: Delivery, reason: str | None, until: datetime.datetime | None
    ) -> str:
        if reason is not None:
            self.job.log("dry_run", f"Would drop the deferred SMS to {notice.describe}: {reason}")
            self.job.count("would_drop")
        elif until is not None:
            self.would_hold(notice, until)
        else:
            self.dispatcher.would_send(notice, SMS, delivery.body)
        return Outcome.DRY_RUN

    def _no_longer(self, notice: Notice, delivery: Delivery) -> str | None:
        """Why a deferred SMS should not go after all; None if it still should."""
        kind = self.routing.kind(notice)
        member = notice.member
        if member is None or not member.can_receive_sms:
            return "the member no longer takes SMS"
        if kind is None or not kind.sms:
            return f"{notice.policy_key} is no longer sent by SMS"
        if (member.pk, notice.policy_key, SMS) in self.routing.opt_outs:
            return f"the member opted out of {notice.policy_key} by SMS"
        max_age = datetime.timedelta(hours=settings.SMS_DEFERRED_MAX_AGE_HOURS)
        if delivery.not_before is not None and timezone.now() > delivery.not_before + max_age:
            return f"too late: its quiet hours ended more than {settings.SMS_DEFERRED_MAX_AGE_HOURS} h ago"
        return None
