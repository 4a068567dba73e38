"""Where a section flies and with what: its two airfields, seven gliders and two towplanes."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from demo.calendar import DAY
from logsheet.models import Airfield, Glider, Towplane

if TYPE_CHECKING:
    from demo.section import Section

GLIDER_TYPES = (  # (make, model, seats)
    ("Schleicher", "ASK-21", 2),
    ("Schleicher", "ASK-21", 2),  # the one grounded (canopy hinge)
    ("Grob", "G103 Twin II", 2),
    ("Schweizer", "SGS 2-33A", 2),
    ("Schleicher", "ASK-23B", 1),
    ("Rolladen-Schneider", "LS-4", 1),
    ("Schempp-Hirth", "Discus CS", 1),
)
TOWPLANE_TYPES = (("Piper", "PA-25 Pawnee", "Pawnee"), ("Aviat", "A-1 Husky", "Husky"))
GROUNDED_AGE = 9  # days since the second ASK-21 was grounded (its maintenance issue)


@dataclass(frozen=True)
class Airfields:
    home: Airfield  # every flying day of the year and the scheduled roster
    away: Airfield  # the aging logsheet and the ad-hoc days


@dataclass(frozen=True)
class Fleet:
    gliders: list[Glider]
    towplanes: list[Towplane]
    grounded_glider: Glider
    grounded_since: datetime.date

    def gliders_on(self, day: datetime.date) -> list[Glider]:
        """The gliders that may fly on ``day``: the grounded one only before its issue."""
        return [g for g in self.gliders if g is not self.grounded_glider or day < self.grounded_since]


def create_airfields(section: Section) -> Airfields:
    k, suffix = section.index, f" (section {section.index + 1})" if section.index else ""
    home = Airfield(identifier="KFRR" if k == 0 else f"KF{k:03d}", name=f"Front Royal{suffix}")
    away = Airfield(identifier="KLUA" if k == 0 else f"KL{k:03d}", name=f"Luray Caverns{suffix}")
    section.insert(Airfield, [home, away])
    return Airfields(home, away)


def create_fleet(section: Section) -> Fleet:
    base = (section.index + 1) * 100
    gliders = [
        Glider(
            n_number=f"N{base + i}G",
            make=make,
            model=model,
            seats=seats,
            competition_number=f"{chr(65 + i)}{section.index % 100}",
        )
        for i, (make, model, seats) in enumerate(GLIDER_TYPES)
    ]
    towplanes = [
        Towplane(n_number=f"N{base + 50 + i}T", make=make, model=model, name=name)
        for i, (make, model, name) in enumerate(TOWPLANE_TYPES)
    ]
    section.insert(Glider, gliders)
    section.insert(Towplane, towplanes)
    return Fleet(gliders, towplanes, gliders[1], section.cal.today - GROUNDED_AGE * DAY)


def aircraft_field(plane: Glider | Towplane) -> dict[str, Glider | Towplane]:
    """The keyword a maintenance row takes for ``plane``: ``glider=`` or ``towplane=``."""
    return {"glider": plane} if isinstance(plane, Glider) else {"towplane": plane}
