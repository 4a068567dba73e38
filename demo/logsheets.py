"""A section's logsheets: one per flying day at home, three of an older season, and the aging one."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from demo.calendar import at
from logsheet.models import Airfield, Logsheet

if TYPE_CHECKING:
    from demo.crews import Crew, Crews
    from demo.fleet import Airfields
    from demo.section import Section

SURGE_DAY_AGE = 150  # about when the surge tow pilot did his one duty of the year


@dataclass
class Sheet:
    """A logsheet being planned: its day, field, crew and how many flights it will carry."""

    day: datetime.date
    airfield: Airfield
    finalized: bool
    crew: Crew
    flights: int
    in_year: bool = True
    aging: bool = False  # the one nobody finalized
    row: Logsheet | None = None

    @property
    def counts(self) -> bool:
        """Whether the duty rule counts it: finalized, and in the last 12 months."""
        return self.finalized and self.in_year


def plan_sheets(section: Section, airfields: Airfields, crews: Crews) -> list[Sheet]:
    """Every logsheet of the section, in day order, crewed in turns."""
    rng, cal = section.rng, section.cal
    sheets = [_old_sheet(section, airfields, day) for day in cal.old]
    surge_day = min(cal.past, key=lambda day: abs(cal.age(day) - SURGE_DAY_AGE))
    for day in cal.past:
        flights = rng.randint(12 if day == surge_day else 8, 15)
        crew = crews.crew(busy=flights >= 12)
        if day == surge_day:  # the surge tow pilot's one duty of the year
            crew["surge_tow_pilot"] = section.one("surge_tow_pilot")
        sheets.append(Sheet(day, airfields.home, cal.finalized(day), crew, flights))
    sheets.append(_aging_sheet(section, airfields, crews))
    sheets.sort(key=lambda sheet: (sheet.day, sheet.airfield.identifier))
    return sheets


def _old_sheet(section: Section, airfields: Airfields, day: datetime.date) -> Sheet:
    """A day of the older season; the former duty officer's last duty."""
    rng = section.rng
    crew = {
        "duty_officer": section.one("former_do"),
        "assistant_duty_officer": rng.choice(section.kind("assistant_do")),
        "duty_instructor": rng.choice(section.kind("chief_instructor", "instructor")),
        "surge_instructor": None,
        "tow_pilot": rng.choice(section.kind("tow_pilot")),
        "surge_tow_pilot": None,
    }
    return Sheet(day, airfields.home, True, crew, 10, in_year=False)


def _aging_sheet(section: Section, airfields: Airfields, crews: Crews) -> Sheet:
    """An extra day at the second field that nobody finalized. Its assistant duty officer did no
    other duty, which (unfinalized) does not count."""
    cal = section.cal
    crew = crews.crew(busy=False, assistant=section.one("unfinalized_ado"))
    duty_officer = crew["duty_officer"]
    assert duty_officer is not None  # every crew has a duty officer
    officer = duty_officer.member
    section.report.aging = f"{airfields.away.identifier} {cal.aging_day}, duty officer {officer.full_name}"
    return Sheet(cal.aging_day, airfields.away, False, crew, 6, aging=True)


def logsheet_row(sheet: Sheet) -> Logsheet:
    """The sheet's row, created by its duty officer at 09:00 (kept on the sheet for its flights)."""
    crew = {f"{role}_id": person.pk if person else None for role, person in sheet.crew.items()}
    sheet.row = Logsheet(
        log_date=sheet.day,
        airfield=sheet.airfield,
        created_by_id=crew["duty_officer_id"],
        created_at=at(sheet.day, 9),
        finalized=sheet.finalized,
        **crew,
    )
    return sheet.row
