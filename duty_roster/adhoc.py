"""Ad-hoc days nobody confirmed by the day before: expired (kept, not deleted), and the members
who proposed or signed up for them told once.

``expire_ad_hoc_days`` first expires the day's unconfirmed ad-hoc assignments with one
conditional UPDATE, then tells the people of every *expired* ad-hoc day of that date
(``duty_roster.notices.adhoc``): a run killed between the two steps leaves days expired but
people untold, and the next run tells them (the delivery ledger and the notification key keep
it to once).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils import timezone

from duty_roster.models import DutyAssignment
from logsheet.models import CREW_FIELDS, CREW_ROLES
from members.models import Member

if TYPE_CHECKING:
    from utils.cronjob import BaseCronJobCommand

PROPOSER = "Proposer"


def unconfirmed_ad_hoc_days(day: datetime.date) -> int:
    """How many of the day's ad-hoc days would expire now (what a dry run reports)."""
    return DutyAssignment.objects.unconfirmed_ad_hoc().filter(date=day).count()


def expire_unconfirmed_ad_hoc_days(day: datetime.date, now: datetime.datetime) -> int:
    """Expire the day's unconfirmed ad-hoc days; the rows stay, marked expired at ``now``.

    One conditional UPDATE: a day confirmed a moment earlier no longer matches and is kept.
    """
    return (
        DutyAssignment.objects.unconfirmed_ad_hoc()
        .filter(date=day)
        .update(status=DutyAssignment.Status.EXPIRED, expired_at=now)
    )


def expire_day(job: BaseCronJobCommand, day: datetime.date) -> int:
    """Expire the day's unconfirmed ad-hoc days in one unit of work; a dry run only counts them."""
    if job.dry_run:
        return unconfirmed_ad_hoc_days(day)
    with job.unit_of_work():
        return expire_unconfirmed_ad_hoc_days(day, timezone.now())


def expired_ad_hoc_days(day: datetime.date, *, with_unconfirmed: bool = False) -> list[DutyAssignment]:
    """The day's expired ad-hoc days (and, for a dry run, those that would expire)."""
    wanted = Q(status=DutyAssignment.Status.EXPIRED)
    if with_unconfirmed:
        wanted |= Q(status=DutyAssignment.Status.ACTIVE, is_confirmed=False)
    return list(
        DutyAssignment.objects.filter(wanted, date=day, is_scheduled=False)
        .select_related("location", "proposed_by", *CREW_FIELDS)
        .order_by("location__identifier")
    )


@dataclass(frozen=True)
class Involvement:
    """What one member had to do with one expired day: "Proposer" and/or crew role labels."""

    assignment: DutyAssignment
    parts: tuple[str, ...]

    @property
    def description(self) -> str:
        said = ["you proposed it"] if PROPOSER in self.parts else []
        roles = [part for part in self.parts if part != PROPOSER]
        if roles:
            said.append("you signed up as " + " and ".join(roles))
        return " and ".join(said)


@dataclass
class MemberToTell:
    member: Member
    involvements: list[Involvement] = field(default_factory=list)

    @property
    def airfields(self) -> str:
        return " and ".join(str(i.assignment.location) for i in self.involvements)


def members_to_tell(days: Iterable[DutyAssignment]) -> list[MemberToTell]:
    """Everyone who proposed or crews one of ``days``, once each, with what they had to do with it."""
    people: dict[int, MemberToTell] = {}
    for assignment in days:
        parts: dict[int, list[str]] = {}
        members: dict[int, Member] = {}
        involved = [(PROPOSER, assignment.proposed_by)] + [
            (label, getattr(assignment, role)) for role, label in CREW_ROLES
        ]
        for part, member in involved:
            if member is not None:
                members[member.pk] = member
                parts.setdefault(member.pk, []).append(part)
        for pk, member in members.items():
            person = people.setdefault(pk, MemberToTell(member))
            person.involvements.append(Involvement(assignment, tuple(parts[pk])))
    return sorted(people.values(), key=lambda p: (p.member.last_name, p.member.first_name, p.member.pk))
