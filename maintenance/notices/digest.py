"""What the weekly maintenance digest sends: each recipient's email (their own aircraft marked),
and a summary to the club's Slack channel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from maintenance.digest import digest_recipients
from notifications.channels import slack_escape
from notifications.delivery import Notice, Outbox, member_key, slack_notice
from notifications.email import render_email

if TYPE_CHECKING:
    from django.core.mail import EmailMultiAlternatives

    from maintenance.digest import AircraftKey, DigestRecipient, MaintenanceDigest
    from notifications.job import SendingJob

KIND = "maintenance_digest"  # the ledger and notice kind


class DigestEmails:
    """Each recipient's copy of the digest. The tables are rendered once per run, every row in
    both forms (the recipient's aircraft marked ★, or not), so a copy costs a join, not a render
    of every row: the digest goes to the whole team and every meister with an open issue."""

    def __init__(self, digest: MaintenanceDigest) -> None:
        self.digest = digest
        self.issue_rows = [
            (issue.aircraft_key, _both("maintenance/email/digest_issue_row", {"issue": issue}))
            for issue in digest.issues
        ]
        self.deadline_rows = [
            (line.deadline.aircraft_key, _both("maintenance/email/digest_deadline_row", {"line": line}))
            for line in digest.deadlines
        ]

    def for_recipient(self, recipient: DigestRecipient) -> EmailMultiAlternatives:
        own = recipient.own_aircraft
        digest = self.digest
        your_aircraft = sorted(
            {str(item.aircraft) for item in digest.issues if item.aircraft_key in own}
            | {str(line.deadline.aircraft) for line in digest.deadlines if line.deadline.aircraft_key in own}
        )
        return render_email(
            "maintenance/email/maintenance_digest",
            to=[recipient.member.email],
            context={
                "recipient": recipient.member,
                "digest": digest,
                # Rows rendered by our own templates (escaped there): safe to insert as they are.
                "issue_rows_html": mark_safe(_join(self.issue_rows, own, "html")),  # noqa: S308
                "deadline_rows_html": mark_safe(_join(self.deadline_rows, own, "html")),  # noqa: S308
                "issue_rows_text": _join(self.issue_rows, own, "txt"),
                "deadline_rows_text": _join(self.deadline_rows, own, "txt"),
                "your_aircraft": your_aircraft,
            },
        )


Rendered = dict[tuple[str, bool], str]  # (format, marked) -> the row


def _both(template: str, context: dict[str, Any]) -> Rendered:
    return {
        (fmt, yours): render_to_string(f"{template}.{fmt}", {**context, "yours": yours})
        for fmt in ("html", "txt")
        for yours in (False, True)
    }


def _join(rows: list[tuple[AircraftKey, Rendered]], own: frozenset[AircraftKey], fmt: str) -> str:
    return "".join(row[(fmt, key in own)] for key, row in rows)


def maintenance_digest_slack_text(digest: MaintenanceDigest, found: str, shown: int = 10) -> str:
    """The digest's summary for the club's Slack channel: what is grounded, what is overdue."""
    lines = [f"*{settings.CLUB_NAME} maintenance digest {digest.today.isoformat()}*: {found}."]
    grounded = [issue for issue in digest.issues if issue.grounded]
    for issue in grounded[:shown]:
        summary = " ".join(issue.description.split())
        summary = summary if len(summary) <= 80 else summary[:79] + "…"
        lines.append(f"• Grounded: {slack_escape(str(issue.aircraft))}: {slack_escape(summary)}")
    overdue = [line for line in digest.deadlines if line.overdue]
    for line in overdue[:shown]:
        deadline = line.deadline
        lines.append(
            f"• {deadline.get_kind_display()} of {slack_escape(str(deadline.aircraft))} overdue by "
            f"{line.days_overdue} days"
        )
    left = max(len(grounded) - shown, 0) + max(len(overdue) - shown, 0)
    if left:
        lines.append(f"…and {left} more in the emailed digest.")
    return "\n".join(lines)


def send_digest(job: SendingJob, digest: MaintenanceDigest) -> None:
    """The digest to the maintenance team and the meisters of aircraft with issues (those with an
    email address), and its summary to Slack."""
    found = digest.describe()
    with Outbox(job) as outbox:
        recipients = [
            r for r in digest_recipients(digest) if outbox.has_email(r.member, ": not sent the digest")
        ]
        if not recipients:
            job.log_warning("Nobody to send the digest to: no active maintenance team member has an email")
        job.log("findings", f"{found}; {len(recipients)} recipient{'s' * (len(recipients) != 1)}")
        emails = DigestEmails(digest)
        for recipient in recipients:
            member = recipient.member
            email = emails.for_recipient(recipient)
            outbox.deliver(Notice(KIND, member_key(member.pk), member.full_name, email, day=digest.week))
        outbox.deliver(slack_notice(KIND, maintenance_digest_slack_text(digest, found), day=digest.week))
