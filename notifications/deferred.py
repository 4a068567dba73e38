"""The SMS that quiet hours held back, sent once they are over: what ``send_deferred_notices`` does."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db.models import Q

from notifications.delivery import Outbox
from notifications.models import Delivery

if TYPE_CHECKING:
    from notifications.job import SendingJob

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


def send_due(job: SendingJob, due: list[Delivery]) -> None:
    """Send each one now, unless it should no longer go (``Outbox.send_held``); members in one query."""
    ids = {delivery.recipient.partition(":")[2] for delivery in due}
    members = get_user_model().objects.in_bulk([int(pk) for pk in ids if pk.isdigit()])
    with Outbox(job) as outbox:
        for delivery in due:
            member_id = delivery.recipient.partition(":")[2]
            outbox.send_held(delivery, members.get(int(member_id)) if member_id.isdigit() else None)
