"""Claims are compare-and-swap, and a dead sender's row is sent only if its message never went out.

(tests/test_faults_delivery.py races real processes on PostgreSQL; these are the same rules on
the suite's database, one step at a time.)
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from members.models import Member
from members.tests.factories import MemberFactory
from notifications.delivery import Notice, Outbox, member_key
from notifications.email import render_email
from notifications.ledger import claim_held
from notifications.models import Delivery
from testsupport.commands import run_command
from testsupport.smtp import SMTPServer
from utils.clubtime import club_today
from utils.cronjob import BaseCronJobCommand
from utils.exitcodes import ExitCode

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def noon() -> Iterator[None]:
    """Noon in New York: the row's day and the run's are the same club day."""
    with time_machine.travel(datetime.datetime(2026, 11, 20, 17, tzinfo=datetime.UTC), tick=True):
        yield


class GreetingJob(BaseCronJobCommand):
    job_name = "greeting_job"
    sends_notices = True

    def execute_job(self, *args: Any, **options: Any) -> None:
        member = Member.objects.get(username="greeted")
        email = render_email("notifications/email/test_greeting", [member.email], {"member": member})
        with Outbox(self) as outbox:
            outbox.deliver(Notice("greeting", member_key(member.pk), member.full_name, email))


def left_by_a_dead_run(handed_over: bool) -> Delivery:
    """Greeting's row as a run of the job left it when its pod was killed mid-send."""
    member = MemberFactory(username="greeted")
    moment = timezone.now() - datetime.timedelta(minutes=1)
    return Delivery.objects.create(
        job_name="greeting_job", day=club_today(), recipient=member_key(member.pk), kind="greeting",
        status="pending", claim_token="dead", last_attempt_at=moment, attempts=int(handed_over),
        handed_over_at=moment if handed_over else None, message_id="<m2s.dead@example.org>",
    )  # fmt: skip


def test_two_claims_of_a_row_read_alike_cannot_both_win() -> None:
    row = Delivery.objects.create(
        job_name="j", day=datetime.date(2026, 11, 20), recipient="member:1", kind="k", status="failed",
        claim_token="t0", last_attempt_at=timezone.now(),
    )  # fmt: skip
    first, second = Delivery.objects.get(pk=row.pk), Delivery.objects.get(pk=row.pk)
    assert claim_held(first, None) is True
    assert claim_held(second, None) is False  # the token it read is gone
    assert Delivery.objects.get(pk=row.pk).claim_token == first.claim_token != "t0"


def test_a_row_whose_message_never_went_out_is_sent_by_the_next_run(smtp_settings: SMTPServer) -> None:
    left_by_a_dead_run(handed_over=False)
    result = run_command(GreetingJob())
    assert result.code == 0, result.err
    assert [m["Message-ID"] for m in smtp_settings.messages] == ["<m2s.dead@example.org>"]
    assert Delivery.objects.get().status == "sent"


def test_a_row_whose_message_went_out_is_left_in_doubt_and_sent_only_when_asked(
    smtp_settings: SMTPServer,
) -> None:
    left_by_a_dead_run(handed_over=True)
    result = run_command(GreetingJob())
    assert result.code == ExitCode.FAILED
    assert (
        result.err.strip()
        .splitlines()[-1]
        .startswith("❌ [greeting_job] Job greeting_job failed: 1 notice(s) in doubt")
    )
    assert smtp_settings.messages == []
    row = Delivery.objects.get()
    assert row.status == "in_doubt" and row.error.startswith("its sender stopped after handing it over at")

    again = run_command(GreetingJob(), "--send-in-doubt")
    assert again.code == 0, again.err
    assert [m["Message-ID"] for m in smtp_settings.messages] == ["<m2s.dead@example.org>"]
    assert Delivery.objects.get().status == "sent"
