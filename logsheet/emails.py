"""Emails of the logsheet app, one function per kind."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage

from logsheet.currency import CurrencyReminder
from logsheet.services import LOGSHEETS_URL, AgingLogsheet
from members.models import Member
from notifications.email import render_email


def aging_logsheets_email(member: Member, logsheets: list[AgingLogsheet], days: int) -> EmailMessage:
    """To one member: every logsheet they should finalize that is more than ``days`` days old."""
    return render_email(
        "logsheet/email/aging_logsheets",
        [member.email],
        {
            "member": member,
            "logsheets": logsheets,
            "count": len(logsheets),
            "days": days,
            "logsheets_url": settings.SITE_URL + LOGSHEETS_URL,
        },
    )


DUTY_ROSTER_URL = "/duty_roster/"


def pilot_currency_email(reminder: CurrencyReminder, days: int) -> EmailMessage:
    """To one pilot: their currency lapses soon, or has lapsed."""
    return render_email(
        "logsheet/email/pilot_currency",
        [reminder.member.email],
        {
            "member": reminder.member,
            "reminder": reminder,
            "days": days,
            "roster_url": settings.SITE_URL + DUTY_ROSTER_URL,
        },
    )


def pilot_currency_sms(reminder: CurrencyReminder) -> str:
    when = f"{reminder.current_through:%a} {reminder.current_through.day} {reminder.current_through:%b}"
    if reminder.lapsed:
        state = f"your flying currency lapsed (current through {when}): fly with an instructor before solo"
    else:
        state = f"you are current through {when}; fly by then to stay current"
    return f"{settings.CLUB_NAME}: {state}. Last flight {reminder.last_flight.isoformat()}."
