"""Overdue student progress reports (SPRs) and how far each one has escalated.

An SPR is owed for every (instructor, student, flight date) with an instructional flight on a
finalized logsheet; it is overdue once the flight is ``OVERDUE_AFTER_DAYS`` days old and no
``InstructionReport`` exists for that instructor, student and date. ``notify_late_sprs`` and the
signal that refreshes an instructor's notification when an SPR is saved both ask this module.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet

from instructors.models import InstructionReport
from logsheet.models import Flight
from members.models import Member
from notifications.inapp import dismiss_notifications
from notifications.models import Notification

LATE_SPRS_KEY = "late_sprs"
INSTRUCTION_REPORTS_URL = "/instructors/"
DEFAULT_LOOKBACK_DAYS = 90


class CC(enum.Enum):
    """Who an escalation level copies, besides the instructor."""

    SUPERVISOR = "the instructor's supervisor"
    CHIEF_INSTRUCTORS = "the chief instructor(s)"
    BOARD = "the board"
    MEMBER_MANAGERS = "the member manager(s)"


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
# The notice kinds (notifications.NoticeKind) of the reminder: at FINAL level it is also
# offered by SMS.
LATE_SPRS_FINAL_KIND = "late_sprs_final"


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
            supervisor = _member(row, "instructor__supervisor__", (*_PERSON, *_STATUS))
            item = found[row["instructor__id"]] = InstructorOverdue(instructor, supervisor)  # type: ignore[arg-type]
        item.reports.append(OverdueReport(_member(row, "pilot__"), flight_date, age, level))  # type: ignore[arg-type]
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
    """Active chief instructors, board members and member managers; one query."""
    leaders: dict[CC, list[Member]] = {CC.CHIEF_INSTRUCTORS: [], CC.BOARD: [], CC.MEMBER_MANAGERS: []}
    roles = {
        CC.CHIEF_INSTRUCTORS: "chief_instructor",
        CC.BOARD: "director",
        CC.MEMBER_MANAGERS: "member_manager",
    }
    for member in (
        Member.objects.leadership().only(*_PERSON, *roles.values()).order_by("last_name", "first_name")
    ):
        for cc, role in roles.items():
            if getattr(member, role):
                leaders[cc].append(member)
    return leaders


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


def late_sprs_message(overdue: InstructorOverdue, shown: int = 5) -> str:
    """The text of the instructor's in-app notification."""
    count = len(overdue.reports)
    noun = "report" if count == 1 else "reports"
    oldest_first = overdue.reports[:shown]
    listed = "; ".join(
        f"{r.student.full_name} ({r.flight_date.isoformat()}, {r.age_days} days)" for r in oldest_first
    )
    more = f"; and {count - shown} more" if count > shown else ""
    return f"{overdue.highest_level.label}: {count} overdue student progress {noun}: {listed}{more}"


def late_sprs_sms(overdue: InstructorOverdue) -> str:
    """The FINAL-level reminder as a text message: how many, the oldest, where to write them."""
    count = len(overdue.reports)
    oldest = overdue.reports[0]
    noun = "report is" if count == 1 else "reports are"
    return (
        f"{settings.CLUB_NAME}: FINAL notice. {count} student progress {noun} overdue, the oldest "
        f"for {oldest.student.full_name} ({oldest.flight_date:%d %b}, {oldest.age_days} days). "
        f"Please write them today: {settings.SITE_URL}{INSTRUCTION_REPORTS_URL}"
    )


def refresh_late_sprs_notification(instructor_id: int, today: datetime.date) -> None:
    """After an SPR is written: dismiss the instructor's notification, or shorten its list.

    Only an existing live notification is touched; creating one is notify_late_sprs's work.
    """
    live = Notification.objects.filter(user_id=instructor_id, key=LATE_SPRS_KEY, dismissed=False)
    if not live.exists():
        return
    remaining = overdue_reports(today, instructor_id=instructor_id)
    if remaining:
        live.update(message=late_sprs_message(remaining[0]))
    else:
        dismiss_notifications(LATE_SPRS_KEY, user_ids=[instructor_id])
