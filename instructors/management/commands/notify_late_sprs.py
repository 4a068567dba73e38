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
    FINAL_LEVEL,
    INSTRUCTION_REPORTS_URL,
    LATE_SPRS_FINAL_KIND,
    LATE_SPRS_KEY,
    LEVELS,
    OVERDUE_AFTER_DAYS,
    InstructorOverdue,
    cc_members,
    late_sprs_message,
    late_sprs_sms,
    leaders_by_role,
    overdue_reports,
)
from members.models import Member
from notifications.delivery import Notice, Outbox, log_summary, member_key
from notifications.inapp import sync_notifications
from utils.clubtime import club_today
from utils.cronjob import BaseCronJobCommand, positive_int
from utils.errors import UsageError


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

    def validate_options(self, options: dict[str, Any]) -> None:
        # Shorter than the first level, nothing could ever be overdue and every live
        # notification would be dismissed: a mistake, not a request.
        if options["lookback_days"] < OVERDUE_AFTER_DAYS:
            raise UsageError(
                f"--lookback-days must be at least {OVERDUE_AFTER_DAYS} "
                f"(a report is overdue from {OVERDUE_AFTER_DAYS} days after the flight)"
            )

    def execute_job(self, *args: Any, **options: Any) -> None:
        overdue = overdue_reports(club_today(), options["lookback_days"])
        leaders = leaders_by_role()
        sync_notifications(
            self,
            LATE_SPRS_KEY,
            INSTRUCTION_REPORTS_URL,
            {item.instructor.pk: (item.instructor.full_name, late_sprs_message(item)) for item in overdue},
        )
        self._warned_no_email: set[int] = set()
        with Outbox(self) as outbox:
            for item in overdue:
                self.notify(outbox, item, leaders)
        log_summary(self, self.findings(overdue))

    def findings(self, overdue: list[InstructorOverdue]) -> str:
        levels = Counter(report.level.rank for item in overdue for report in item.reports)
        found = f"Found {levels.total()} overdue SPR(s) for {len(overdue)} instructor(s)"
        by_level = ", ".join(f"{lv.label} {levels[lv.rank]}" for lv in reversed(LEVELS) if levels[lv.rank])
        return f"{found} ({by_level})" if by_level else found

    def notify(self, outbox: Outbox, item: InstructorOverdue, leaders: dict[CC, list[Member]]) -> None:
        instructor = item.instructor
        notice = Notice(LATE_SPRS_KEY, member_key(instructor.pk), instructor.full_name, member=instructor)
        if item.highest_level == FINAL_LEVEL:
            # Offered by SMS too (kind late_sprs_final); only the instructor is texted, never the copies.
            notice.sms, notice.kind_key = late_sprs_sms(item), LATE_SPRS_FINAL_KIND
        if not instructor.email:
            texted = notice.sms is not None and instructor.can_receive_sms
            self.warn_no_email(
                instructor, "texted and notified in-app" if texted else "no email sent; notified in-app only"
            )
            if texted:
                outbox.deliver(notice)
            return
        cc = []
        for member in cc_members(item, leaders):
            if member.email:
                cc.append(member)
            else:
                self.warn_no_email(member, "left out of the copies")
        if cc:
            notice.describe += " (cc " + ", ".join(member.full_name for member in cc) + ")"
        notice.email = late_sprs_email(item, cc)
        outbox.deliver(notice)

    def warn_no_email(self, member: Member, consequence: str) -> None:
        if member.pk in self._warned_no_email:
            return
        self._warned_no_email.add(member.pk)
        self.log_warning(f"{member.full_name} has no email address; {consequence}")
        self.count("no_email")
