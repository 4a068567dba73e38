"""Email, SMS and Slack through the Outbox, against real loopback servers: who gets what on which
channel, and every failure mode — retried when temporary, never duplicated, recorded on the ledger."""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from members.models import Member
from members.tests.factories import MemberFactory
from notifications.models import Delivery, NoticeKind, OptOut
from notifications.tests.jobs import ANN_PHONE, BOB_PHONE, BriefingJob, HurriedBriefingJob
from testsupport.commands import run_command
from testsupport.notifications import FakeSlack, FakeTwilio
from testsupport.smtp import SMTPServer, free_port
from utils.exitcodes import ExitCode

pytestmark = pytest.mark.django_db

# 17:00 UTC is noon in New York: no quiet hours anywhere in the Americas.
NOON = datetime.datetime(2026, 11, 20, 17, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def noon() -> Iterator[None]:
    with time_machine.travel(NOON, tick=True):
        yield


@pytest.fixture
def kind() -> NoticeKind:
    return NoticeKind.objects.create(key="briefing", email=True, sms=True, slack=True)


@pytest.fixture
def ann() -> Member:
    return MemberFactory(first_name="Ann", last_name="Pilot", phone=ANN_PHONE, sms_opt_in=True)


@pytest.fixture
def bob() -> Member:
    return MemberFactory(first_name="Bob", last_name="Pilot", phone=BOB_PHONE)  # no SMS opt-in


def rows(channel: str) -> list[tuple[str, int]]:
    return [(d.status, d.attempts) for d in Delivery.objects.filter(channel=channel).order_by("recipient")]


# --- Who gets what -------------------------------------------------------------------------
def test_an_opted_in_member_gets_the_email_and_the_sms_once_each(
    smtp_settings: SMTPServer, twilio_settings: FakeTwilio, slack_settings: FakeSlack, kind: NoticeKind,
    ann: Member, bob: Member,
) -> None:  # fmt: skip
    result = run_command(BriefingJob())
    assert result.code == 0, result.err
    assert smtp_settings.recipients() == sorted([ann.email, bob.email])
    assert [(m["To"], m["From"], m["Body"]) for m in twilio_settings.messages] == [
        (ANN_PHONE, "+15405550100", "Hello Ann, you fly tomorrow.")
    ]
    assert slack_settings.posts == ["2 members briefed"]
    assert "📧 [briefing_job] Sent sms briefing (1 segment) to Ann Pilot" in result.out
    assert "📧 sent 4" in result.out
    sms_row = Delivery.objects.get(channel="sms")
    assert sms_row.message_id == twilio_settings.messages[0]["Sid"] and sms_row.notice_kind == "briefing"
    assert "+1540555" not in result.out  # a phone number never reaches the log

    again = run_command(BriefingJob())
    assert again.code == 0 and "📧 sent 0, 4 already sent" in again.out
    assert (
        len(smtp_settings.messages) == 2
        and len(twilio_settings.messages) == 1
        and len(slack_settings.posts) == 1
    )


def test_sms_goes_only_where_the_kind_offers_it_and_the_member_can_take_it(
    smtp_settings: SMTPServer, twilio_settings: FakeTwilio, kind: NoticeKind, ann: Member
) -> None:
    MemberFactory(first_name="Nophone", sms_opt_in=True, phone="")
    MemberFactory(first_name="Blocked", sms_opt_in=True, phone=BOB_PHONE, sms_blocked_at=NOON)
    opted_out = MemberFactory(first_name="Optedout", sms_opt_in=True, phone="+15405550103")
    OptOut.objects.create(member=opted_out, kind=kind, channel="sms")
    assert run_command(BriefingJob()).code == 0
    assert [m["To"] for m in twilio_settings.messages] == [ANN_PHONE]
    assert len(smtp_settings.messages) == 4  # every one of them still gets the email

    kind.sms = False
    kind.save()
    assert run_command(BriefingJob(), "--resend").code == 0
    assert len(twilio_settings.messages) == 1  # the kind no longer offers SMS


def test_a_kind_without_a_row_sends_email_and_slack_but_no_sms(
    smtp_settings: SMTPServer, twilio_settings: FakeTwilio, slack_settings: FakeSlack, ann: Member
) -> None:
    assert run_command(BriefingJob()).code == 0
    assert len(smtp_settings.messages) == 1 and slack_settings.posts and not twilio_settings.messages


def test_email_opt_out_and_a_kind_without_email(
    smtp_settings: SMTPServer, twilio_settings: FakeTwilio, kind: NoticeKind, ann: Member, bob: Member
) -> None:
    OptOut.objects.create(member=bob, kind=kind, channel="email")
    assert run_command(BriefingJob()).code == 0
    assert smtp_settings.recipients() == [ann.email] and len(twilio_settings.messages) == 1
    kind.email = False
    kind.save()
    result = run_command(BriefingJob(), "--resend")
    assert len(smtp_settings.messages) == 1 and len(twilio_settings.messages) == 2
    assert "📧 sent 1" in result.out


def test_without_twilio_settings_sms_is_skipped_with_one_warning(
    smtp_settings: SMTPServer, kind: NoticeKind, ann: Member
) -> None:
    MemberFactory(first_name="Cy", sms_opt_in=True, phone=BOB_PHONE)
    result = run_command(BriefingJob())
    assert result.code == 0
    assert result.out.count("SMS is not configured") == 1
    assert len(smtp_settings.messages) == 2 and not Delivery.objects.filter(channel="sms").exists()


def test_a_dry_run_says_which_channels_would_be_used_and_sends_nothing(
    smtp_settings: SMTPServer, twilio_settings: FakeTwilio, slack_settings: FakeSlack, kind: NoticeKind,
    ann: Member, bob: Member,
) -> None:  # fmt: skip
    result = run_command(BriefingJob(), "--dry-run")
    assert "🔍 [briefing_job] Would send sms briefing (1 segment) to Ann Pilot" in result.out
    assert "Would send sms briefing (1 segment) to Bob Pilot" not in result.out
    assert "🔍 [briefing_job] Would send slack briefing to the club's Slack channel" in result.out
    assert "📧 would send 4" in result.out
    assert not Delivery.objects.exists()
    assert not (smtp_settings.messages or twilio_settings.requests or slack_settings.requests)


def test_a_long_sms_is_cut_to_two_segments(
    smtp_settings: SMTPServer, twilio_settings: FakeTwilio, kind: NoticeKind
) -> None:
    MemberFactory(first_name="Ånnë 🛩️" * 20, last_name="Pilot", phone=ANN_PHONE, sms_opt_in=True)
    assert run_command(BriefingJob()).code == 0
    [message] = twilio_settings.messages
    assert message["Body"].endswith("…") and len(message["Body"].encode("utf-16-le")) // 2 <= 134


# --- SMS failures --------------------------------------------------------------------------
@pytest.mark.parametrize("statuses", [[429], [503], [429, 503, 503]])
def test_twilio_rate_limits_and_unavailability_are_retried_without_duplicates(
    smtp_settings: SMTPServer, twilio_settings: FakeTwilio, kind: NoticeKind, ann: Member, statuses: list[int]
) -> None:
    twilio_settings.script += statuses
    result = run_command(BriefingJob())
    assert result.code == 0, result.err
    assert [r["status"] for r in twilio_settings.requests] == [*statuses, 201]
    assert len(twilio_settings.messages) == 1
    assert rows("sms") == [("sent", len(statuses) + 1)]
    assert (
        f"sms to Ann Pilot failed (Twilio {statuses[0]} error" in result.out and "retrying in" in result.out
    )


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_twilio_server_error_leaves_the_sms_in_doubt_and_it_is_never_retried(
    smtp_settings: SMTPServer, twilio_settings: FakeTwilio, kind: NoticeKind, ann: Member, status: int
) -> None:
    """Any 5xx but 503 may come after Twilio created the message: only "try later" is retried."""
    twilio_settings.script += [status]
    result = run_command(BriefingJob())
    assert result.code == ExitCode.FAILED
    assert f"briefing by sms to Ann Pilot is in doubt: Twilio {status} error" in result.err
    assert (
        result.err.strip()
        .splitlines()[-1]
        .startswith("❌ [briefing_job] Job briefing_job failed: 1 notice(s) in doubt")
    )
    assert [r["status"] for r in twilio_settings.requests] == [status] and rows("sms") == [("in_doubt", 1)]

    again = run_command(BriefingJob())
    assert again.code == ExitCode.FAILED and len(twilio_settings.requests) == 1
    assert "1 notice(s) in doubt" in again.err
    resent = run_command(BriefingJob(), "--send-in-doubt")
    assert resent.code == 0, resent.err
    assert len(twilio_settings.messages) == 1 and rows("sms") == [("sent", 2)]


def test_twilio_errors_that_last_fail_the_notice_and_the_next_run_sends_it(
    smtp_settings: SMTPServer, twilio_settings: FakeTwilio, kind: NoticeKind, ann: Member
) -> None:
    twilio_settings.script += [503] * 4
    result = run_command(BriefingJob())
    assert result.code == ExitCode.FAILED
    assert (
        "❌ [briefing_job] Could not send briefing by sms to Ann Pilot: Twilio 503 error 20503" in result.err
    )
    assert "(gave up after 4 attempts)" in result.err
    assert rows("sms") == [("failed", 4)] and not twilio_settings.messages
    assert len(smtp_settings.messages) == 1  # the email went

    retry = run_command(BriefingJob())
    assert retry.code == 0 and "📧 sent 1, 1 already sent" in retry.out
    assert len(twilio_settings.messages) == 1 and len(smtp_settings.messages) == 1
    assert rows("sms") == [("sent", 5)]


@pytest.mark.parametrize(
    ("code", "reason"),
    [(21211, "invalid number"), (21610, "unsubscribed (STOP)"), (21614, "not a mobile number")],
)
def test_a_refused_number_is_not_retried_and_the_member_is_flagged(
    smtp_settings: SMTPServer,
    twilio_settings: FakeTwilio,
    kind: NoticeKind,
    ann: Member,
    code: int,
    reason: str,
) -> None:
    twilio_settings.refuse_numbers[ANN_PHONE] = code
    result = run_command(BriefingJob())
    assert result.code == ExitCode.FAILED
    assert len(twilio_settings.requests) == 1 and rows("sms") == [("failed", 1)]
    ann.refresh_from_db()
    assert ann.sms_blocked_at is not None and ann.sms_blocked_reason == f"Twilio {code}: {reason}"
    assert f"Ann Pilot's phone number was refused (Twilio {code}: {reason})" in result.out

    # No SMS to that number again, and no failure for it; a new number lifts the block.
    assert run_command(BriefingJob()).code == 0
    assert len(twilio_settings.requests) == 1
    ann.phone = "+15405550199"
    ann.save()
    assert ann.sms_blocked_at is None and ann.sms_blocked_reason == ""
    assert run_command(BriefingJob()).code == 0
    assert [m["To"] for m in twilio_settings.messages] == ["+15405550199"]


def test_bad_twilio_credentials_are_permanent_and_block_no_one(
    settings: Any, smtp_settings: SMTPServer, twilio_settings: FakeTwilio, kind: NoticeKind, ann: Member
) -> None:
    settings.TWILIO_AUTH_TOKEN = "wrong"
    result = run_command(BriefingJob())
    assert result.code == ExitCode.FAILED and "Twilio 401 error 20003: " in result.err
    assert len(twilio_settings.requests) == 1
    ann.refresh_from_db()
    assert ann.sms_blocked_at is None


def test_twilio_unreachable_is_temporary_and_retried(
    settings: Any, smtp_settings: SMTPServer, twilio_settings: FakeTwilio, kind: NoticeKind, ann: Member
) -> None:
    settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{free_port()}"
    result = run_command(BriefingJob())
    assert result.code == ExitCode.FAILED
    assert "Twilio unreachable" in result.err and "(gave up after 4 attempts)" in result.err
    assert rows("sms") == [("failed", 4)]


# --- Email failures ------------------------------------------------------------------------
def test_an_smtp_451_then_250_is_retried_without_a_duplicate(
    smtp_settings: SMTPServer, fast_retries: None, ann: Member
) -> None:
    smtp_settings.refuse.append(451)
    result = run_command(BriefingJob())
    assert result.code == 0, result.err
    assert len(smtp_settings.messages) == 1 and rows("email") == [("sent", 2)]
    assert "email to Ann Pilot failed (SMTP 451: Try again later); retrying in" in result.out
    assert smtp_settings.messages[0]["Message-ID"] == Delivery.objects.get(channel="email").message_id


def test_an_smtp_5xx_is_permanent_and_not_retried(
    smtp_settings: SMTPServer, fast_retries: None, ann: Member
) -> None:
    smtp_settings.refuse.append(554)
    result = run_command(BriefingJob())
    assert result.code == ExitCode.FAILED and "retrying" not in result.out
    assert rows("email") == [("failed", 1)] and not smtp_settings.messages


def test_an_address_in_an_error_is_masked_in_the_log_and_on_the_ledger(
    smtp_settings: SMTPServer, fast_retries: None, ann: Member
) -> None:
    smtp_settings.reject_recipients.add(ann.email)
    result = run_command(BriefingJob())
    assert result.code == ExitCode.FAILED
    masked = f"{ann.email[0]}***@{ann.email.partition('@')[2]}"
    assert f"SMTP 550 for {masked}: 5.1.1 No such user here" in result.err
    assert Delivery.objects.get(channel="email").error == f"SMTP 550 for {masked}: 5.1.1 No such user here"
    assert ann.email not in result.out + result.err


def test_an_smtp_server_that_refuses_connections_is_retried_then_failed(
    settings: Any, smtp_settings: SMTPServer, fast_retries: None, ann: Member
) -> None:
    settings.EMAIL_PORT = free_port()
    result = run_command(BriefingJob())
    assert result.code == ExitCode.FAILED and "(gave up after 4 attempts)" in result.err
    assert rows("email") == [("failed", 4)]


def test_retries_stay_inside_the_jobs_deadline(
    settings: Any, smtp_settings: SMTPServer, twilio_settings: FakeTwilio, kind: NoticeKind, ann: Member
) -> None:
    # A 4-second job keeps one second for itself: a back-off of 5 s can't fit, 1 s can.
    settings.NOTIFY_RETRY_BASE_SECONDS = settings.NOTIFY_RETRY_MAX_SECONDS = 10.0
    twilio_settings.script += [503]
    started = time.monotonic()
    result = run_command(HurriedBriefingJob())
    assert time.monotonic() - started < 3
    assert result.code == ExitCode.FAILED
    assert "(no time left to retry before the deadline)" in result.err
    assert rows("sms") == [("failed", 1)]

    settings.NOTIFY_RETRY_BASE_SECONDS = settings.NOTIFY_RETRY_MAX_SECONDS = 0.5
    twilio_settings.script += [503]
    result = run_command(HurriedBriefingJob())
    assert result.code == 0 and rows("sms") == [("sent", 3)]


# --- Slack ---------------------------------------------------------------------------------
@pytest.mark.parametrize("statuses", [[429], [503], [429, 503]])
def test_slack_rate_limits_and_unavailability_are_retried(
    smtp_settings: SMTPServer, slack_settings: FakeSlack, ann: Member, statuses: list[int]
) -> None:
    slack_settings.script += statuses
    result = run_command(BriefingJob())
    assert result.code == 0, result.err
    assert slack_settings.posts == ["1 members briefed"] and rows("slack") == [("sent", len(statuses) + 1)]


@pytest.mark.parametrize(
    ("status", "body"), [(404, "no_service"), (410, "channel_is_archived"), (403, "invalid_token")]
)
def test_a_removed_webhook_is_permanent(
    smtp_settings: SMTPServer, slack_settings: FakeSlack, ann: Member, status: int, body: str
) -> None:
    slack_settings.script.append(status)
    result = run_command(BriefingJob())
    assert result.code == ExitCode.FAILED
    assert (
        f"Could not send briefing by slack to the club's Slack channel: Slack {status}: {body}" in result.err
    )
    assert len(slack_settings.requests) == 1 and rows("slack") == [("failed", 1)]


def test_a_slack_server_error_leaves_the_post_in_doubt(
    smtp_settings: SMTPServer, slack_settings: FakeSlack, ann: Member
) -> None:
    slack_settings.script.append(500)
    result = run_command(BriefingJob())
    assert result.code == ExitCode.FAILED and "1 notice(s) in doubt" in result.err
    assert len(slack_settings.requests) == 1 and rows("slack") == [("in_doubt", 1)]


def test_slack_errors_that_last_fail_and_the_webhook_path_stays_secret(
    settings: Any, smtp_settings: SMTPServer, slack_settings: FakeSlack, ann: Member
) -> None:
    slack_settings.script += [503] * 4
    result = run_command(BriefingJob())
    assert result.code == ExitCode.FAILED and "(gave up after 4 attempts)" in result.err
    settings.SLACK_WEBHOOK_URL = f"http://127.0.0.1:{free_port()}/services/T0/B0/secret"
    result = run_command(BriefingJob())
    assert "Slack unreachable (ConnectionError)" in result.err and "secret" not in result.out + result.err
    assert Delivery.objects.get(channel="slack", kind="briefing").error.startswith("Slack unreachable")


def test_without_a_webhook_nothing_is_posted(smtp_settings: SMTPServer, ann: Member) -> None:
    result = run_command(BriefingJob())
    assert result.code == 0 and "📧 sent 1" in result.out
    assert not Delivery.objects.filter(channel="slack").exists()


def test_a_messaging_service_is_the_sender_when_set(
    settings: Any, smtp_settings: SMTPServer, twilio_settings: FakeTwilio, kind: NoticeKind, ann: Member
) -> None:
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "1" * 32
    assert run_command(BriefingJob()).code == 0
    [message] = twilio_settings.messages
    assert (message["MessagingServiceSid"], message["From"]) == ("MG" + "1" * 32, "")
