"""The pre-operation briefing: who crews an operations day, and what they should know before it.

``day_briefing(day)`` reads everything ``send_duty_preop_emails`` needs in three queries (the
operating assignments with their airfields and crews, the grounded aircraft, the maintenance
deadlines); ``DayBriefing.crews`` groups the crew per member, so a member with several roles
that day is briefed once. What each of them is sent is in ``duty_roster.notices.preop``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import BooleanField, ExpressionWrapper, Q

from duty_roster.models import DutyAssignment
from logsheet.models import CREW_FIELDS, CREW_ROLES
from maintenance.models import MaintenanceDeadline, MaintenanceIssue
from members.models import Member

# Deadlines due up to this long after the operations day are in the briefing.
DEADLINE_HORIZON = datetime.timedelta(days=30)


@dataclass(frozen=True)
class Duty:
    """One role of one member on one operating assignment."""

    assignment: DutyAssignment
    role: str  # the crew field, e.g. "duty_officer"
    label: str  # e.g. "Duty officer"


@dataclass
class CrewBriefing:
    """Everything one member is on duty for that day."""

    member: Member
    duties: list[Duty] = field(default_factory=list)

    @property
    def role_labels(self) -> list[str]:
        return [duty.label for duty in self.duties]

    @property
    def assignments(self) -> list[DutyAssignment]:
        """The assignments this member crews, each once, in roster order."""
        return list({duty.assignment.pk: duty.assignment for duty in self.duties}.values())


@dataclass
class DayBriefing:
    day: datetime.date
    assignments: list[DutyAssignment]
    grounded: list[MaintenanceIssue]
    deadlines: list[MaintenanceDeadline]  # each annotated with ``overdue``

    @property
    def fields(self) -> str:
        """The airfields that operate, e.g. "KFRR, KOKV"."""
        return ", ".join(assignment.location.identifier for assignment in self.assignments)

    @property
    def horizon(self) -> datetime.date:
        return self.day + DEADLINE_HORIZON

    @property
    def overdue_count(self) -> int:
        return sum(1 for deadline in self.deadlines if deadline.due_date < self.day)

    @cached_property
    def crews(self) -> list[CrewBriefing]:
        """One entry per crew member (several roles, even on two airfields, stay one entry)."""
        by_member: dict[int, CrewBriefing] = {}
        for assignment in self.assignments:
            for role, label in CREW_ROLES:
                member = getattr(assignment, role)
                if member is not None:
                    crew = by_member.setdefault(member.pk, CrewBriefing(member))
                    crew.duties.append(Duty(assignment, role, label))
        return sorted(
            by_member.values(), key=lambda c: (c.member.last_name, c.member.first_name, c.member.pk)
        )


def operating_assignments(day: datetime.date) -> list[DutyAssignment]:
    """The day's operating assignments (every airfield), crews and airfield joined in."""
    return list(
        DutyAssignment.objects.operating()
        .filter(date=day)
        .select_related("location", *CREW_FIELDS)
        .order_by("location__identifier")
    )


def day_briefing(day: datetime.date) -> DayBriefing:
    """The briefing for ``day``; without operations, the maintenance part is not read."""
    assignments = operating_assignments(day)
    if not assignments:
        return DayBriefing(day, [], [], [])
    grounded = MaintenanceIssue.objects.grounding().select_related("glider", "towplane")
    deadlines = (
        MaintenanceDeadline.objects.due_by(day + DEADLINE_HORIZON)
        .select_related("glider", "towplane")
        .annotate(overdue=ExpressionWrapper(Q(due_date__lt=day), output_field=BooleanField()))
    )
    return DayBriefing(day, assignments, list(grounded), list(deadlines))
