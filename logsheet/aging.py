"""Logsheets left unfinalized too long, and the members who should finalize them."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from logsheet.models import Logsheet
from members.models import Member

DEFAULT_AGING_DAYS = 7


@dataclass(frozen=True)
class AgingLogsheet:
    pk: int
    log_date: datetime.date
    airfield: str  # "KFRR Front Royal"
    age_days: int

    def describe(self) -> str:
        return f"{self.log_date.isoformat()} {self.airfield} ({self.age_days} days)"


@dataclass
class ResponsibleMember:
    """One member to tell, with every aging logsheet they are responsible for (oldest first)."""

    member: Member
    logsheets: list[AgingLogsheet] = field(default_factory=list)


@dataclass
class AgingLogsheets:
    logsheets: list[AgingLogsheet]
    responsible: list[ResponsibleMember]
    # Sheets with no duty officer, no assistant and no creator: nobody to tell.
    unaddressed: list[AgingLogsheet]


def responsible_members(logsheet: Logsheet) -> list[Member]:
    """Who should finalize a sheet: its duty officer and assistant; its creator if neither is set.

    Membership status does not matter here: whoever ran the day is the one who can close it.
    """
    crew = {m.pk: m for m in (logsheet.duty_officer, logsheet.assistant_duty_officer) if m is not None}
    if crew:
        return list(crew.values())
    return [logsheet.created_by] if logsheet.created_by is not None else []


def find_aging_logsheets(today: datetime.date, days: int = DEFAULT_AGING_DAYS) -> AgingLogsheets:
    """Sheets not finalized and more than ``days`` days old on ``today``, grouped by member.

    One query: the sheets with their airfield and people joined in.
    """
    member_fields = ("first_name", "last_name", "username", "email")
    people = ("duty_officer", "assistant_duty_officer", "created_by")
    sheets = (
        Logsheet.objects.aging(today, days)
        .select_related("airfield", *people)
        .only(
            "log_date",
            "airfield__identifier",
            "airfield__name",
            *(f"{person}__{name}" for person in people for name in member_fields),
        )
        .order_by("log_date", "airfield__identifier")
    )
    found: list[AgingLogsheet] = []
    unaddressed: list[AgingLogsheet] = []
    by_member: dict[int, ResponsibleMember] = {}
    for sheet in sheets:
        aging = AgingLogsheet(
            pk=sheet.pk,
            log_date=sheet.log_date,
            airfield=str(sheet.airfield),
            age_days=(today - sheet.log_date).days,
        )
        found.append(aging)
        members = responsible_members(sheet)
        if not members:
            unaddressed.append(aging)
        for member in members:
            by_member.setdefault(member.pk, ResponsibleMember(member)).logsheets.append(aging)
    responsible = sorted(
        by_member.values(), key=lambda r: (r.member.last_name, r.member.first_name, r.member.pk)
    )
    return AgingLogsheets(found, responsible, unaddressed)
