"""Pilot currency: the club's recency rule, checked daily by ``notify_pilot_currency``.

A pilot is current while their last flight as pilot on a finalized logsheet is at most
``days`` days old, in their own time zone's "today" (else the club's). The first day it is
older is the *lapse date*. A reminder is due from ``warn_days`` days before that date, and
after it; it is keyed on the lapse date in the delivery ledger, so each lapse is reminded once
and flying again (a new last flight, a new lapse date) starts over. Members who never flew,
inactive members and students (still under instruction: membership status "student") are
left out.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Max, Q, QuerySet

from members.models import Member, MembershipStatus

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

CURRENCY_KIND = "pilot_currency"  # the ledger and notice kind; the ledger day is the lapse date
DEFAULT_DAYS = 90
DEFAULT_WARN_DAYS = 14
UNDER_INSTRUCTION = (MembershipStatus.STUDENT,)
DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class CurrencyReminder:
    member: Member
    last_flight: datetime.date
    lapse_date: datetime.date  # the first day the member is no longer current
    today: datetime.date  # the member's own today

    @property
    def current_through(self) -> datetime.date:
        return self.lapse_date - DAY

    @property
    def lapsed(self) -> bool:
        return self.today >= self.lapse_date

    @property
    def days_left(self) -> int:
        """Days still current (0 once lapsed)."""
        return max((self.lapse_date - self.today).days, 0)


def member_today(member: Member, now: datetime.datetime) -> datetime.date:
    return now.astimezone(member.zone).date()


def lapse_date(last_flight: datetime.date, days: int) -> datetime.date:
    return last_flight + datetime.timedelta(days=days + 1)


class LastFlight(TypedDict):
    last_flight: datetime.date


def candidates(
    now: datetime.datetime, days: int, warn_days: int, member_id: int | None = None
) -> QuerySet[WithAnnotations[Member, LastFlight]]:
    """Active pilots (not students) whose last flight could make a reminder due today; one query.

    No zone's date is later than UTC's date plus one, so that bounds every member's today; the
    exact rule, in each member's own zone, is applied to this short list. ``member_id``: that
    member only.
    """
    latest_today = now.astimezone(datetime.UTC).date() + DAY
    cutoff = latest_today - datetime.timedelta(days=days + 1 - warn_days)
    members = Member.objects.active()
    if member_id is not None:
        members = members.filter(pk=member_id)
    return (
        members.exclude(membership_status__in=UNDER_INSTRUCTION)
        .annotate(last_flight=Max("flights__logsheet__log_date", filter=Q(flights__logsheet__finalized=True)))
        .filter(last_flight__lte=cutoff)
        .order_by("last_name", "first_name", "pk")
    )


def due_reminders(
    now: datetime.datetime, days: int, warn_days: int, member_id: int | None = None
) -> list[CurrencyReminder]:
    """Every pilot whose currency lapses within ``warn_days`` days of their today, or has lapsed
    (``member_id``: only that member, if so)."""
    found = []
    for member in candidates(now, days, warn_days, member_id):
        today = member_today(member, now)
        lapse = lapse_date(member.last_flight, days)
        if (lapse - today).days <= warn_days:
            found.append(CurrencyReminder(member, member.last_flight, lapse, today))
    return found
