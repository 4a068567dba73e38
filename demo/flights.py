"""A section's flights: who flies each one, with which instructor, glider and tow, and when."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from demo.calendar import clock
from demo.plan import OLD_SEASON_PILOTS, SOLO_KINDS, STUDENT_KINDS, VETERAN_KINDS
from logsheet.models import Flight

if TYPE_CHECKING:
    from demo.fleet import Fleet
    from demo.logsheets import Sheet
    from demo.people import Person
    from demo.section import Section

Lesson = tuple[int, int, datetime.date]  # (student id, instructor id, day)
Slot = tuple["Person", "Person | None"]  # (pilot, instructor): one flight


@dataclass
class Flown:
    """Every flight of the section, and what the duty rule and the progress reports need of them."""

    flights: list[Flight] = field(default_factory=list)
    lessons: Counter[Lesson] = field(default_factory=Counter)  # flights per lesson, on every logsheet
    # On the finalized logsheets of the year, the ones the duty rule counts:
    flew: set[int] = field(default_factory=set)  # pilots
    did_duty: set[int] = field(default_factory=set)  # crew, instructors and tow pilots
    counted_lessons: set[Lesson] = field(default_factory=set)

    def add(self, sheet: Sheet, flight: Flight) -> None:
        self.flights.append(flight)
        pilot, instructor = flight.pilot_id, flight.instructor_id
        assert pilot is not None  # every flight of the demo has its pilot
        if instructor:
            self.lessons[(pilot, instructor, sheet.day)] += 1
        if sheet.counts:
            self.flew.add(pilot)
            self.did_duty.update(filter(None, (instructor, flight.tow_pilot_id)))
            if instructor:
                self.counted_lessons.add((pilot, instructor, sheet.day))

    def add_crew(self, sheet: Sheet) -> None:
        if sheet.counts:
            self.did_duty.update(person.pk for person in sheet.crew.values() if person)


def fly(section: Section, fleet: Fleet, sheets: list[Sheet]) -> Flown:
    """The flights of every sheet (each sheet's row already inserted)."""
    pilots = Pilots(section)
    flown = Flown()
    for sheet in sheets:
        for flight in _timed(section, fleet, sheet, pilots.slots(sheet)):
            flown.add(sheet, flight)
        flown.add_crew(sheet)
    pilots.check_everyone_flew()
    return flown


class Pilots:
    """Who flies on a sheet: one (pilot, instructor) slot per flight."""

    def __init__(self, section: Section) -> None:
        self.section, self.rng = section, section.rng
        self.solo, self.students = section.kind(*SOLO_KINDS), section.kind(*STUDENT_KINDS)
        # Everyone planned to fly this year flies at least once on a finalized logsheet.
        self.pending = {
            "solo": self.rng.sample(self.solo, len(self.solo)),
            "student": self.rng.sample(self.students, len(self.students)),
        }

    def slots(self, sheet: Sheet) -> list[Slot]:
        if not sheet.in_year:
            return self._old_slots(sheet)
        if sheet.aging:
            return self._aging_slots(sheet)
        return self._ordinary_slots(sheet, self.pending if sheet.counts else None)

    def check_everyone_flew(self) -> None:
        if self.pending["solo"] or self.pending["student"]:
            left = [p.member.username for p in self.pending["solo"] + self.pending["student"]]
            raise RuntimeError(f"demo plan: {left} never flew on a finalized logsheet; try another --seed")

    def _pick(self, eligible: list[Person], pending: list[Person] | None) -> Person:
        if pending is not None:
            for i, person in enumerate(pending):
                if person in eligible:
                    return pending.pop(i)
        return self.rng.choice(eligible)

    def _ordinary_slots(self, sheet: Sheet, pending: dict[str, list[Person]] | None) -> list[Slot]:
        """(pilot, instructor) for each flight of an ordinary day: a third or so are lessons."""
        rng, day = self.rng, sheet.day
        teachers = [p for p in (sheet.crew["duty_instructor"], sheet.crew["surge_instructor"]) if p]
        can_fly = [p for p in self.solo if p.flies_on(day)]
        learners = [p for p in self.students if p.flies_on(day)]
        instructional = rng.randint(2, max(2, sheet.flights // 3))
        slots: list[Slot] = []
        while len(slots) < instructional:
            student = self._pick(learners, pending["student"] if pending is not None else None)
            teacher = teachers[len(slots) % len(teachers)]
            twice = instructional - len(slots) >= 2 and rng.random() < 0.35
            slots += [(student, teacher)] * (2 if twice else 1)
        while len(slots) < sheet.flights:
            slots.append((self._pick(can_fly, pending["solo"] if pending is not None else None), None))
        return slots

    def _aging_slots(self, sheet: Sheet) -> list[Slot]:
        can_fly = [p for p in self.solo if p.flies_on(sheet.day)]
        learner = self.rng.choice([p for p in self.students if p.flies_on(sheet.day)])
        others = [(self.rng.choice(can_fly), None) for _ in range(sheet.flights - 2)]
        return [
            (self.section.one("unfinalized_flyer"), None),
            (learner, sheet.crew["duty_instructor"]),
            *others,
        ]

    def _old_slots(self, sheet: Sheet) -> list[Slot]:
        """The older season: lapsed, inactive and deceased members still flew then."""
        section, old_days = self.section, self.section.cal.old
        old_pilots = section.kind("inactive_old", "deceased") + section.kind("grounded")[:OLD_SEASON_PILOTS]
        turn = old_days.index(sheet.day)
        veterans = section.kind(*VETERAN_KINDS)
        former_students = section.kind("flyer")[:4]  # full members, students back then
        teacher = sheet.crew["duty_instructor"]
        slots: list[Slot] = [(self.rng.choice(former_students), teacher) for _ in range(2)]
        slots += [(person, None) for person in old_pilots[turn :: len(old_days)]]
        slots += [(self.rng.choice(veterans), None) for _ in range(sheet.flights - len(slots))]
        return slots


def _timed(section: Section, fleet: Fleet, sheet: Sheet, slots: list[Slot]) -> Iterator[Flight]:
    """Flights in launch order between 10:00 and 17:30, towed by the day's tow pilots."""
    rng = section.rng
    rng.shuffle(slots)
    span = 450 / len(slots)
    gliders = fleet.gliders_on(sheet.day)
    two_seaters = [g for g in gliders if g.seats == 2]
    tow_pilot, surge_tow_pilot = sheet.crew["tow_pilot"], sheet.crew["surge_tow_pilot"]
    assert sheet.row is not None and tow_pilot is not None  # inserted; every crew has a tow pilot
    for j, (pilot, instructor) in enumerate(slots):
        launch = 600 + int(j * span) + rng.randint(0, int(span / 2))
        minutes = rng.randint(18, 45) if instructor else rng.randint(25, 180)
        surge_pilot = surge_tow_pilot if j % 2 == 1 else None  # every other tow on a busy day
        yield Flight(
            logsheet_id=sheet.row.pk,
            pilot_id=pilot.pk,
            instructor_id=instructor.pk if instructor else None,
            tow_pilot_id=(surge_pilot or tow_pilot).pk,
            glider_id=rng.choice(two_seaters if instructor else gliders).pk,
            towplane_id=fleet.towplanes[0 if surge_pilot is None else 1].pk,
            launch_time=clock(launch),
            landing_time=clock(min(launch + minutes, 19 * 60 + 45)),
        )
