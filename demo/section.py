"""One section of the demo club: 75 members, two airfields, a fleet, a year of flying, a roster.

Every section draws from its own ``random.Random(f"{seed}:section:{n}")`` in a fixed order of
steps (below), so section n is the same at every scale. Changing the order of the steps, or of
the draws inside one, changes the data a seed gives.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

from demo.calendar import Calendar
from demo.crews import Crews
from demo.fleet import create_airfields, create_fleet
from demo.flying import create_operations
from demo.maintenance import create_maintenance
from demo.people import create_members
from demo.roster import create_roster
from demo.summary import SectionReport

if TYPE_CHECKING:
    from django.db import models

    from demo.people import Person

BATCH_SIZE = 2000


class Section:
    """A section being built: its random stream, the shared calendar, its people, its report."""

    def __init__(self, index: int, seed: int, calendar: Calendar, password: str) -> None:
        self.index = index
        self.cal = calendar
        self.rng = random.Random(f"{seed}:section:{index}")  # noqa: S311 - demo data, not secrets
        self.password = password
        self.people: dict[str, list[Person]] = {}  # by kind, in plan order
        self.by_pk: dict[int, Person] = {}
        self.report = SectionReport()

    def insert(self, model: type[models.Model], rows: Sequence[models.Model]) -> None:
        model._default_manager.bulk_create(rows, batch_size=BATCH_SIZE)
        self.report.counts[model.__name__] += len(rows)

    def kind(self, *kinds: str) -> list[Person]:
        """The people of these kinds, kind by kind in plan order."""
        return [person for kind in kinds for person in self.people.get(kind, [])]

    def one(self, kind: str) -> Person:
        """The first (or only) person of a kind."""
        return self.people[kind][0]


def build_section(index: int, seed: int, calendar: Calendar, password: str) -> SectionReport:
    section = Section(index, seed, calendar, password)
    create_members(section)
    airfields = create_airfields(section)
    fleet = create_fleet(section)
    crews = Crews(section)  # the same turns run from the past year into the roster
    create_operations(section, airfields, fleet, crews)
    create_roster(section, airfields, crews)
    create_maintenance(section, fleet)
    return section.report
