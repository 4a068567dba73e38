"""Quiet hours in each member's own zone, and send_deferred_notices sending what they held back."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from members.models import Member
from members.tests.factories import MemberFactory
from notifications.models import Delivery, NoticeKind
from notifications.tests.jobs import ANN_PHONE, BriefingJob
from testsupport.commands import CommandResult, run_command
from testsupport.notifications import FakeTwilio
from testsupport.smtp import SMTPServer
from utils.exitcodes import ExitCode

pytestmark = pytest.mark.django_db

COMMAND = "send_deferred_notices"
DEE_PHONE = "+15405550104"
# 02:30 UTC on 21 November: 21:30 the evening before in New York (quiet), 19:30 in Denver.
EVENING = datetime.datetime(2026, 11, 21, 2, 30, tzinfo=datetime.UTC)
# New York's quiet hours end at 08:00 EST = 13:00 UTC.
QUIET_ENDS = datetime.datetime(2026, 11, 21, 13, 0, tzinfo=datetime.UTC)
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def kind() -> NoticeKind:
    return NoticeKind.objects.create(key="briefing", email=True, sms=True)


@pytest.fixture
def ann() -> Member:
    return MemberFactory(first_name="Ann", last_name="East", phone=ANN_PHONE, sms_opt_in=True)


@pytest.fixture
def dee() -> Member:
    return MemberFactory(
        first_name="Dee", last_name="West", phone=DEE_PHONE, sms_opt_in=True, timezone="America/Denver"
    )


def at(moment: datetime.datetime, command: Any, *args: str) -> CommandResult:
    with time_machine.travel(moment, tick=False):
        return run_command(command, *args)


def sms_rows() -> list[tuple[str, str, int]]:
    return [
        (d.recipient, d.status, d.attempts) for d in Delivery.objects.filter(channel="sms").order_by("pk")
    ]


def test_an_sms_in_the_members_quiet_hours_waits_until_they_end(
    smtp_settings: SMTPServer, twilio_settings: FakeTwilio, kind: NoticeKind, ann: Member, dee: Member
) -> None:
    result = at(EVENING, BriefingJob())
    assert result.code == 0, result.err
    assert (
        "ℹ️ [briefing_job] Deferred the SMS to Ann East until Sat 08:00 their time (quiet hours)" in result.out
    )
    assert "📧 sent 3, 1 deferred past quiet hours" in result.out
    assert [m["To"] for m in twilio_settings.messages] == [DEE_PHONE]  # 19:30 in Denver
    assert len(smtp_settings.messages) == 2  # email has no quiet hours
    deferred = Delivery.objects.get(channel="sms", status="deferred")
    assert deferred.not_before == QUIET_ENDS and deferred.body == "Hello Ann, you fly tomorrow."

    rerun = at(EVENING + MINUTE, BriefingJob())
    assert "📧 sent 0, 3 already sent, 1 deferred past quiet hours" in rerun.out

    early = at(QUIET_ENDS - MINUTE, COMMAND)
    assert early.code == 0 and "Found 0 deferred SMS due" in early.out
    due = at(QUIET_ENDS + 5 * MINUTE, COMMAND)
    assert due.code == 0, due.err
    assert "📊 [send_deferred_notices] Found 1 deferred SMS due · 📧 sent 1" in due.out
    assert [(m["To"], m["Body"]) for m in twilio_settings.messages][1:] == [
        (ANN_PHONE, "Hello Ann, you fly tomorrow.")
    ]
    assert at(QUIET_ENDS + 65 * MINUTE, COMMAND).out.count("Found 0 deferred SMS due") == 1
    assert len(twilio_settings.messages) == 2
    assert {status for _, status, _ in sms_rows()} == {"sent"}


def test_a_kind_may_drop_an_sms_due_in_quiet_hours_instead(
    smtp_settings: SMTPServer, twilio_settings: FakeTwilio, kind: NoticeKind, ann: Member
) -> None:
    kind.sms_quiet_hours = NoticeKind.QuietHours.DROP
    kind.save()
    result = at(EVENING, BriefingJob())
    assert "Dropped the SMS to Ann East: quiet hours there until 08:00" in result.out
    assert "📧 sent 1, 1 dropped" in result.out
    assert at(QUIET_ENDS + 5 * MINUTE, COMMAND).code == 0
    assert not twilio_settings.messages and sms_rows()[0][1] == "dropped"


def test_a_dry_run_says_it_would_defer(
    smtp_settings: SMTPServer, twilio_settings: FakeTwilio, kind: NoticeKind, ann: Member
) -> None:
    result = at(EVENING, BriefingJob(), "--dry-run")
    assert (
        "🔍 [briefing_job] Would defer the SMS to Ann East: quiet hours until 08:00 their time" in result.out
    )
    assert "📧 would send 1, 1 would wait for quiet hours to end" in result.out
    assert not Delivery.objects.exists()


def test_a_deferred_sms_no_longer_wanted_is_dropped(
    smtp_settings: SMTPServer, twilio_settings: FakeTwilio, kind: NoticeKind, ann: Member
) -> None:
    at(EVENING, BriefingJob())
    Member.objects.filter(pk=ann.pk).update(sms_opt_in=False)
    result = at(QUIET_ENDS + 5 * MINUTE, COMMAND)
    assert "Dropped the deferred SMS to Ann East: the member no longer takes SMS" in result.out
    assert not twilio_settings.messages
    assert Delivery.objects.get(channel="sms").error == "the member no longer takes SMS"


def test_a_deferred_sms_too_late_to_matter_is_dropped(
    smtp_settings: SMTPServer, twilio_settings: FakeTwilio, kind: NoticeKind, ann: Member
) -> None:
    at(EVENING, BriefingJob())
    result = at(QUIET_ENDS + datetime.timedelta(hours=12, minutes=5), COMMAND)
    assert "too late: its quiet hours ended more than 12 h ago" in result.out
    assert not twilio_settings.messages and sms_rows()[0][1] == "dropped"


def test_a_deferred_sms_that_fails_is_tried_again_the_next_hour(
    smtp_settings: SMTPServer, twilio_settings: FakeTwilio, kind: NoticeKind, ann: Member
) -> None:
    at(EVENING, BriefingJob())
    twilio_settings.script += [503] * 4
    failed = at(QUIET_ENDS + 5 * MINUTE, COMMAND)
    assert failed.code == ExitCode.FAILED and sms_rows()[0][1:] == ("failed", 4)
    later = at(QUIET_ENDS + 65 * MINUTE, COMMAND)
    assert later.code == 0 and "📧 sent 1" in later.out
    assert len(twilio_settings.messages) == 1 and sms_rows()[0][1:] == ("sent", 5)


def test_a_member_who_moved_to_a_zone_still_at_night_waits_again(
    smtp_settings: SMTPServer, twilio_settings: FakeTwilio, kind: NoticeKind, ann: Member
) -> None:
    at(EVENING, BriefingJob())
    Member.objects.filter(pk=ann.pk).update(timezone="Pacific/Honolulu")  # 03:05 there
    result = at(QUIET_ENDS + 5 * MINUTE, COMMAND)
    assert "Deferred the SMS to Ann East again, until Sat 08:00 their time" in result.out
    assert Delivery.objects.get(channel="sms").not_before == datetime.datetime(
        2026, 11, 21, 18, tzinfo=datetime.UTC
    )
    assert at(datetime.datetime(2026, 11, 21, 18, 5, tzinfo=datetime.UTC), COMMAND).code == 0
    assert len(twilio_settings.messages) == 1


def test_queries_do_not_grow_with_the_deferred_sms(
    smtp_settings: SMTPServer, twilio_settings: FakeTwilio, kind: NoticeKind
) -> None:
    counts = []
    for members in (2, 20):
        Delivery.objects.all().delete()
        Member.objects.all().delete()
        for n in range(members):
            MemberFactory(phone=f"+1540555{n:04d}", sms_opt_in=True)
        at(EVENING, BriefingJob())
        with CaptureQueriesContext(connection) as queries:
            result = at(QUIET_ENDS + 5 * MINUTE, COMMAND, "--dry-run")
        assert f"📧 would send {members}" in result.out
        counts.append(len(queries))
    assert counts[0] == counts[1]
