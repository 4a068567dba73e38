"""What the weekly maintenance digest lists, and who receives it (what they are sent is in
``maintenance.notices.digest``).

Four queries whatever the fleet's size: the open issues, the deadlines in the window, the
meisters of the listed aircraft, and the recipients.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q

from maintenance.models import AircraftMeister, MaintenanceDeadline, MaintenanceIssue
from members.models import Member

DEFAULT_DEADLINE_DAYS = 30
AircraftKey = tuple[str, int]  # ("glider", id) or ("towplane", id): AircraftRef.aircraft_key


@dataclass(frozen=True)
class DeadlineLine:
    deadline: MaintenanceDeadline
    days_left: int  # negative: overdue by that many days

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def days_overdue(self) -> int:
        return -self.days_left


@dataclass(frozen=True)
class MaintenanceDigest:
    today: datetime.date
    horizon: datetime.date  # deadlines due on or before this day are listed
    issues: list[MaintenanceIssue] = field(default_factory=list)
    deadlines: list[DeadlineLine] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.issues and not self.deadlines

    @property
    def week(self) -> datetime.date:
        """The first day of the digest's week: the Sunday (the day send_maintenance_digest runs)
        on or before ``today``. The ledger keys each copy on it, so a rerun within the week sends
        only what the week's digest has not sent yet."""
        return self.today - datetime.timedelta(days=(self.today.weekday() + 1) % 7)

    @property
    def grounded_count(self) -> int:
        return sum(issue.grounded for issue in self.issues)

    @property
    def overdue_count(self) -> int:
        return sum(line.overdue for line in self.deadlines)

    def describe(self) -> str:
        """What it lists, in a line: "2 open issues (1 grounding) and no deadlines due by …"."""
        issues, deadlines, by = len(self.issues), len(self.deadlines), self.horizon.isoformat()
        text = f"{issues} open issue{'s' * (issues != 1)}" if issues else "no open issues"
        if self.grounded_count:
            text += f" ({self.grounded_count} grounding)"
        if not deadlines:
            return text + f" and no deadlines due by {by}"
        text += f" and {deadlines} deadline{'s' * (deadlines != 1)} due by {by}"
        return text + (f" ({self.overdue_count} overdue)" if self.overdue_count else "")

    def aircraft_with_issues(self) -> set[AircraftKey]:
        return {issue.aircraft_key for issue in self.issues}

    def aircraft_listed(self) -> set[AircraftKey]:
        return self.aircraft_with_issues() | {line.deadline.aircraft_key for line in self.deadlines}


@dataclass(frozen=True)
class DigestRecipient:
    member: Member
    own_aircraft: frozenset[AircraftKey]  # the listed aircraft this member is meister of


def build_digest(today: datetime.date, deadline_days: int) -> MaintenanceDigest:
    """Open issues (grounding first, then oldest), and deadlines overdue or due within the days."""
    horizon = today + datetime.timedelta(days=deadline_days)
    issues = (
        MaintenanceIssue.objects.open()
        .select_related("glider", "towplane", "reported_by")
        .order_by("-grounded", "report_date", "pk")
    )
    deadlines = (
        MaintenanceDeadline.objects.due_by(horizon)
        .select_related("glider", "towplane")
        .order_by("due_date", "pk")
    )
    return MaintenanceDigest(
        today=today,
        horizon=horizon,
        issues=list(issues),
        deadlines=[DeadlineLine(d, (d.due_date - today).days) for d in deadlines],
    )


def _aircraft_filter(keys: set[AircraftKey]) -> Q:
    gliders = sorted(pk for kind, pk in keys if kind == "glider")
    towplanes = sorted(pk for kind, pk in keys if kind == "towplane")
    return Q(glider_id__in=gliders) | Q(towplane_id__in=towplanes)


def digest_recipients(digest: MaintenanceDigest) -> list[DigestRecipient]:
    """The active maintenance team and the active meisters of aircraft with open issues, each once.

    Each recipient is told which listed aircraft (with an issue or a deadline) are theirs.
    """
    listed = digest.aircraft_listed()
    own: defaultdict[int, set[AircraftKey]] = defaultdict(set)
    if listed:
        meisterships = AircraftMeister.objects.filter(_aircraft_filter(listed)).values_list(
            "member_id", "glider_id", "towplane_id"
        )
        for member_id, glider_id, towplane_id in meisterships:
            own[member_id].add(("glider", glider_id) if glider_id else ("towplane", towplane_id))
    with_issues = digest.aircraft_with_issues()
    issue_meisters = sorted(member_id for member_id, keys in own.items() if keys & with_issues)
    members = (
        Member.objects.active()
        .filter(Q(maintenance_team=True) | Q(pk__in=issue_meisters))
        .order_by("last_name", "first_name", "pk")
    )
    return [DigestRecipient(m, frozenset(own.get(m.pk, ()))) for m in members]
