"""Weekly: the open maintenance issues and the coming deadlines, to the people who fix them."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import CommandParser

from maintenance.emails import DigestEmails, maintenance_digest_slack_text
from maintenance.services import DigestRecipient, MaintenanceDigest, build_digest, digest_recipients
from notifications.delivery import Notice, Outbox, log_summary, member_key, slack_notice
from utils.clubtime import club_today
from utils.cronjob import BaseCronJobCommand, positive_int
from utils.errors import UsageError

MAX_DEADLINE_DAYS = 3660  # ten years is a planning horizon; more is a typo


class Command(BaseCronJobCommand):
    help = (
        "Email the maintenance team and the meisters of affected aircraft the open maintenance "
        "issues (grounding first) and the deadlines overdue or coming due; post a summary to the "
        "club's Slack channel."
    )
    job_name = "send_maintenance_digest"
    schedule = "0 9 * * 0"
    max_execution_time = datetime.timedelta(minutes=10)
    resource_class = "light"
    sends_notices = True

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--deadline-days",
            type=positive_int,
            default=30,
            help="List deadlines overdue or due within this many days of today (default 30).",
        )

    def validate_options(self, options: dict[str, Any]) -> None:
        if options["deadline_days"] > MAX_DEADLINE_DAYS:
            raise UsageError(f"--deadline-days must be at most {MAX_DEADLINE_DAYS}")

    def execute_job(self, *args: Any, **options: Any) -> None:
        digest = build_digest(club_today(), options["deadline_days"])
        found = describe(digest)
        if digest.is_empty:
            log_summary(self, f"Found {found}: nothing to send")
            return
        recipients = self.recipients_with_email(digest)
        self.log("findings", f"{found}; {len(recipients)} recipient{'s' * (len(recipients) != 1)}")
        emails = DigestEmails(digest)
        with Outbox(self) as outbox:
            for recipient in recipients:
                member = recipient.member
                email = emails.for_recipient(recipient)
                outbox.deliver(Notice("maintenance_digest", member_key(member.pk), member.full_name, email))
            outbox.deliver(slack_notice("maintenance_digest", maintenance_digest_slack_text(digest, found)))
        log_summary(self, f"Found {found}")

    def recipients_with_email(self, digest: MaintenanceDigest) -> list[DigestRecipient]:
        recipients = []
        for recipient in digest_recipients(digest):
            if recipient.member.email:
                recipients.append(recipient)
            else:
                self.log_warning(f"{recipient.member.full_name} has no email address: not sent the digest")
                self.count("no_email")
        if not recipients:
            self.log_warning("Nobody to send the digest to: no active maintenance team member has an email")
        return recipients


def describe(digest: MaintenanceDigest) -> str:
    issues = len(digest.issues)
    text = f"{issues} open issue{'s' * (issues != 1)}" if issues else "no open issues"
    if digest.grounded_count:
        text += f" ({digest.grounded_count} grounding)"
    deadlines = len(digest.deadlines)
    by = digest.horizon.isoformat()
    if deadlines:
        text += f" and {deadlines} deadline{'s' * (deadlines != 1)} due by {by}"
        if digest.overdue_count:
            text += f" ({digest.overdue_count} overdue)"
    else:
        text += f" and no deadlines due by {by}"
    return text
