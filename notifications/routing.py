"""Which channels a notice goes out on: its kind, the member's preferences, the configuration."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model

from notifications import sms
from notifications.channels import SlackChannel, SmsChannel
from notifications.models import NoticeKind, OptOut
from notifications.notice import EMAIL, SLACK, SMS, Notice, Payload

if TYPE_CHECKING:
    from members.models import Member
    from notifications.job import SendingJob


def posts_to_slack(kind: str) -> bool:
    """Whether a notice of ``kind`` would be posted to Slack (webhook set, the kind says so)."""
    if not SlackChannel.configured():
        return False
    row = NoticeKind.objects.filter(key=kind.partition(":")[0]).values_list("slack", flat=True).first()
    return row is None or row


class Routing:
    """The data one Outbox routes by, each read once per run: notice kinds, opt-outs, members."""

    def __init__(self, job: SendingJob) -> None:
        self.job = job
        self._members: dict[int, Member | None] = {}
        self._said: set[str] = set()

    @cached_property
    def kinds(self) -> dict[str, NoticeKind]:
        return {kind.key: kind for kind in NoticeKind.objects.all()}

    @cached_property
    def opt_outs(self) -> set[tuple[int, str, str]]:
        return set(OptOut.objects.values_list("member_id", "kind__key", "channel"))

    def kind(self, notice: Notice) -> NoticeKind | None:
        """The notice's NoticeKind row; None when its kind has none."""
        return self.kinds.get(notice.policy_key)

    def member(self, notice: Notice) -> Member | None:
        if notice.member is not None:
            return notice.member
        pk = notice.member_id
        if pk is not None and pk not in self._members:
            self._members[pk] = get_user_model().objects.filter(pk=pk).first()
        return self._members.get(pk) if pk is not None else None

    def routes(self, notice: Notice) -> list[tuple[str, Payload]]:
        """The channels the notice goes out on, each with what it sends."""
        kind = self.kind(notice)
        routes: list[tuple[str, Payload]] = []
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
