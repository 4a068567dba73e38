"""A section's duty roster: every flying day of the next four weeks, and two ad-hoc days."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from demo.calendar import DAY
from duty_roster.models import DutyAssignment

if TYPE_CHECKING:
    from demo.crews import Crew, Crews
    from demo.fleet import Airfields
    from demo.people import Person
    from demo.section import Section
    from logsheet.models import Airfield


def create_roster(section: Section, airfields: Airfields, crews: Crews) -> None:
    """The scheduled days at home, then the ad-hoc days at the second field."""
    days, tomorrows_crew = _scheduled_days(section, airfields, crews)
    days += _ad_hoc_days(section, airfields, crews, busy=tomorrows_crew)
    section.insert(DutyAssignment, days)


def _scheduled_days(
    section: Section, airfields: Airfields, crews: Crews
) -> tuple[list[DutyAssignment], list[Person]]:
    """A day at the home field for every flying day ahead (tomorrow always, with surge crew)."""
    cal, rng = section.cal, section.rng
    days: list[DutyAssignment] = []
    tomorrows: Crew = {}  # upcoming days start with tomorrow
    for day in cal.upcoming:
        crew = crews.crew(busy=False)
        weekend = day.weekday() >= 5
        if day == cal.tomorrow or (weekend and rng.random() < 0.5):
            crew["surge_instructor"] = crews.instructors.next(avoid=[crew["duty_instructor"]])
        if weekend and rng.random() < 0.3:
            crew["surge_tow_pilot"] = crews.tow_pilots.next(avoid=[crew["tow_pilot"]])
        days.append(_duty_day(day, airfields.home, crew, is_scheduled=True))
        tomorrows = tomorrows or crew
    busy = [person for person in tomorrows.values() if person]
    section.report.tomorrow = f"{airfields.home.identifier} {cal.tomorrow}, {len(busy)} crew"
    return days, busy


def _ad_hoc_days(
    section: Section, airfields: Airfields, crews: Crews, busy: list[Person]
) -> list[DutyAssignment]:
    """Tomorrow at the second field, proposed and unconfirmed, with no duty officer signed up yet
    (``busy``: tomorrow's crew at home); and three days ahead, confirmed, with a full crew."""
    cal, rng = section.cal, section.rng
    proposer = rng.choice(section.kind("flyer"))
    signed_up: Crew = {
        "duty_instructor": crews.instructors.next(avoid=busy),
        "tow_pilot": crews.tow_pilots.next(avoid=busy),
    }
    section.report.ad_hoc = (
        f"{airfields.away.identifier} {cal.tomorrow}, proposed by {proposer.member.full_name}"
    )
    confirmed = crews.crew(busy=False)
    return [
        _duty_day(cal.tomorrow, airfields.away, signed_up, proposed_by=proposer),
        _duty_day(
            cal.today + 3 * DAY,
            airfields.away,
            confirmed,
            proposed_by=rng.choice(section.kind("flyer")),
            is_confirmed=True,
        ),
    ]


def _duty_day(
    day: datetime.date,
    airfield: Airfield,
    crew: Crew,
    *,
    is_scheduled: bool = False,
    is_confirmed: bool = False,
    proposed_by: Person | None = None,
) -> DutyAssignment:
    return DutyAssignment(
        date=day,
        location=airfield,
        is_scheduled=is_scheduled,
        is_confirmed=is_confirmed,
        proposed_by=proposed_by.member if proposed_by else None,
        notes="" if is_scheduled else "Proposed for a good ridge forecast.",
        **{f"{role}_id": person.pk for role, person in crew.items() if person},
    )
