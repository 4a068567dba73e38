"""Hourly: send the SMS that quiet hours held back, once they are over in the member's zone."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from notifications.deferred import JOB_NAME, due_deliveries, send_due
from notifications.delivery import log_summary
from utils.cronjob import BaseCronJobCommand


class Command(BaseCronJobCommand):
    help = (
        "Send the SMS held back by quiet hours once they are over in each member's time zone; "
        "drop those no longer wanted or too late to matter."
    )
    job_name = JOB_NAME
    # At :20, not :00 or :05: where the schedule zone has DST, the spring-forward hour moves a
    # missing 02:xx slot to 03:00, and the next run must still be more than the deadline away.
    schedule = "20 * * * *"
    max_execution_time = datetime.timedelta(minutes=10)
    resource_class = "light"

    def execute_job(self, *args: Any, **options: Any) -> None:
        due = due_deliveries(timezone.now())
        send_due(self, due)
        log_summary(self, f"Found {len(due)} deferred SMS due")
