"""A section's maintenance: four issues (one grounding), twelve deadlines and a meister per aircraft."""

from __future__ import annotations

from typing import TYPE_CHECKING

from demo.calendar import DAY
from demo.fleet import GROUNDED_AGE, aircraft_field
from maintenance.models import AircraftMeister, MaintenanceDeadline, MaintenanceIssue

if TYPE_CHECKING:
    from demo.fleet import Fleet
    from demo.people import Person
    from demo.section import Section
    from logsheet.models import Glider, Towplane


def create_maintenance(section: Section, fleet: Fleet) -> None:
    section.insert(MaintenanceIssue, _issues(section, fleet))
    section.insert(MaintenanceDeadline, _deadlines(section, fleet))
    section.insert(AircraftMeister, _meisters(section, fleet))


def _issues(section: Section, fleet: Fleet) -> list[MaintenanceIssue]:
    """Three open (the canopy hinge grounds the second ASK-21) and one resolved."""
    today, g, t = section.cal.today, fleet.gliders, fleet.towplanes
    reporters = section.kind("chief_instructor", "instructor", "tow_pilot")
    # (aircraft, what, reported days ago, grounding)
    issues: list[tuple[dict[str, Glider | Towplane], str, int, bool]] = [
        (
            {"glider": g[1]},
            "Rear canopy hinge cracked. Grounded until the repair is signed off.",
            GROUNDED_AGE,
            True,
        ),
        ({"glider": g[2]}, "Left wheel brake weak; the cable needs adjusting.", 20, False),
        ({"towplane": t[0]}, "Oil seep at the rocker cover; check it before each flight.", 30, False),
        ({"glider": g[3]}, "Tow release sticks on the first pull.", 60, False),
    ]
    return [
        MaintenanceIssue(
            **aircraft,
            description=text,
            reported_by=section.rng.choice(reporters).member,
            report_date=today - age * DAY,
            grounded=grounded,
            resolved=age == 60,  # the tow release was fixed eight days later
            resolved_date=today - 52 * DAY if age == 60 else None,
        )
        for aircraft, text, age, grounded in issues
    ]


def _deadlines(section: Section, fleet: Fleet) -> list[MaintenanceDeadline]:
    today, g, t = section.cal.today, fleet.gliders, fleet.towplanes
    # (aircraft, kind, due in days): one overdue, two within 30 days, the rest later
    deadlines: list[tuple[Glider | Towplane, str, int]] = [
        (t[0], "transponder", -5), (g[0], "annual", 12), (t[1], "elt", 26), (t[0], "100hr", 45),
        (g[2], "annual", 75), (g[4], "parachute", 95), (g[3], "annual", 120), (g[4], "annual", 160),
        (t[1], "annual", 190), (g[5], "annual", 210), (g[6], "annual", 260), (g[1], "annual", 300),
    ]  # fmt: skip
    return [
        MaintenanceDeadline(**aircraft_field(plane), kind=kind, due_date=today + days * DAY)
        for plane, kind, days in deadlines
    ]


def _meisters(section: Section, fleet: Fleet) -> list[AircraftMeister]:
    """The gliders' meisters from the maintenance team in turn, the towplanes' from the tow pilots."""
    team = [p for p in section.by_pk.values() if p.member.maintenance_team]
    meisters: list[tuple[Glider | Towplane, Person]] = [
        (plane, team[i % len(team)]) for i, plane in enumerate(fleet.gliders)
    ]
    meisters += list(zip(fleet.towplanes, section.kind("tow_pilot"), strict=False))
    return [AircraftMeister(**aircraft_field(plane), member=person.member) for plane, person in meisters]
