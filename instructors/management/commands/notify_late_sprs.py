"""Chase instructors for overdue student progress reports, copying more people as they age."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import CommandParser

from instructors.late_sprs import DEFAULT_LOOKBACK_DAYS, OVERDUE_AFTER_DAYS, describe, overdue_reports
from instructors.notices.late_sprs import remind_instructors
from notifications.delivery import log_summary
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
            help="Flights older than this many days are no longer chased (default %(default)s).",
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
        overdue = overdue_reports(self.occurrence_day, options["lookback_days"])
        remind_instructors(self, overdue)
        log_summary(self, describe(overdue))
