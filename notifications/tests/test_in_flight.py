"""A notice being sent is never sent again by someone else, and a hard stop can't split a send
from its record."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

import pytest
import time_machine

from members.tests.factories import MemberFactory
from notifications.delivery import Notice, Outbox, member_key
from notifications.email import render_email
from notifications.ledger import IN_FLIGHT_SECONDS
from notifications.models import Delivery
from operations.alerts import AlertSender
from testsupport.commands import run_command
from testsupport.smtp import SMTPServer
from utils.cronjob import BaseCronJobCommand
from utils.exitcodes import ExitCode
from utils.models import CronJobRun

pytestmark = pytest.mark.django_db


def alert_notice(address: str, day: datetime.date) -> Notice:
    """Like every alert (operations.alerts), on the day of the problem it is about."""
    email = render_email("notifications/email/test_greeting", [address], {"member": {"first_name": "Ada"}})
    return Notice("failure_streak:1", address, address, email, day=day)


CLUB = zoneinfo.ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    "started",
    [
        datetime.datetime(2026, 11, 20, 12, 0, tzinfo=CLUB),
        # The stale takeover 15 minutes later lands on the next club day: still the same row.
        datetime.datetime(2026, 11, 20, 23, 50, tzinfo=CLUB),
    ],
    ids=["noon", "23:50 club time"],
)
def test_a_pending_alert_is_not_taken_over_by_another_sender_until_it_is_stale(
    smtp_settings: SMTPServer, started: datetime.datetime
) -> None:
    logged: list[str] = []
    problem_day = started.date()
    with time_machine.travel(started, tick=False) as clock:
        first = AlertSender("notify_late_sprs", None, lambda event, message: logged.append(message))
        claimed = Outbox(first).ledger.claim(alert_notice("admin@example.org", problem_day), "email")
        assert claimed is not None  # the first sender is now sending it
        second = AlertSender("notify_late_sprs", None, lambda event, message: logged.append(message))
        outcome = Outbox(second).deliver(alert_notice("admin@example.org", problem_day))
        assert outcome == {"email": Outbox.ALREADY_SENT} and smtp_settings.messages == []
        assert second.summary["in_flight"] == 1
        clock.shift(datetime.timedelta(seconds=IN_FLIGHT_SECONDS + 1))
        third = AlertSender("notify_late_sprs", None, lambda event, message: logged.append(message))
        assert Outbox(third).deliver(alert_notice("admin@example.org", problem_day)) == {"email": Outbox.SENT}
    assert len(smtp_settings.messages) == 1
    delivery = Delivery.objects.get()
    assert (delivery.job_name, delivery.day) == ("alerts:notify_late_sprs", problem_day)


class SlowSendJob(BaseCronJobCommand):
    """Its one email is stuck at the SMTP server when the deadline and the grace run out."""

    job_name = "slow_send_job"
    max_execution_time = datetime.timedelta(seconds=0.2)
    sends_notices = True

    def execute_job(self, *args: Any, **options: Any) -> None:
        member = MemberFactory()
        email = render_email("notifications/email/test_greeting", [member.email], {"member": member})
        with Outbox(self) as outbox:
            outbox.deliver(Notice("greeting", member_key(member.pk), member.full_name, email))
            outbox.deliver(Notice("greeting", "never", "never", email))  # the stop comes before this


def test_a_hard_stop_waits_until_the_message_in_flight_is_recorded(
    settings: Any, smtp_settings: SMTPServer
) -> None:
    import threading

    settings.CRONJOB_STOP_GRACE_SECONDS = 0.1
    smtp_settings.stall_data_after = 0
    threading.Timer(1.0, smtp_settings.release).start()  # the server answers after 1 s
    result = run_command(SlowSendJob())
    assert result.code == ExitCode.FAILED
    assert CronJobRun.objects.get().status == "timed_out"
    [delivery] = Delivery.objects.all()
    assert delivery.status == "sent"  # recorded: the next run won't send it again
    assert len(smtp_settings.messages) == 1
