"""Hourly: send the SMS that quiet hours held back, once they are over in the member's zone."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from notifications.delivery import Outbox, log_summary
from notifications.models import Delivery
from utils.cronjob import BaseCronJobCommand

JOB_NAME = "send_deferred_notices"


def due_deliveries(now: datetime.datetime) -> list[Delivery]:
    """Deferred SMS whose quiet hours are over, and those of ours a dead or failed run left."""
    status = Delivery.Status
    return list(
        Delivery.objects.filter(channel=Delivery.Channel.SMS, not_before__isnull=False)
        .filter(
            Q(status=status.DEFERRED, not_before__lte=now)
            | Q(status__in=[status.PENDING, status.FAILED], run__job_name=JOB_NAME)
        )
        .order_by("not_before", "pk")
    )


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
        ids = {delivery.recipient.partition(":")[2] for delivery in due}
        members = get_user_model().objects.in_bulk([int(pk) for pk in ids if pk.isdigit()])
        with Outbox(self) as outbox:
            for delivery in due:
                member_id = delivery.recipient.partition(":")[2]
                outbox.send_held(delivery, members.get(int(member_id)) if member_id.isdigit() else None)
        log_summary(self, f"Found {len(due)} deferred SMS due")
