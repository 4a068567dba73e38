"""The delivery ledger: every notice once, on a real SMTP server."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.db.models.functions import Now

from members.models import Member
from members.tests.factories import MemberFactory
from notifications.delivery import Notice, Outbox, log_summary, member_key
from notifications.email import render_email
from notifications.models import Delivery
from testsupport.commands import run_command
from testsupport.smtp import SMTPServer
from utils.cronjob import BaseCronJobCommand
from utils.exitcodes import ExitCode
from utils.models import CronJobLock

pytestmark = pytest.mark.django_db


class GreetingJob(BaseCronJobCommand):
    """Sends one email to each active member: the smallest job that uses the ledger."""

    job_name = "greeting_job"
    sends_notices = True

    def execute_job(self, *args: Any, **options: Any) -> None:
        members = list(Member.objects.order_by("pk"))
        with Outbox(self) as outbox:
            for member in members:
                email = render_email("notifications/email/test_greeting", [member.email], {"member": member})
                outbox.deliver(Notice("greeting", member_key(member.pk), member.full_name, email))
        log_summary(self, f"Found {len(members)} members")


@pytest.fixture
def members() -> list[Member]:
    return [MemberFactory(first_name=name, last_name="Pilot") for name in ("Ann", "Bob", "Cy")]


def test_each_notice_is_sent_once_and_recorded(smtp_settings: SMTPServer, members: list[Member]) -> None:
    result = run_command(GreetingJob())
    assert result.code == 0
    assert smtp_settings.recipients() == sorted(m.email for m in members)
    assert smtp_settings.subjects() == ["Hello from Skyline Soaring Club"] * 3
    message = smtp_settings.messages[0]
    assert message.get_content_type() == "multipart/alternative"
    assert "Hello Ann" in message.get_body(("plain",)).get_content()
    assert "<strong>Ann</strong>" in message.get_body(("html",)).get_content()
    assert "📊 [greeting_job] Found 3 members · 📧 sent 3" in result.out
    rows = Delivery.objects.order_by("recipient")
    assert [(d.status, d.attempts, d.channel) for d in rows] == [("sent", 1, "email")] * 3
    assert {str(m["Message-ID"]) for m in smtp_settings.messages} == {d.message_id for d in rows}


def test_a_rerun_the_same_day_sends_nothing_and_resend_sends_again(
    smtp_settings: SMTPServer, members: list[Member]
) -> None:
    assert run_command(GreetingJob()).code == 0
    again = run_command(GreetingJob())
    assert again.code == 0 and "📧 sent 0, 3 already sent" in again.out
    assert len(smtp_settings.messages) == 3
    resent = run_command(GreetingJob(), "--resend")
    assert "📧 sent 3" in resent.out
    assert len(smtp_settings.messages) == 6
    first, second = smtp_settings.messages[0]["Message-ID"], smtp_settings.messages[3]["Message-ID"]
    assert first != second  # a deliberate resend is a new message
    assert Delivery.objects.count() == 3 and {d.attempts for d in Delivery.objects.all()} == {2}


def test_the_next_day_is_a_new_notice(smtp_settings: SMTPServer, members: list[Member]) -> None:
    with time_machine.travel(datetime.datetime(2026, 11, 20, 15, tzinfo=datetime.UTC)):
        run_command(GreetingJob())
    with time_machine.travel(datetime.datetime(2026, 11, 21, 15, tzinfo=datetime.UTC)):
        run_command(GreetingJob())
    assert len(smtp_settings.messages) == 6
    days = sorted({d.day for d in Delivery.objects.all()})
    assert days == [datetime.date(2026, 11, 20), datetime.date(2026, 11, 21)]


def test_the_day_is_the_clubs_not_utcs(smtp_settings: SMTPServer, members: list[Member]) -> None:
    # 03:00 UTC on the 21st is still the evening of the 20th in New York.
    with time_machine.travel(datetime.datetime(2026, 11, 21, 3, tzinfo=datetime.UTC)):
        run_command(GreetingJob())
    assert {d.day for d in Delivery.objects.all()} == {datetime.date(2026, 11, 20)}


def test_one_recipients_failure_is_counted_and_does_not_stop_the_others(
    smtp_settings: SMTPServer, members: list[Member]
) -> None:
    smtp_settings.reject_recipients.add(members[1].email)
    result = run_command(GreetingJob())
    assert result.code == ExitCode.FAILED
    assert "📧 sent 2, 1 failed" in result.out
    assert f"❌ [greeting_job] Could not send greeting to {members[1].full_name}" in result.err
    assert "failed: 1 notice(s) not sent" in result.err
    failed = Delivery.objects.get(status="failed")
    assert failed.recipient == member_key(members[1].pk) and "No such user" in failed.error
    # The next run retries only the failed one.
    smtp_settings.reject_recipients.clear()
    retry = run_command(GreetingJob())
    assert retry.code == 0 and "📧 sent 1, 2 already sent" in retry.out
    assert sorted(smtp_settings.recipients()) == sorted(m.email for m in members)


def test_a_notice_left_pending_by_a_dead_run_is_sent_with_its_message_id(
    smtp_settings: SMTPServer, members: list[Member]
) -> None:
    from utils.clubtime import club_today

    Delivery.objects.create(
        job_name="greeting_job",
        day=club_today(),
        recipient=member_key(members[0].pk),
        kind="greeting",
        status="pending",
        attempts=1,
        message_id="<m2s.in-doubt@example.org>",
    )
    assert run_command(GreetingJob()).code == 0
    assert len(smtp_settings.messages) == 3
    ann = next(m for m in smtp_settings.messages if members[0].email in str(m["To"]))
    assert ann["Message-ID"] == "<m2s.in-doubt@example.org>"
    assert Delivery.objects.get(recipient=member_key(members[0].pk)).attempts == 2


def test_a_dry_run_records_and_sends_nothing(smtp_settings: SMTPServer, members: list[Member]) -> None:
    result = run_command(GreetingJob(), "--dry-run")
    assert result.code == 0
    assert "🔍 [greeting_job] Would send email 'Hello from Skyline Soaring Club' to Ann Pilot" in result.out
    assert "📧 would send 3" in result.out
    assert smtp_settings.messages == [] and not Delivery.objects.exists()


class LeaseLosingJob(GreetingJob):
    job_name = "lease_losing_job"

    def execute_job(self, *args: Any, **options: Any) -> None:
        CronJobLock.objects.filter(job_name=self.job_name).update(expires_at=Now())
        super().execute_job(*args, **options)


def test_a_run_that_lost_its_lease_sends_nothing(smtp_settings: SMTPServer, members: list[Member]) -> None:
    result = run_command(LeaseLosingJob())
    assert result.code == ExitCode.TEMPFAIL
    assert smtp_settings.messages == [] and not Delivery.objects.exists()
