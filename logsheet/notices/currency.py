"""What ``notify_pilot_currency`` tells a pilot whose currency lapses: an email, and an SMS if they
opted in; once per lapse (the ledger day is the lapse date), whatever day it is sent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage

from logsheet.currency import CURRENCY_KIND
from notifications.delivery import Notice, Outbox, member_key
from notifications.email import render_email

if TYPE_CHECKING:
    from logsheet.currency import CurrencyReminder
    from notifications.job import SendingJob

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


def reminder_notice(reminder: CurrencyReminder, email: EmailMessage | None) -> Notice:
    member = reminder.member
    return Notice(
        CURRENCY_KIND,
        member_key(member.pk),
        member.full_name,
        email,
        day=reminder.lapse_date,  # one reminder per lapse, whatever day it is sent
        sms=pilot_currency_sms(reminder),
        member=member,
    )


def not_yet_reminded(
    job: SendingJob, outbox: Outbox, reminders: list[CurrencyReminder]
) -> list[CurrencyReminder]:
    """The reminders the ledger has not seen go out on every channel, asked in one query before
    any email is rendered: lapsed pilots stay lapsed, and their reminders pile up in the ledger."""
    # A probe is routed like the reminder (email if the pilot has an address, the SMS).
    probes = [(reminder_notice(r, EmailMessage() if r.member.email else None), r) for r in reminders]
    still = {id(notice) for notice in outbox.still_to_send([notice for notice, _ in probes])}
    for notice, _ in probes:
        if id(notice) not in still:  # every channel of it already went out
            job.count("already_sent", len(outbox.routes(notice)))
    return [reminder for notice, reminder in probes if id(notice) in still]


def remind_pilots(job: SendingJob, reminders: list[CurrencyReminder], days: int) -> None:
    """Each pilot's reminder, by email (rendered only if still due) and SMS if they opted in."""
    with Outbox(job) as outbox:
        for reminder in not_yet_reminded(job, outbox, reminders):
            texted = reminder.member.can_receive_sms
            if outbox.has_email(reminder.member, "; texted only" if texted else ""):
                outbox.deliver(reminder_notice(reminder, pilot_currency_email(reminder, days)))
            elif texted:
                outbox.deliver(reminder_notice(reminder, None))
