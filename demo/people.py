"""A section's members: one ``Person`` per place in the member plan, inserted as ``Member`` rows."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from demo.calendar import DAY, WINDOW_DAYS
from demo.plan import (
    CLUB_ROLES,
    EXTRA_ROLES,
    FIRST_NAMES,
    FLYING_AGES,
    JOINED_RECENTLY_AGE,
    LAST_NAMES,
    MEMBER_PLAN,
    MEMBERS_PER_SECTION,
    SOLO_KINDS,
    STUDENT_KINDS,
    Group,
)
from members.models import Member
from utils.clubtime import club_tz

if TYPE_CHECKING:
    from demo.section import Section


@dataclass(eq=False)  # people are compared by identity
class Person:
    """One planned member of a section and, after insert, its row."""

    kind: str
    n: int  # index within its kind
    member: Member
    flies_from: datetime.date | None = None  # None: does not fly in the year
    flies_to: datetime.date | None = None

    @property
    def pk(self) -> int:
        return self.member.pk

    def flies_on(self, day: datetime.date) -> bool:
        if self.flies_from is None or self.flies_to is None:
            return False
        return self.flies_from <= day <= self.flies_to


def create_members(section: Section) -> None:
    """Every member of the plan, with a name drawn without repeats, a supervisor and a flying range."""
    rng = section.rng
    pairs = rng.sample(range(len(FIRST_NAMES) * len(LAST_NAMES)), MEMBERS_PER_SECTION)
    names = [(FIRST_NAMES[p // len(LAST_NAMES)], LAST_NAMES[p % len(LAST_NAMES)]) for p in pairs]
    people: list[Person] = []
    for group in MEMBER_PLAN:
        for n in range(group.count):
            member = _member(section, group, n, *names[len(people)], serial=len(people))
            people.append(Person(group.kind, n, member))
            section.people.setdefault(group.kind, []).append(people[-1])
    section.insert(Member, [p.member for p in people])
    _load_missing_ids(people)
    section.by_pk = {p.pk: p for p in people}
    _set_supervisors(section)
    _set_flying_ranges(section)
    section.report.members = len(people)


def _member(section: Section, group: Group, n: int, first: str, last: str, serial: int) -> Member:
    rng, today, index = section.rng, section.cal.today, section.index
    status = group.statuses[n % len(group.statuses)]
    joined = _joined(section, group.kind, status)
    username = f"{_slug(first)}.{_slug(last)}" + (f".{index + 1}" if index else "")
    roles = dict.fromkeys((*group.roles, *EXTRA_ROLES.get((group.kind, n), ())), True)
    if index:  # the club's offices are the first section's (plan.CLUB_ROLES)
        roles = {role: held for role, held in roles.items() if role not in CLUB_ROLES}
    phone_number = (index * MEMBERS_PER_SECTION + serial) % 10_000
    joined_at = datetime.datetime.combine(joined or today - 3650 * DAY, datetime.time(12), club_tz())
    return Member(
        username=username,
        first_name=first,
        last_name=last,
        email="" if (group.kind, n) == ("grounded", 13) else f"{username}@example.org",
        phone=f"+1540555{phone_number:04d}" if rng.random() < 0.7 else "",
        password=section.password,
        membership_status=status,
        joined_club=joined,
        date_joined=joined_at,
        is_active=group.kind not in ("disabled", "deceased"),
        **roles,
    )


def _joined(section: Section, kind: str, status: str) -> datetime.date | None:
    today, rng = section.cal.today, section.rng
    if kind in ("no_join_date", "visitor"):
        return None
    if kind == "new_member":
        return today - JOINED_RECENTLY_AGE * DAY
    if status == "probationary":
        return today - 150 * DAY
    if kind == "student":
        return today - rng.randint(200, 1000) * DAY
    if kind == "student_ado":
        return today - rng.randint(400, 1100) * DAY
    return today - rng.randint(730, 7300) * DAY  # two to twenty years


def _load_missing_ids(people: list[Person]) -> None:
    """On a backend whose bulk_create returns no ids, read them back by username."""
    if all(p.member.pk is not None for p in people):
        return
    ids = dict(
        Member.objects.filter(username__in=[p.member.username for p in people]).values_list("username", "pk")
    )
    for p in people:
        p.member.pk = ids[p.member.username]


def _set_supervisors(section: Section) -> None:
    chief, senior = section.one("chief_instructor"), section.one("instructor")
    chief.member.supervisor = senior.member
    for person in section.people["instructor"]:
        person.member.supervisor = chief.member if person.n < 4 else senior.member
    instructors = section.kind("chief_instructor", "instructor")
    Member.objects.bulk_update([p.member for p in instructors], ["supervisor"])


def _set_flying_ranges(section: Section) -> None:
    today = section.cal.today
    year_start, yesterday = today - WINDOW_DAYS * DAY, today - DAY
    for person in section.kind(*SOLO_KINDS, *STUDENT_KINDS):
        oldest, newest = FLYING_AGES.get(person.kind, (WINDOW_DAYS, 1))
        joined = person.member.joined_club
        start = max(today - oldest * DAY, year_start, (joined or year_start) + 7 * DAY)
        person.flies_from, person.flies_to = start, min(today - newest * DAY, yesterday)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())
