"""The maintenance emails: one function per kind of email."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
