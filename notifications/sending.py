"""Sending a claimed notice on one channel: attempts with back-off, then the row marked sent,
failed or in doubt.

Sending happens outside any transaction. Each attempt is one ``Conversation`` with the provider,
bounded as a whole by the channel's deadline (``EMAIL_TIMEOUT``, ``CHANNEL_TIMEOUT``). Right
before the message itself goes out, the attempt is recorded on the row inside the job's fenced
unit of work: a run that is stopping, lost its lease, or whose row another run took over hands
nothing over. A failure that proves the provider did not take the message is retried
(``notifications.retry``) while the job's deadline allows; one that leaves it in doubt never is.
A number the provider refuses for good is blocked on the member. A failure is counted and logged
without stopping the other notices.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.utils import timezone

from notifications import sms
from notifications.channels import EmailChannel, SlackChannel, SmsChannel
from notifications.conversation import Conversation
from notifications.failures import DeliveryError
from notifications.ledger import (
    IN_DOUBT_PHRASE,
    fence_of,
    record_error,
    record_failed,
    record_handover,
    record_in_doubt,
    record_sent,
)
from notifications.notice import EMAIL, SMS, Notice, Outcome, Payload
from notifications.retry import RetryPolicy, retry_budget

if TYPE_CHECKING:
    from notifications.job import SendingJob
    from notifications.models import Delivery
    from notifications.routing import Routing


class ClaimLost(Exception):
    """Another run took the row over before this one handed the message over: it sends nothing."""


def what(notice: Notice, channel: str, payload: Payload) -> str:
    """What is sent, for the log: an email's subject, the kind (and SMS segments) otherwise."""
    if isinstance(payload, EmailMessage):
        return repr(payload.subject)
    if channel == SMS:
        count = sms.segments(payload)
        return f"{notice.policy_key} ({count} segment{'s' * (count != 1)})"
    return notice.policy_key


class Dispatcher:
    """The run's channel senders (one SMTP session, one HTTP client each) and its retry policy."""

    def __init__(self, job: SendingJob, routing: Routing) -> None:
        self.job = job
        self.routing = routing
        self.email_channel = EmailChannel()
        self.sms_channel = SmsChannel()
        self.slack_channel = SlackChannel()
        self.retry = RetryPolicy.from_settings()

    def close(self) -> None:
        self.email_channel.close()
        self.sms_channel.close()
        self.slack_channel.close()

    def would_send(self, notice: Notice, channel: str, payload: Payload) -> None:
        """A dry run's line for a notice that would go now."""
        self.job.log("dry_run", f"Would send {channel} {what(notice, channel, payload)} to {notice.describe}")
        self.job.count("would_send")

    def send(self, notice: Notice, channel: str, payload: Payload, delivery: Delivery) -> str:
        """Send on a claimed row and mark it sent, or failed or in doubt with the last error."""
        job = self.job
        # A hard stop (the grace after SIGTERM or the deadline ran out) between the provider
        # accepting the message and the row saying so would leave it in doubt: it waits for this
        # block, which the send deadline bounds.
        with job.no_hard_stop():
            try:
                provider_id = self.attempt(notice, channel, payload, delivery)
            except DeliveryError as err:
                return self._not_sent(notice, channel, delivery, err)
            except ClaimLost:
                taken = f"The {channel} of {notice.kind} to {notice.describe} was taken over by another run"
                job.log("info", taken, min_verbosity=2)
                job.count("in_flight")
                return Outcome.ALREADY_SENT
            record_sent(delivery.pk, provider_id or delivery.message_id)
        sent = what(notice, channel, payload)
        job.log("sent", f"Sent {sent if channel == EMAIL else f'{channel} {sent}'} to {notice.describe}")
        job.count("sent")
        return Outcome.SENT

    def _not_sent(self, notice: Notice, channel: str, delivery: Delivery, err: DeliveryError) -> str:
        job, how = self.job, "" if channel == EMAIL else f" by {channel}"
        if err.in_doubt:
            record_in_doubt(delivery, str(err))
            job.log("failed", f"{notice.kind}{how} to {notice.describe} is in doubt: {err}; not sent again")
            job.count_failure("in_doubt", IN_DOUBT_PHRASE)
            return Outcome.IN_DOUBT
        record_failed(delivery, str(err))
        job.log("failed", f"Could not send {notice.kind}{how} to {notice.describe}: {err}")
        job.count_failure("failed", "notice(s) not sent")
        return Outcome.FAILED

    def attempt(self, notice: Notice, channel: str, payload: Payload, delivery: Delivery) -> str:
        """Send, retrying what the provider did not take within the job's deadline; every attempt
        on the row."""
        tries = 0
        while True:
            tries += 1
            self.job.checkpoint()  # no send starts after a stop
            conversation = Conversation(self._deadline(channel), hand_over=lambda: self._hand_over(delivery))
            try:
                with conversation:
                    return self._send_once(notice, channel, payload, delivery, conversation)
            except DeliveryError as err:
                if err.in_doubt:
                    raise
                record_error(delivery, str(err), counted=conversation.handed_over)
                if err.block_reason:
                    self._block(notice, err.block_reason)
                if not err.temporary:
                    raise
                self._pause(self._backoff(notice, channel, err, tries))

    def _hand_over(self, delivery: Delivery) -> None:
        """Record the attempt as the message goes out: fenced by the lease, and only on our claim.

        One fenced statement; when it writes nothing (the lease or the claim is lost) the
        unit of work says which."""
        self.job.checkpoint()
        fence = fence_of(self.job)
        if fence is not None and record_handover(delivery, fence):
            return
        with self.job.unit_of_work():
            if not record_handover(delivery):
                raise ClaimLost(delivery.pk)

    @staticmethod
    def _deadline(channel: str) -> float:
        return float(settings.EMAIL_TIMEOUT if channel == EMAIL else settings.CHANNEL_TIMEOUT)

    def _backoff(self, notice: Notice, channel: str, err: DeliveryError, tries: int) -> float:
        """Seconds to wait before the next attempt; raises when out of attempts or of time."""
        job = self.job
        if tries >= self.retry.attempts:
            raise DeliveryError(f"{err} (gave up after {tries} attempts)", temporary=True) from err
        wait = self.retry.delay(tries, err.retry_after)
        budget = retry_budget(job.remaining_time(), job.max_execution_time)
        if wait > budget.total_seconds():
            raise DeliveryError(f"{err} (no time left to retry before the deadline)", temporary=True) from err
        job.log(
            "warning",
            f"{channel} to {notice.describe} failed ({err}); retrying in {wait:.1f}s "
            f"(attempt {tries + 1} of {self.retry.attempts})",
        )
        job.count("retried")
        return wait

    def _send_once(
        self, notice: Notice, channel: str, payload: Payload, delivery: Delivery, conversation: Conversation
    ) -> str:
        if isinstance(payload, EmailMessage):
            return self.email_channel.send(payload, delivery.message_id, conversation)
        if channel == SMS:
            member = self.routing.member(notice)
            assert member is not None
            return self.sms_channel.send(member.phone, payload, conversation)
        return self.slack_channel.send(payload, conversation)

    def _pause(self, seconds: float) -> None:
        """Sleep, but stop at once on SIGTERM, the deadline or a lost lease."""
        until = time.monotonic() + seconds
        while (left := until - time.monotonic()) > 0:
            time.sleep(min(left, 0.25))
            self.job.checkpoint()

    def _block(self, notice: Notice, reason: str) -> None:
        """The provider refused the number for good: no SMS to it until it changes."""
        member = self.routing.member(notice)
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
