"""The maintenance emails: one function per kind of email."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

from notifications.email import render_email

if TYPE_CHECKING:
    from django.core.mail import EmailMultiAlternatives

    from maintenance.services import DigestRecipient, MaintenanceDigest


def maintenance_digest_email(recipient: DigestRecipient, digest: MaintenanceDigest) -> EmailMultiAlternatives:
    own = recipient.own_aircraft
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
            "issues": [(issue, issue.aircraft_key in own) for issue in digest.issues],
            "deadlines": [(line, line.deadline.aircraft_key in own) for line in digest.deadlines],
            "your_aircraft": your_aircraft,
        },
    )


def maintenance_digest_slack_text(digest: MaintenanceDigest, found: str, shown: int = 10) -> str:
    """The digest's summary for the club's Slack channel: what is grounded, what is overdue."""
    lines = [f"*{settings.CLUB_NAME} maintenance digest {digest.today.isoformat()}*: {found}."]
    grounded = [issue for issue in digest.issues if issue.grounded]
    for issue in grounded[:shown]:
        summary = " ".join(issue.description.split())
        summary = summary if len(summary) <= 80 else summary[:79] + "…"
        lines.append(f"• Grounded: {issue.aircraft}: {summary}")
    overdue = [line for line in digest.deadlines if line.overdue]
    for line in overdue[:shown]:
        deadline = line.deadline
        lines.append(
            f"• {deadline.get_kind_display()} of {deadline.aircraft} overdue by {line.days_overdue} days"
        )
    left = max(len(grounded) - shown, 0) + max(len(overdue) - shown, 0)
    if left:
        lines.append(f"…and {left} more in the emailed digest.")
    return "\n".join(lines)
