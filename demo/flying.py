"""A section's year of flying: logsheets, flights and progress reports, and the duty it adds up to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from demo.flights import fly
from demo.logsheets import logsheet_row, plan_sheets
from demo.progress_reports import progress_reports
from instructors.models import InstructionReport
from logsheet.models import Flight, Logsheet

if TYPE_CHECKING:
    from demo.crews import Crews
    from demo.fleet import Airfields, Fleet
    from demo.flights import Flown
    from demo.section import Section
    from members.models import Member


def create_operations(section: Section, airfields: Airfields, fleet: Fleet, crews: Crews) -> None:
    sheets = plan_sheets(section, airfields, crews)
    section.insert(Logsheet, [logsheet_row(sheet) for sheet in sheets])
    flown = fly(section, fleet, sheets)
    section.insert(Flight, flown.flights)
    section.insert(InstructionReport, progress_reports(section, flown))
    section.report.delinquents = count_delinquents(section, flown)


def count_delinquents(section: Section, flown: Flown) -> int:
    """The duty rule applied to what was built (the summary reports this; tests re-derive it)."""
    today = section.cal.today

    def owes_duty(member: Member) -> bool:
        months = member.membership_months(today)
        return member.is_active_member and not member.treasurer and (months is None or months >= 3)

    return sum(
        1
        for person in section.by_pk.values()
        if owes_duty(person.member) and person.pk in flown.flew and person.pk not in flown.did_duty
    )
