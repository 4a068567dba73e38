"""Alerts without Prometheus: real failing runs, a real SMTP server, a loopback Slack webhook."""

from __future__ import annotations

import datetime
import json
import time
from typing import Any

import pytest
import time_machine

from notifications.models import Delivery
from operations import alerts
from testsupport.commands import CommandResult, run_command
from testsupport.http import HTTPRecorder
from testsupport.smtp import SMTPServer
from utils.exitcodes import ExitCode
from utils.models import CronJobRun

pytestmark = pytest.mark.django_db
ADMINS = [("Ops", "ops@example.org"), ("Tech", "tech@example.org")]
SUBJECT = "[Skyline Soaring Club] test_cronjob failed 2 times in a row"


@pytest.fixture
def admins(settings: Any) -> list[str]:
    settings.ADMINS = ADMINS
    return [address for _, address in ADMINS]


def fail() -> CommandResult:
    return run_command("test_cronjob", "--units=2", "--unit-seconds=0", "--fail-at=2")


def succeed() -> CommandResult:
    return run_command("test_cronjob", "--units=1", "--unit-seconds=0")


def test_two_failures_in_a_row_email_the_admins_once_per_streak(
    smtp_settings: SMTPServer, admins: list[str]
) -> None:
    first = fail()
    assert first.code == ExitCode.FAILED and smtp_settings.messages == []
    second = fail()
    assert second.code == ExitCode.FAILED  # the alert does not change the job's outcome
    assert smtp_settings.recipients() == sorted(admins)
    assert smtp_settings.subjects() == [SUBJECT, SUBJECT]
    body = smtp_settings.messages[0].get_body(("plain",)).get_content()
    assert "RuntimeError: unit 2 failed as requested by --fail-at" in body
    assert "http://localhost:8000/cron/" in body
    assert (
        "📧 [test_cronjob] Sent '[Skyline Soaring Club] test_cronjob failed 2 times in a row'" in second.out
    )
    # The failed run's own record is untouched by the alert's counts.
    assert CronJobRun.objects.latest("pk").summary == {"processed": 1}
    assert second.err.strip().endswith("(processed=1) (exit 1)")
    # A third failure is the same streak: nothing new.
    assert fail().code == ExitCode.FAILED
    assert len(smtp_settings.messages) == 2
    first_failure = CronJobRun.objects.earliest("pk")
    assert set(Delivery.objects.values_list("kind", "status")) == {
        (f"failure_streak:{first_failure.pk}", "sent")
    }
    # A success ends the streak; the next streak is a new alert.
    assert succeed().code == 0
    fail()
    assert len(smtp_settings.messages) == 2
    fail()
    assert len(smtp_settings.messages) == 4


def test_a_timed_out_run_counts_as_a_failure(
    smtp_settings: SMTPServer, admins: list[str], monkeypatch: Any
) -> None:
    from utils.management.commands.test_cronjob import Command

    monkeypatch.setattr(Command, "max_execution_time", datetime.timedelta(seconds=0.3))
    fail()
    timed_out = run_command("test_cronjob", "--units=5", "--unit-seconds=0.2")
    assert timed_out.code == ExitCode.FAILED and "timed out" in timed_out.err
    assert smtp_settings.subjects() == [SUBJECT, SUBJECT]


def test_an_alert_that_cannot_be_sent_never_changes_the_exit_code_and_is_retried(
    smtp_settings: SMTPServer, admins: list[str]
) -> None:
    smtp_settings.reject_recipients.add("ops@example.org")
    fail()
    second = fail()
    assert second.code == ExitCode.FAILED
    assert "RuntimeError: unit 2 failed" in second.err.splitlines()[-1]
    assert "1 alert(s) about test_cronjob failed 2 times in a row could not be sent" in second.out
    assert smtp_settings.recipients() == ["tech@example.org"]
    assert dict(Delivery.objects.values_list("recipient", "status")) == {
        "ops@example.org": "failed",
        "tech@example.org": "sent",
    }
    # The next failure of the same streak retries only the one that was not sent.
    smtp_settings.reject_recipients.clear()
    fail()
    assert smtp_settings.recipients() == ["ops@example.org", "tech@example.org"]


def test_a_crashing_alert_is_one_warning(admins: list[str], monkeypatch: Any) -> None:
    def broken(job: Any) -> None:
        raise ConnectionError("mail relay on fire")

    monkeypatch.setattr(alerts, "alert_after_failed_run", broken)
    result = fail()
    assert result.code == ExitCode.FAILED
    assert "Failure alert failed: ConnectionError: mail relay on fire" in result.out


def test_slack_gets_one_post_per_streak_when_configured(
    smtp_settings: SMTPServer, admins: list[str], http_recorder: HTTPRecorder, settings: Any
) -> None:
    settings.SLACK_WEBHOOK_URL = f"{http_recorder.url}/services/T000/B000/XXXX"
    fail()
    fail()
    fail()
    [post] = http_recorder.requests
    assert (post.method, post.path) == ("POST", "/services/T000/B000/XXXX")
    text = json.loads(post.body)["text"]
    assert text.startswith(":rotating_light: Skyline Soaring Club: test_cronjob failed 2 times in a row")
    assert Delivery.objects.get(channel="slack").status == "sent"
    assert len(smtp_settings.messages) == 2


def test_a_slack_that_answers_500_does_not_stop_the_email(
    smtp_settings: SMTPServer, admins: list[str], http_recorder: HTTPRecorder, settings: Any
) -> None:
    http_recorder.status = 500
    settings.SLACK_WEBHOOK_URL = f"{http_recorder.url}/hook"
    fail()
    assert fail().code == ExitCode.FAILED
    assert len(smtp_settings.messages) == 2
    slack = Delivery.objects.get(channel="slack")
    assert slack.status == "in_doubt" and "500" in slack.error  # a 5xx may come after Slack posted it


def test_without_admins_or_slack_the_run_says_so(smtp_settings: SMTPServer) -> None:
    fail()
    result = fail()
    assert (
        "No ADMIN_EMAILS or SLACK_WEBHOOK_URL: nobody to tell that test_cronjob failed 2 times" in result.out
    )
    assert smtp_settings.messages == []


def test_check_notify_reports_each_problem_once(
    smtp_settings: SMTPServer, admins: list[str], scheduled_demo: Any
) -> None:
    def check(moment: datetime.datetime) -> CommandResult:
        with time_machine.travel(moment, tick=False):
            return run_command("cron_status", "--check", "--notify", "test_cronjob")

    with time_machine.travel(datetime.datetime(2026, 11, 23, 9, 0, tzinfo=datetime.UTC)):
        succeed()
    late = datetime.datetime(2026, 11, 23, 10, 40, tzinfo=datetime.UTC)
    result = check(late)
    assert result.code == ExitCode.FAILED
    assert (
        smtp_settings.subjects()
        == ["[Skyline Soaring Club] test_cronjob is overdue: no run for its 2026-11-23 05:00 slot"] * 2
    )
    body = smtp_settings.messages[0].get_body(("plain",)).get_content()
    assert "Schedule: 0 * * * * (Etc/UTC)" in body and "Last run that counted: 2026-11-23 04:00" in body
    assert "📧 Sent" in result.out
    assert "to site admin o***@example.org" in result.out and "ops@example.org" not in result.out
    # Checked again a few minutes later: already told.
    again = check(late + datetime.timedelta(minutes=15))
    assert "ℹ️ Already told the admins: test_cronjob is overdue" in again.out
    assert len(smtp_settings.messages) == 2
    # The next missed slot is a new problem.
    check(late + datetime.timedelta(hours=1))
    assert len(smtp_settings.messages) == 4


def test_check_notify_and_the_failing_run_share_the_streaks_alert(
    smtp_settings: SMTPServer, admins: list[str]
) -> None:
    fail()
    fail()
    assert len(smtp_settings.messages) == 2
    result = run_command("cron_status", "--check", "--notify", "test_cronjob")
    assert result.code == ExitCode.FAILED
    assert "Already told the admins: test_cronjob failed 2 times in a row" in result.out
    assert len(smtp_settings.messages) == 2


def test_check_notify_tells_about_a_slow_job_once(
    smtp_settings: SMTPServer, admins: list[str], scheduled_demo: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(scheduled_demo, "max_execution_time", datetime.timedelta(seconds=1))
    run_command("test_cronjob", "--units=1", "--unit-seconds=0.85")
    run_command("cron_status", "--check", "--notify", "test_cronjob")
    run_command("cron_status", "--check", "--notify", "test_cronjob")
    subjects = [s for s in smtp_settings.subjects() if "slow" in s]
    assert (
        subjects
        == ["[Skyline Soaring Club] test_cronjob is slow: its last run took 0.9s of its 1s deadline"] * 2
    )


def test_the_alert_of_a_failed_run_keeps_to_its_own_deadline(
    smtp_settings: SMTPServer, admins: list[str], settings: Any, monkeypatch: Any
) -> None:
    """An SMTP server that keeps saying "try later" can't hold a failed run's end for long: the
    alert's back-offs stop in time for its deadline, and it says what became of it."""
    from operations import alert_limits

    monkeypatch.setattr(alert_limits, "ALERT_DEADLINE", datetime.timedelta(seconds=2))
    settings.NOTIFY_RETRY_ATTEMPTS = 50
    settings.NOTIFY_RETRY_BASE_SECONDS = settings.NOTIFY_RETRY_MAX_SECONDS = 0.4
    smtp_settings.refuse += [451] * 100
    fail()
    started = time.monotonic()
    result = fail()
    assert time.monotonic() - started < 2 + 1.5
    assert result.code == ExitCode.FAILED
    assert "2 alert(s) about test_cronjob failed 2 times in a row could not be sent" in result.out
    assert smtp_settings.messages == []
    errors = set(Delivery.objects.values_list("status", "error"))
    assert errors == {("failed", "SMTP 451: Try again later (no time left to retry before the deadline)")}
