"""Overdue student progress reports (SPRs) and how far each one has escalated.

An SPR is owed for every (instructor, student, flight date) with an instructional flight on a
finalized logsheet; it is overdue once the flight is ``OVERDUE_AFTER_DAYS`` days old and no
``InstructionReport`` exists for that instructor, student and date. ``notify_late_sprs`` and the
signal that refreshes an instructor's notification when an SPR is saved both ask this module;
what the instructor and the copies are told is in ``instructors.notices.late_sprs``.
"""

from __future__ import annotations

import datetime
import enum
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from instructors.models import InstructionReport
from logsheet.models import Flight
from members.models import LeadershipRole, Member

DEFAULT_LOOKBACK_DAYS = 90


class CC(enum.Enum):
    """Who an escalation level copies, besides the instructor: their supervisor
    (``Member.supervisor``), or everyone with one of the club's leadership roles."""

    SUPERVISOR = "supervisor"
    CHIEF_INSTRUCTORS = LeadershipRole.CHIEF_INSTRUCTOR
    BOARD = LeadershipRole.DIRECTOR
    MEMBER_MANAGERS = LeadershipRole.MEMBER_MANAGER


@dataclass(frozen=True)
class EscalationLevel:
    rank: int  # higher is more urgent
    min_days: int  # the flight's age in days from which this level applies
    label: str  # starts the email subject: "FINAL notice: 1 overdue ..."
    cc: frozenset[CC]

    @property
    def max_days(self) -> int | None:
        """The last age in days at this level (None: open-ended, until the lookback ends)."""
        later = [level.min_days for level in LEVELS if level.min_days > self.min_days]
        return min(later) - 1 if later else None

    @property
    def days_label(self) -> str:
        return f"{self.min_days}+ days" if self.max_days is None else f"{self.min_days}-{self.max_days} days"


LEVELS: tuple[EscalationLevel, ...] = (
    EscalationLevel(1, 7, "Friendly reminder", frozenset()),
    EscalationLevel(2, 14, "Gentle nudge", frozenset({CC.SUPERVISOR})),
    # Escalation adds people; nobody copied at a lower level is dropped at a higher one.
    EscalationLevel(3, 21, "Firm reminder", frozenset({CC.SUPERVISOR, CC.CHIEF_INSTRUCTORS})),
    EscalationLevel(4, 25, "Urgent notice", frozenset({CC.SUPERVISOR, CC.CHIEF_INSTRUCTORS, CC.BOARD})),
    EscalationLevel(5, 30, "FINAL notice", frozenset(CC)),
)
OVERDUE_AFTER_DAYS = LEVELS[0].min_days
FINAL_LEVEL = LEVELS[-1]


def level_for_age(age_days: int) -> EscalationLevel | None:
    """The escalation level of a report whose flight is ``age_days`` old; None if not yet overdue."""
    reached = [level for level in LEVELS if age_days >= level.min_days]
    return reached[-1] if reached else None


@dataclass(frozen=True)
class OverdueReport:
    student: Member
    flight_date: datetime.date
    age_days: int
    level: EscalationLevel


@dataclass
class InstructorOverdue:
    """One instructor's overdue reports, oldest first."""

    instructor: Member
    supervisor: Member | None
    reports: list[OverdueReport] = field(default_factory=list)

    @property
    def highest_level(self) -> EscalationLevel:
        return max((report.level for report in self.reports), key=lambda level: level.rank)

    def by_level(self) -> list[tuple[EscalationLevel, list[OverdueReport]]]:
        """The reports grouped by level, most urgent level first."""
        groups: dict[int, list[OverdueReport]] = {}
        for report in self.reports:
            groups.setdefault(report.level.rank, []).append(report)
        return [(level, groups[level.rank]) for level in reversed(LEVELS) if level.rank in groups]


_PERSON = ("first_name", "last_name", "username", "email")
_STATUS = ("is_active", "membership_status")
# What the Outbox needs to text an instructor at FINAL level (opt-in, number, time zone).
_CONTACT = ("phone", "sms_opt_in", "sms_blocked_at", "timezone")


def _member(row: dict[str, Any], prefix: str, fields: Iterable[str] = _PERSON) -> Member | None:
    """An unsaved Member carrying the columns a values() row holds for ``prefix``."""
    if row[f"{prefix}id"] is None:
        return None
    return Member(pk=row[f"{prefix}id"], **{name: row[f"{prefix}{name}"] for name in fields})


def overdue_reports(
    today: datetime.date,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    instructor_id: int | None = None,
) -> list[InstructorOverdue]:
    """Every instructor with overdue reports on ``today``, in name order; one query.

    Flights more than ``lookback_days`` old are no longer chased. One overdue report is one
    (instructor, student, flight date), however many flights they made together that day.
    """
    found: dict[int, InstructorOverdue] = {}
    for row in _overdue_rows(today, lookback_days, instructor_id):
        flight_date = row["logsheet__log_date"]
        age = (today - flight_date).days
        level = level_for_age(age)
        assert level is not None  # the date window holds only overdue flights
        item = found.get(row["instructor__id"])
        if item is None:
            instructor = _member(row, "instructor__", (*_PERSON, *_CONTACT))
            assert instructor is not None  # the rows are flights with an instructor
            supervisor = _member(row, "instructor__supervisor__", (*_PERSON, *_STATUS))
            item = found[row["instructor__id"]] = InstructorOverdue(instructor, supervisor)
        student = _member(row, "pilot__")
        assert student is not None  # a flight always has its pilot
        item.reports.append(OverdueReport(student, flight_date, age, level))
    return list(found.values())


def _overdue_rows(
    today: datetime.date, lookback_days: int, instructor_id: int | None
) -> QuerySet[Flight, dict[str, Any]]:
    """Distinct (flight date, instructor, student) rows with no report, names joined in."""
    written = InstructionReport.objects.filter(
        instructor_id=OuterRef("instructor_id"),
        student_id=OuterRef("pilot_id"),
        report_date=OuterRef("logsheet__log_date"),
    )
    flights = Flight.objects.filter(
        instructor__isnull=False,
        pilot__isnull=False,
        logsheet__finalized=True,
        logsheet__log_date__gte=today - datetime.timedelta(days=lookback_days),
        logsheet__log_date__lte=today - datetime.timedelta(days=OVERDUE_AFTER_DAYS),
    ).filter(~Exists(written))
    if instructor_id is not None:
        flights = flights.filter(instructor_id=instructor_id)
    columns = [
        "logsheet__log_date",
        *(f"instructor__{name}" for name in ("id", *_PERSON, *_CONTACT)),
        *(f"instructor__supervisor__{name}" for name in ("id", *_PERSON, *_STATUS)),
        *(f"pilot__{name}" for name in ("id", *_PERSON)),
    ]
    # Every order_by column is among the selected ones, so DISTINCT stays per (date, pair).
    return (
        flights.values(*columns)
        .distinct()
        .order_by(
            "instructor__last_name",
            "instructor__first_name",
            "instructor__id",
            "logsheet__log_date",
            "pilot__last_name",
            "pilot__first_name",
            "pilot__id",
        )
    )


def leaders_by_role() -> dict[CC, list[Member]]:
    """The active leadership per copy group (chief instructors, board, member managers); one query."""
    by_role = Member.objects.leaders_by_role(*_PERSON)
    return {cc: by_role[LeadershipRole(cc.value)] for cc in CC if cc is not CC.SUPERVISOR}


def cc_members(overdue: InstructorOverdue, leaders: dict[CC, list[Member]]) -> list[Member]:
    """Who the instructor's email copies: what their highest level asks for, once each.

    The supervisor is copied only while an active member; the instructor never copies themself.
    """
    chosen: dict[int, Member] = {}
    for cc in sorted(overdue.highest_level.cc, key=lambda c: list(CC).index(c)):
        if cc is CC.SUPERVISOR:
            supervisor = overdue.supervisor
            members = [supervisor] if supervisor is not None and supervisor.is_active_member else []
        else:
            members = leaders[cc]
        for member in members:
            if member.pk != overdue.instructor.pk:
                chosen.setdefault(member.pk, member)
    return list(chosen.values())


def describe(overdue: list[InstructorOverdue]) -> str:
    """What a run found, for its closing line: reports and instructors, how many at each level."""
    levels = Counter(report.level.rank for item in overdue for report in item.reports)
    found = f"Found {levels.total()} overdue SPR(s) for {len(overdue)} instructor(s)"
    by_level = ", ".join(f"{lv.label} {levels[lv.rank]}" for lv in reversed(LEVELS) if levels[lv.rank])
    return f"{found} ({by_level})" if by_level else found
