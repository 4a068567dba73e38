"""Duty crews taken in turns from their pools, for the logsheets of the year and the roster ahead."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from demo.people import Person
    from demo.section import Section

Crew = dict[str, "Person | None"]  # role ("duty_officer", "surge_tow_pilot", ...) -> who


class Rotation:
    """Hands out a pool's members in turns: everyone once a round, each round reshuffled."""

    def __init__(self, pool: Sequence[Person], rng: random.Random) -> None:
        self.pool, self.rng = list(pool), rng
        self.queue: list[Person] = []

    def next(self, avoid: Sequence[Person | None] = ()) -> Person:
        while True:
            if not self.queue:
                self.queue = self.rng.sample(self.pool, len(self.pool))
            for i, person in enumerate(self.queue):
                if person not in avoid:
                    return self.queue.pop(i)
            self.queue += self.rng.sample(self.pool, len(self.pool))


class Crews:
    """The section's four duty pools. One set of turns runs through the past year into the roster."""

    def __init__(self, section: Section) -> None:
        rng = section.rng
        self.duty_officers = Rotation(section.kind("duty_officer"), rng)
        self.assistants = Rotation(section.kind("assistant_do", "student_ado"), rng)
        self.instructors = Rotation(section.kind("chief_instructor", "instructor"), rng)
        self.tow_pilots = Rotation(section.kind("tow_pilot"), rng)

    def crew(self, busy: bool, assistant: Person | None = None) -> Crew:
        """The next crew; a busy day also gets a surge instructor and a surge tow pilot."""
        instructor, tow_pilot = self.instructors.next(), self.tow_pilots.next()
        return {
            "duty_officer": self.duty_officers.next(),
            "assistant_duty_officer": assistant or self.assistants.next(),
            "duty_instructor": instructor,
            "surge_instructor": self.instructors.next(avoid=[instructor]) if busy else None,
            "tow_pilot": tow_pilot,
            "surge_tow_pilot": self.tow_pilots.next(avoid=[tow_pilot]) if busy else None,
        }
