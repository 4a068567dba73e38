"""The one path every notice takes: record it in the ledger, send it, mark it sent.

A ``Notice`` carries what each channel would send: an email, an SMS text, a Slack text. The
``Outbox`` asks the data which of them go out: the notice's kind (``NoticeKind``: email? SMS
offered? Slack?), the member's preferences (SMS opt-in, a number not refused, per-kind opt-outs)
and the configuration (Twilio, the Slack webhook). Each channel that goes is one ledger row
under the unique key (job, day, recipient, kind, channel), so the email and the SMS of one
briefing are each sent once.

For each row the Outbox first claims it inside the job's fenced unit of work; a row already
``sent`` means it went out before and nothing is sent (unless ``--resend``). Then it sends,
outside any transaction, each attempt bounded as a whole by the channel's deadline and recorded
on the row as the message goes out; it retries what the provider did not take with back-off
(``notifications.retry``) and marks the row ``sent``, or ``failed`` with the last error, counted,
without stopping the other notices. A provider that may have taken the message without saying
so (no answer after the whole message went out) leaves the row ``in_doubt``: never sent again
unless an operator asks (``--send-in-doubt``), and the run fails saying how many. A row left
``pending`` by a run that died mid-send is sent by the next run if its message never went out,
and left in doubt if it did. An SMS due in the member's quiet hours is ``deferred`` (sent by
``send_deferred_notices`` when they end) or ``dropped``, per kind.

The Outbox is the entry point; its parts live in their own modules: ``notifications.notice``
(Notice and its helpers), ``routing`` (which channels), ``ledger`` (the claim and every change
to a row), ``sending`` (attempts and retries) and ``held`` (quiet hours).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING

from notifications.held import QuietHoursHold
from notifications.ledger import Ledger, Status
from notifications.models import Delivery
from notifications.notice import (
    EMAIL,
    SLACK,
    SLACK_RECIPIENT,
    SMS,
    Notice,
    Outcome,
    Payload,
    member_key,
    slack_notice,
)
from notifications.routing import Routing, posts_to_slack
from notifications.sending import Dispatcher

if TYPE_CHECKING:
    from members.models import Member
    from notifications.job import SendingJob

__all__ = [
    "EMAIL",
    "SLACK",
    "SLACK_RECIPIENT",
    "SMS",
    "Notice",
    "Outbox",
    "Status",
    "log_summary",
    "member_key",
    "posts_to_slack",
    "slack_notice",
]


class Outbox:
    SENT = Outcome.SENT
    ALREADY_SENT = Outcome.ALREADY_SENT
    FAILED = Outcome.FAILED
    IN_DOUBT = Outcome.IN_DOUBT
    DRY_RUN = Outcome.DRY_RUN
    DEFERRED = Outcome.DEFERRED
    DROPPED = Outcome.DROPPED

    def __init__(self, job: SendingJob) -> None:
        self.job = job
        self.routing = Routing(job)
        self.dispatcher = Dispatcher(job, self.routing)
        self.ledger = Ledger(job)
        self.held = QuietHoursHold(job, self.routing, self.ledger, self.dispatcher)
        self._warned_no_email: set[int] = set()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.dispatcher.close()

    def deliver(self, notice: Notice) -> dict[str, str]:
        """Send the notice on each channel it goes out on; the outcome per channel."""
        self.job.checkpoint()
        return {
            channel: self._deliver_on(notice, channel, payload) for channel, payload in self.routes(notice)
        }

    def still_to_send(self, notices: list[Notice]) -> list[Notice]:
        """The notices that have a channel not yet done (sent, deferred or dropped) in the ledger, or none,
        in one query; all of them with --resend. A job can skip building the rest (a rerun the
        same day, a reminder already given) and keep its cost flat as they pile up."""
        if self.job.resend or not notices:
            return notices
        job = self.job
        wanted = {
            id(notice): {
                (notice.recipient, notice.kind, notice.day or job.occurrence_day, channel)
                for channel, _ in self.routes(notice)
            }
            for notice in notices
        }
        keys = set().union(*wanted.values())
        done = set(
            Delivery.objects.filter(
                job_name=job.job_name,
                status__in=(Status.SENT, Status.DEFERRED, Status.DROPPED),
                recipient__in={key[0] for key in keys},
                kind__in={key[1] for key in keys},
                day__in={key[2] for key in keys},
            ).values_list("recipient", "kind", "day", "channel")
        )
        # A notice with no channel at all is kept: the job says why nobody is told.
        return [notice for notice in notices if not wanted[id(notice)] or wanted[id(notice)] - done]

    def has_email(self, member: Member, consequence: str) -> bool:
        """Whether ``member`` has an email address. If not: one warning per member and run,
        "<name> has no email address<consequence>" (the consequence starts with its own
        separator, e.g. "; reminded in-app only"), counted as ``no_email``."""
        if member.email:
            return True
        if member.pk not in self._warned_no_email:
            self._warned_no_email.add(member.pk)
            self.job.log_warning(f"{member.full_name} has no email address{consequence}")
            self.job.count("no_email")
        return False

    def with_email(self, members: Iterable[Member], consequence: str) -> list[Member]:
        """The members who have an email address; a warning for each of the others (``has_email``)."""
        return [member for member in members if self.has_email(member, consequence)]

    def routes(self, notice: Notice) -> list[tuple[str, Payload]]:
        """The channels the notice goes out on, each with what it sends."""
        return self.routing.routes(notice)

    def member(self, notice: Notice) -> Member | None:
        return self.routing.member(notice)

    def send_held(self, delivery: Delivery, member: Member | None) -> str:
        """Send a deferred SMS now, unless it no longer should go (``send_deferred_notices``)."""
        return self.held.send_held(delivery, member)

    def _deliver_on(self, notice: Notice, channel: str, payload: Payload) -> str:
        until = self.held.quiet_until(notice) if channel == SMS else None
        if self.job.dry_run:
            return self._dry_run(notice, channel, payload, until)
        if until is not None and isinstance(payload, str):  # an SMS (text) in quiet hours
            return self.held.hold(notice, payload, until)
        delivery = self.ledger.claim(notice, channel)
        if delivery is None:
            return self.ALREADY_SENT
        return self.dispatcher.send(notice, channel, payload, delivery)

    def _dry_run(
        self, notice: Notice, channel: str, payload: Payload, until: datetime.datetime | None
    ) -> str:
        if until is not None:
            self.held.would_hold(notice, until)
        else:
            self.dispatcher.would_send(notice, channel, payload)
        return self.DRY_RUN


def log_summary(job: SendingJob, found: str) -> None:
    """A sending job's closing line: what it found, and what it sent (or would send)."""
    counts = job.summary
    labels: tuple[tuple[str, str], ...]
    if job.dry_run:
        sent = f"would send {counts['would_send']}"
        labels = (
            ("would_defer", "would wait for quiet hours to end"),
            ("would_drop", "would be dropped"),
        )
    else:
        sent = f"sent {counts['sent']}"
        labels = (
            ("already_sent", "already sent"),
            ("in_flight", "being sent by another run"),
            ("deferred", "deferred past quiet hours"),
            ("dropped", "dropped"),
            ("failed", "failed"),
            ("in_doubt", "in doubt"),
        )
    for key, label in labels:
        if counts[key]:
            sent += f", {counts[key]} {label}"
    job.log("findings", f"{found} · 📧 {sent}")
