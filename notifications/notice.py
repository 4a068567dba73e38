"""A notice: what one recipient gets from a job, on each channel it may go out on."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.mail import EmailMessage

from notifications.models import Delivery

if TYPE_CHECKING:
    from members.models import Member

EMAIL, SMS, SLACK = Delivery.Channel.EMAIL, Delivery.Channel.SMS, Delivery.Channel.SLACK
SLACK_RECIPIENT = "slack:club"
# What one channel sends: the email, or the text of an SMS or a Slack post.
Payload = EmailMessage | str


class Outcome:
    """What delivering a notice on one channel came to (``Outbox.deliver`` returns one per channel)."""

    SENT = "sent"
    ALREADY_SENT = "already_sent"
    FAILED = "failed"
    IN_DOUBT = "in_doubt"
    DRY_RUN = "dry_run"
    DEFERRED = "deferred"
    DROPPED = "dropped"


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
