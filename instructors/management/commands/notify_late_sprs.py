"""Chase instructors for overdue student progress reports, copying more people as they age."""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any

from django.core.management.base import CommandParser

from instructors.emails import late_sprs_email
from instructors.services import (
    CC,
    DEFAULT_LOOKBACK_DAYS,
    INSTRUCTION_REPORTS_URL,
    LATE_SPRS_KEY,
    LEVELS,
    OVERDUE_AFTER_DAYS,
    InstructorOverdue,
    cc_members,
    late_sprs_message,
    leaders_by_role,
    overdue_reports,
)
from members.models import Member
from notifications.delivery import Notice, Outbox, member_key
from notifications.inapp import dismiss_notifications, upsert_notification
from notifications.models import Notification
from utils.clock import club_today
from utils.cronjob import BaseCronJobCommand, positive_int


class Command(BaseCronJobCommand):
    help = (
        "Email every instructor their overdue student progress reports (7+ days after the flight), "
        "copying their supervisor, the chief instructors, the board or all leadership as they age."
    )
    job_name = "notify_late_sprs"
    schedule = "0 10 * * 1"
    max_execution_time = datetime.timedelta(minutes=20)
    resource_class = "heavy"
    sends_notices = True

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--lookback-days",
            type=positive_int,
            default=DEFAULT_LOOKBACK_DAYS,
            help=f"Flights older than this many days are no longer chased (default {DEFAULT_LOOKBACK_DAYS}).",
        )

    def execute_job(self, *args: Any, **options: Any) -> None:
        lookback: int = options["lookback_days"]
        if lookback < OVERDUE_AFTER_DAYS:
            self.log_warning(
                f"--lookback-days {lookback} is under {OVERDUE_AFTER_DAYS}: no report can be overdue"
            )
        overdue = overdue_reports(club_today(), lookback)
        leaders = leaders_by_role()
        live = dict(
            Notification.objects.filter(key=LATE_SPRS_KEY, dismissed=False).values_list("user_id", "message")
        )
        self._warned_no_email: set[int] = set()
        with Outbox(self) as outbox:
            for item in overdue:
                self.notify(outbox, item, leaders, live)
        self.dismiss_resolved(live, {item.instructor.pk for item in overdue})
        self.log_summary(self.findings(overdue))

    def findings(self, overdue: list[InstructorOverdue]) -> str:
        levels = Counter(report.level.rank for item in overdue for report in item.reports)
        found = f"Found {levels.total()} overdue SPR(s) for {len(overdue)} instructor(s)"
        by_level = ", ".join(f"{lv.label} {levels[lv.rank]}" for lv in reversed(LEVELS) if levels[lv.rank])
        return f"{found} ({by_level})" if by_level else found

    def notify(
        self, outbox: Outbox, item: InstructorOverdue, leaders: dict[CC, list[Member]], live: dict[int, str]
    ) -> None:
        instructor = item.instructor
        self.update_in_app(instructor.pk, instructor.full_name, late_sprs_message(item), live)
        if not instructor.email:
            self.warn_no_email(instructor, "no email sent; notified in-app only")
            return
        cc = []
        for member in cc_members(item, leaders):
            if member.email:
                cc.append(member)
            else:
                self.warn_no_email(member, "left out of the copies")
        describe = instructor.full_name
        if cc:
            describe += " (cc " + ", ".join(member.full_name for member in cc) + ")"
        email = late_sprs_email(item, cc)
        outbox.deliver(Notice(LATE_SPRS_KEY, member_key(instructor.pk), describe, email))

    def warn_no_email(self, member: Member, consequence: str) -> None:
        if member.pk in self._warned_no_email:
            return
        self._warned_no_email.add(member.pk)
        self.log_warning(f"{member.full_name} has no email address; {consequence}")
        self.count("no_email")

    def update_in_app(self, user_id: int, name: str, message: str, live: dict[int, str]) -> None:
        """One live notification per instructor, rewritten when its text changes; never stacked."""
        if live.get(user_id) == message:
            return
        if self.dry_run:
            verb = "update" if user_id in live else "create"
            self.log("dry_run", f"Would {verb} the in-app notification of {name}: {message}")
            self.count("would_notify_in_app")
            return
        with self.unit_of_work():
            upsert_notification(user_id, LATE_SPRS_KEY, message, INSTRUCTION_REPORTS_URL)
        self.log_info(f"In-app notification of {name}: {message}", min_verbosity=2)
        self.count("in_app_updated")

    def dismiss_resolved(self, live: dict[int, str], still_overdue: set[int]) -> None:
        """Instructors with nothing overdue any more lose their notification."""
        resolved = set(live) - still_overdue
        if not resolved:
            return
        if self.dry_run:
            self.log("dry_run", f"Would dismiss {len(resolved)} in-app notification(s) with nothing overdue")
            return
        with self.unit_of_work():
            dismissed = dismiss_notifications(LATE_SPRS_KEY, user_ids=resolved)
        self.count("in_app_dismissed", dismissed)
