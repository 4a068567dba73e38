"""Small jobs that send notices on every channel, for the notifications tests."""

from __future__ import annotations

import datetime
from typing import Any

from members.models import Member
from notifications.delivery import Notice, Outbox, log_summary, member_key, slack_notice
from notifications.email import render_email
from utils.cronjob import BaseCronJobCommand

ANN_PHONE = "+15405550101"
BOB_PHONE = "+15405550102"


class BriefingJob(BaseCronJobCommand):
    """Each member: an email, and the same news by SMS; one Slack post for the club."""

    job_name = "briefing_job"
    sends_notices = True
    max_execution_time = datetime.timedelta(minutes=10)

    def execute_job(self, *args: Any, **options: Any) -> None:
        members = list(Member.objects.order_by("pk"))
        with Outbox(self) as outbox:
            for member in members:
                email = render_email("notifications/email/test_greeting", [member.email], {"member": member})
                text = f"Hello {member.first_name}, you fly tomorrow."
                outbox.deliver(
                    Notice(
                        "briefing", member_key(member.pk), member.full_name, email, sms=text, member=member
                    )
                )
            outbox.deliver(slack_notice("briefing", f"{len(members)} members briefed"))
        log_summary(self, f"Found {len(members)} members")


class HurriedBriefingJob(BriefingJob):
    job_name = "hurried_briefing_job"
    max_execution_time = datetime.timedelta(seconds=4)
