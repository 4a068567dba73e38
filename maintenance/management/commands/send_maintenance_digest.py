"""Weekly: the open maintenance issues and the coming deadlines, to the people who fix them."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import CommandParser

from maintenance.digest import DEFAULT_DEADLINE_DAYS, build_digest
from maintenance.notices.digest import send_digest
from notifications.delivery import log_summary
from utils.cronjob import BaseCronJobCommand, positive_int
from utils.errors import UsageError

MAX_DEADLINE_DAYS = 3660  # ten years is a planning horizon; more is a typo


class Command(BaseCronJobCommand):
    help = (
        "Email the maintenance team and the meisters of affected aircraft the open maintenance "
        "issues (grounding first) and the deadlines overdue or coming due; post a summary to the "
        "club's Slack channel."
    )
    job_name = "send_maintenance_digest"
    schedule = "0 9 * * 0"
    max_execution_time = datetime.timedelta(minutes=10)
    resource_class = "light"
    sends_notices = True

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--deadline-days",
            type=positive_int,
            default=DEFAULT_DEADLINE_DAYS,
            help="List deadlines overdue or due within this many days of today (default %(default)s).",
        )

    def validate_options(self, options: dict[str, Any]) -> None:
        if options["deadline_days"] > MAX_DEADLINE_DAYS:
            raise UsageError(f"--deadline-days must be at most {MAX_DEADLINE_DAYS}")

    def execute_job(self, *args: Any, **options: Any) -> None:
        digest = build_digest(self.occurrence_day, options["deadline_days"])
        if digest.is_empty:
            log_summary(self, f"Found {digest.describe()}: nothing to send")
            return
        send_digest(self, digest)
        log_summary(self, f"Found {digest.describe()}")
