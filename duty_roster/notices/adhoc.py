"""What the members of an expired ad-hoc day are told, once: an in-app notification, and an email
(members without an address: in the app only)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.utils.dateformat import format as format_date

from notifications.delivery import Notice, Outbox, member_key
from notifications.email import render_email
from notifications.inapp import upsert_notifications
from notifications.models import Notification

if TYPE_CHECKING:
    from django.core.mail import EmailMultiAlternatives

    from duty_roster.adhoc import MemberToTell
    from notifications.job import SendingJob

EXPIRED_KIND = "ad_hoc_expired"  # ledger kind; the ledger day is the expired date


def in_app_key(day: datetime.date) -> str:
    """In-app notification key: one notification per member per expired date."""
    return f"{EXPIRED_KIND}:{day.isoformat()}"


def untold_in_app(day: datetime.date, people: list[MemberToTell]) -> list[MemberToTell]:
    """Members with no notification for ``day`` yet; a read or dismissed one counts as told."""
    told = set(
        Notification.objects.filter(
            key=in_app_key(day), user_id__in=[p.member.pk for p in people]
        ).values_list("user_id", flat=True)
    )
    return [person for person in people if person.member.pk not in told]


def in_app_message(day: datetime.date, person: MemberToTell) -> str:
    return (
        f"The ad-hoc flying day at {person.airfields} on {format_date(day, 'l j F Y')} was not "
        "confirmed in time and has expired."
    )


def notify_in_app(day: datetime.date, people: Iterable[MemberToTell]) -> int:
    """One live notification per member under the day's key. Call inside a unit of work."""
    return upsert_notifications(in_app_key(day), {p.member.pk: in_app_message(day, p) for p in people})


def ad_hoc_expired_email(day: datetime.date, person: MemberToTell) -> EmailMultiAlternatives:
    return render_email(
        "duty_roster/email/ad_hoc_expired",
        to=[person.member.email],
        context={"day": day, "member": person.member, "involvements": person.involvements},
    )


def tell_members(job: SendingJob, day: datetime.date, people: list[MemberToTell]) -> None:
    """Tell everyone not yet told: in the app (one unit of work), then by email."""
    untold = untold_in_app(day, people)
    if untold and job.dry_run:
        job.log("dry_run", f"Would notify {len(untold)} member(s) in the app")
    elif untold:
        with job.unit_of_work():
            job.count("in_app", notify_in_app(day, untold))
    with Outbox(job) as outbox:
        for person in people:
            member = person.member
            if outbox.has_email(member, ": told in the app only"):
                email = ad_hoc_expired_email(day, person)
                outbox.deliver(Notice(EXPIRED_KIND, member_key(member.pk), member.full_name, email, day=day))
