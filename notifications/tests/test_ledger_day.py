"""The ledger's day is the run's: fixed as the run starts, so what a job selects and what its
ledger records agree when the run crosses midnight (club time)."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

import pytest
import time_machine

from members.tests.factories import MemberFactory
from notifications.delivery import Notice, Outbox, member_key
from notifications.email import render_email
from notifications.models import Delivery
from testsupport.commands import run_command
from testsupport.smtp import SMTPServer
from utils.cronjob import BaseCronJobCommand

pytestmark = pytest.mark.django_db

CLUB = zoneinfo.ZoneInfo("America/New_York")
LATE = datetime.datetime(2026, 11, 20, 23, 59, 50, tzinfo=CLUB)


class MidnightJob(BaseCronJobCommand):
    """Selects for its day, then (the run taking its time) sends after midnight."""

    job_name = "midnight_job"
    sends_notices = True
    clock: Any = None
    selected_for: datetime.date | None = None

    def execute_job(self, *args: Any, **options: Any) -> None:
        type(self).selected_for = self.occurrence_day
        member = MemberFactory()
        self.clock.shift(datetime.timedelta(seconds=20))  # 00:00:10 the next day
        email = render_email("notifications/email/test_greeting", [member.email], {"member": member})
        with Outbox(self) as outbox:
            outbox.deliver(Notice("greeting", member_key(member.pk), member.full_name, email))


def test_a_run_that_crosses_midnight_records_its_notices_on_the_day_it_selected_for(
    smtp_settings: SMTPServer,
) -> None:
    with time_machine.travel(LATE, tick=False) as clock:
        MidnightJob.clock = clock
        result = run_command(MidnightJob())
    assert result.code == 0, result.err
    assert MidnightJob.selected_for == datetime.date(2026, 11, 20)
    assert list(Delivery.objects.values_list("day", flat=True)) == [datetime.date(2026, 11, 20)]
