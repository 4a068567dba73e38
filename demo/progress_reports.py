"""Student progress reports: written for every lesson a few days old, except one that is late."""

from __future__ import annotations

from typing import TYPE_CHECKING

from demo.calendar import DAY, at
from instructors.models import InstructionReport

if TYPE_CHECKING:
    from demo.flights import Flown, Lesson
    from demo.section import Section

SPR_WRITTEN_AGE = 4  # instructors have written up every lesson at least this old ...
LATE_SPR_AGES = range(35, 71)  # ... except one: FINAL level (30+), inside the 90-day window
SPR_TEXTS = (
    "Good coordination on tow; work on pattern spacing.",
    "Steady thermalling; keep the yaw string centred in turns.",
    "Boxed the wake well. Next: slack line recovery.",
    "Landings improving; fly the approach at a constant speed.",
    "Solid pre-flight and checklist use. Ready for stalls and spins.",
)


def progress_reports(section: Section, flown: Flown) -> list[InstructionReport]:
    """A report for every lesson at least SPR_WRITTEN_AGE days old, except one FINAL-late."""
    cal, rng = section.cal, section.rng
    late = _late_lesson(section, flown)
    return [
        InstructionReport(
            student_id=key[0],
            instructor_id=key[1],
            report_date=key[2],
            report_text=rng.choice(SPR_TEXTS),
            created_at=at(key[2] + rng.randint(1, SPR_WRITTEN_AGE - 1) * DAY, 20),
        )
        for key in sorted(flown.lessons)
        if cal.age(key[2]) >= SPR_WRITTEN_AGE and key != late
    ]


def _late_lesson(section: Section, flown: Flown) -> Lesson:
    """The lesson left without a report: one flight, on a finalized logsheet, 35-70 days ago."""
    cal = section.cal
    candidates = sorted(
        key for key in flown.counted_lessons if flown.lessons[key] == 1 and cal.age(key[2]) in LATE_SPR_AGES
    )
    late = section.rng.choice(candidates)
    student, instructor = section.by_pk[late[0]].member, section.by_pk[late[1]].member
    section.report.late_spr = (
        f"{student.full_name} with {instructor.full_name}, flown {late[2]} ({cal.age(late[2])} days ago)"
    )
    return late
