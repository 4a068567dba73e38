"""The email telling a member that an ad-hoc day they were part of has expired."""

from __future__ import annotations

import datetime

from django.core.mail import EmailMultiAlternatives

from duty_roster.adhoc import MemberToTell
from notifications.email import render_email


def ad_hoc_expired_email(day: datetime.date, person: MemberToTell) -> EmailMultiAlternatives:
    return render_email(
        "duty_roster/email/ad_hoc_expired",
        to=[person.member.email],
        context={"day": day, "member": person.member, "involvements": person.involvements},
    )
