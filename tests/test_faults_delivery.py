"""Delivery faults (make faults): real manage.py processes on the real PostgreSQL server, and
loopback stand-ins that speak SMTP, Twilio's API and Slack's webhook.

A provider that took a message and whose answer never came leaves the notice *in doubt*: it is
never sent again by itself, the run exits 1 and says so, and only an operator's
``--send-in-doubt`` sends it again. Sends are bounded as a whole (a server that drips its answer
can't hold one past its deadline, nor a stop past the grace and that deadline), sends are
fenced by the lease, claims compare-and-swap, and a failing run's alert honours SIGTERM.

The club is the demo club (scale 1), every member opted in to SMS with a number of their own.
"""

from __future__ import annotations

import datetime
import re
import signal
import time
import zoneinfo
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from testsupport.databases import ScratchDatabase, manage_env, run_manage
from testsupport.notifications import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeSlack, FakeTwilio
from testsupport.processes import ManageProcess
from testsupport.smtp import SMTPServer
from utils.exitcodes import ExitCode

pytestmark = [pytest.mark.faults, pytest.mark.processes, pytest.mark.postgres]

LEASE = 3
TABLES = ("notifications_delivery", "notifications_notification", "utils_cronjobrun", "utils_cronjoblock")
IN_DOUBT_LINE = re.compile(r"failed: (\d+) notice\(s\) in doubt")
AGING, REPORT, PREOP, DEFERRED = (
    "notify_aging_logsheets",
    "report_duty_delinquents",
    "send_duty_preop_emails",
    "send_deferred_notices",
)


@pytest.fixture(scope="module")
def club() -> Iterator[ScratchDatabase]:
    database = ScratchDatabase("postgres").create()
    seeded = run_manage("seed_demo", "--scale", "1", env=manage_env(database.url))
    assert seeded.returncode == 0, seeded.stderr
    database.query(
        "UPDATE members_member SET sms_opt_in = TRUE, timezone = '', "
        "phone = '+1540555' || lpad(CAST(id AS TEXT), 4, '0')"
    )
    yield database
    database.drop()


@pytest.fixture
def db(club: ScratchDatabase) -> ScratchDatabase:
    club.empty(TABLES)
    return club


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    server = FakeTwilio().start()
    yield server
    server.stop()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    server = FakeSlack().start()
    yield server
    server.stop()


def env(db: ScratchDatabase, smtp: SMTPServer, media: Path, **extra: str) -> dict[str, str]:
    """A job pod's environment: mail on loopback, no quiet hours, quick retries."""
    values = {
        "EMAIL_URL": smtp.url,
        "CRONJOB_LEASE_SECONDS": str(LEASE),
        "DATABASE_LOCK_TIMEOUT": "2s",  # shorter than the lease, as the settings demand
        "MEDIA_ROOT": str(media),
        "SMS_QUIET_HOURS": "",
        "NOTIFY_RETRY_BASE_SECONDS": "0.05",
        "NOTIFY_RETRY_MAX_SECONDS": "0.1",
    }
    return manage_env(db.url, **{**values, **extra})


def twilio_env(twilio: FakeTwilio) -> dict[str, str]:
    return {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": twilio.url,
    }


def ledger(db: ScratchDatabase, channel: str | None = None) -> Counter[str]:
    rows = db.query("SELECT status, channel FROM notifications_delivery")
    return Counter(str(status) for status, on in rows if channel is None or on == channel)


def in_doubt_reported(stderr: str) -> int:
    """How many notices the run's closing line says are in doubt (0 when it says nothing of them)."""
    lines = stderr.strip().splitlines()
    found = IN_DOUBT_LINE.search(lines[-1]) if lines else None
    return int(found.group(1)) if found else 0


def once_each(addresses: list[str]) -> None:
    counts = Counter(addresses)
    assert set(counts.values()) == {1}, counts


def started(process: ManageProcess, processes: list[ManageProcess]) -> ManageProcess:
    processes.append(process)
    return process


# --- A reply lost after the provider took the message (issue 13, the first fault) -------------
def test_an_email_the_server_took_but_never_answered_is_in_doubt_and_not_sent_twice(
    db: ScratchDatabase, smtp: SMTPServer, tmp_path: Path
) -> None:
    smtp.stall_data_after, smtp.stall_count, smtp.stall_seconds = 0, 1, 3.5  # past EMAIL_TIMEOUT
    environment = env(db, smtp, tmp_path, EMAIL_TIMEOUT="2")
    first = run_manage(AGING, env=environment)
    assert first.returncode == ExitCode.FAILED, first.stdout + first.stderr
    assert in_doubt_reported(first.stderr) == 1
    assert len(smtp.messages) == 2
    once_each(smtp.recipients())
    assert ledger(db, "email") == {"sent": 1, "in_doubt": 1}

    again = run_manage(AGING, env=environment)  # the Job's retried pod, or a rerun that day
    assert again.returncode == ExitCode.FAILED and in_doubt_reported(again.stderr) == 1
    assert len(smtp.messages) == 2

    [(doubted,)] = db.query("SELECT message_id FROM notifications_delivery WHERE status = 'in_doubt'")
    resent = run_manage(AGING, "--send-in-doubt", env=environment)  # the operator's decision
    assert resent.returncode == 0, resent.stderr
    assert "📧 sent 1, 1 already sent" in resent.stdout
    assert [m["Message-ID"] for m in smtp.messages].count(doubted) == 2  # the same message again
    assert ledger(db, "email") == {"sent": 2}


def test_an_sms_twilio_took_but_never_answered_is_in_doubt_and_not_sent_twice(
    db: ScratchDatabase, smtp: SMTPServer, twilio: FakeTwilio, tmp_path: Path
) -> None:
    twilio.stall(1, seconds=2.5)  # past CHANNEL_TIMEOUT
    environment = env(db, smtp, tmp_path, CHANNEL_TIMEOUT="1", **twilio_env(twilio))
    first = run_manage(PREOP, env=environment)
    assert first.returncode == ExitCode.FAILED, first.stdout + first.stderr
    assert in_doubt_reported(first.stderr) == 1
    texted = [m["To"] for m in twilio.messages]
    assert len(texted) == len(smtp.messages) >= 2  # every crew member texted, one of them in doubt
    once_each(texted)
    assert ledger(db, "sms") == {"sent": len(texted) - 1, "in_doubt": 1}

    again = run_manage(PREOP, env=environment)
    assert again.returncode == ExitCode.FAILED and in_doubt_reported(again.stderr) == 1
    once_each([m["To"] for m in twilio.messages])


def test_a_slack_post_whose_answer_was_lost_is_in_doubt_and_posted_once(
    db: ScratchDatabase, smtp: SMTPServer, slack: FakeSlack, tmp_path: Path
) -> None:
    slack.stall(1, seconds=2.5)
    environment = env(db, smtp, tmp_path, CHANNEL_TIMEOUT="1", SLACK_WEBHOOK_URL=slack.webhook_url)
    first = run_manage(REPORT, env=environment)
    assert first.returncode == ExitCode.FAILED, first.stdout + first.stderr
    assert in_doubt_reported(first.stderr) == 1
    assert len(slack.posts) == 1
    assert ledger(db, "slack") == {"in_doubt": 1}
    once_each(smtp.recipients())


# --- A pod killed while the provider had the message ------------------------------------------
def test_a_pod_killed_waiting_for_the_reply_to_an_accepted_email_leaves_exactly_that_one_in_doubt(
    db: ScratchDatabase, smtp: SMTPServer, tmp_path: Path, processes: list[ManageProcess]
) -> None:
    """Killed after the body but before the server's reply, a sender can't know whether the
    message went out. The next run (it holds the job's lock, so the sender is gone) leaves that
    one in doubt, sends the rest and exits 1; --send-in-doubt sends it with its Message-ID."""
    smtp.stall_data_after, smtp.stall_count = 3, 1
    first = started(ManageProcess(REPORT, env=env(db, smtp, tmp_path)), processes)
    assert smtp.holding.wait(30), first.stderr_lines
    taken = smtp.messages[3]  # queued by the server; its reply is held
    first.send(signal.SIGKILL)
    first.wait()
    smtp.release()
    time.sleep(LEASE + 0.5)

    second = run_manage(REPORT, env=env(db, smtp, tmp_path))
    assert second.returncode == ExitCode.FAILED, second.stdout + second.stderr
    assert in_doubt_reported(second.stderr) == 1
    once_each(smtp.recipients())
    total = len(smtp.messages)
    assert ledger(db) == {"sent": total - 1, "in_doubt": 1}
    [(doubted,)] = db.query("SELECT message_id FROM notifications_delivery WHERE status = 'in_doubt'")
    assert doubted == taken["Message-ID"]

    resent = run_manage(REPORT, "--send-in-doubt", env=env(db, smtp, tmp_path))
    assert resent.returncode == 0, resent.stderr
    assert [m["Message-ID"] for m in smtp.messages].count(doubted) == 2
    assert ledger(db) == {"sent": total}


# --- A deadline on the whole conversation ---------------------------------------------------
def test_an_smtp_reply_dripped_byte_by_byte_cannot_hold_a_stop_past_the_grace_and_the_send_deadline(
    db: ScratchDatabase, smtp: SMTPServer, tmp_path: Path, processes: list[ManageProcess]
) -> None:
    smtp.stall_data_after, smtp.stall_count, smtp.drip_seconds = 0, 1, 0.5  # ~16 s for the reply
    grace, deadline = 1.0, 3
    environment = env(db, smtp, tmp_path, EMAIL_TIMEOUT=str(deadline), CRONJOB_STOP_GRACE_SECONDS=str(grace))
    job = started(ManageProcess(AGING, env=environment), processes)
    assert smtp.holding.wait(30), job.stderr_lines
    job.send(signal.SIGTERM)
    stopped_at = time.monotonic()
    assert job.wait() == ExitCode.SIGTERM
    assert time.monotonic() - stopped_at < grace + deadline + 1.5
    assert ledger(db) == {"in_doubt": 1}  # the body went out: in doubt, and nothing after the stop
    assert len(smtp.messages) == 1


def test_a_twilio_answer_dripped_byte_by_byte_is_cut_at_the_send_deadline(
    db: ScratchDatabase, smtp: SMTPServer, twilio: FakeTwilio, tmp_path: Path, processes: list[ManageProcess]
) -> None:
    twilio.drip_seconds = 0.05  # every byte of every answer: ~40 s for one
    grace, deadline = 1.0, 2
    environment = env(
        db, smtp, tmp_path, CHANNEL_TIMEOUT=str(deadline), CRONJOB_STOP_GRACE_SECONDS=str(grace),
        **twilio_env(twilio),
    )  # fmt: skip
    job = started(ManageProcess(PREOP, env=environment), processes)
    assert twilio.stalled.wait(30), job.stderr_lines
    job.send(signal.SIGTERM)
    stopped_at = time.monotonic()
    assert job.wait() == ExitCode.SIGTERM
    assert time.monotonic() - stopped_at < grace + deadline + 1.5
    assert ledger(db, "sms") == {"in_doubt": 1}
    assert len(twilio.messages) == 1


# --- The lease fences the send ----------------------------------------------------------------
def test_no_message_is_handed_over_after_the_lease_was_lost(
    db: ScratchDatabase, smtp: SMTPServer, tmp_path: Path, processes: list[ManageProcess]
) -> None:
    smtp.hold_after = 2  # the third message waits at MAIL FROM: not handed over yet
    job = started(ManageProcess(REPORT, env=env(db, smtp, tmp_path)), processes)
    assert smtp.holding.wait(30), job.stderr_lines
    db.query(  # another pod took the job over (its lease ran out while this one stalled)
        "UPDATE utils_cronjoblock SET token = 'the-next-holder', locked_by = 'another-pod', "
        "expires_at = now() + interval '1 hour'"
    )
    time.sleep(LEASE / 3 + 1)  # the heartbeat's next renewal finds the lease gone
    smtp.release()
    assert job.wait() == ExitCode.TEMPFAIL
    assert len(smtp.messages) == 2
    assert ledger(db) == {"sent": 2, "pending": 1}  # claimed, never handed over: the next holder sends it
    [(handed_over,)] = db.query("SELECT handed_over_at FROM notifications_delivery WHERE status = 'pending'")
    assert handed_over is None


# --- A failing run's alert stays inside the job's limits --------------------------------------
def test_the_alert_of_a_failed_run_stops_on_sigterm_within_one_send_deadline(
    db: ScratchDatabase, smtp: SMTPServer, tmp_path: Path, processes: list[ManageProcess]
) -> None:
    smtp.hold_after = 0  # the alert's email waits at MAIL FROM, attempt after attempt
    deadline = 3
    environment = env(
        db, smtp, tmp_path, EMAIL_TIMEOUT=str(deadline), ADMIN_EMAILS="admin@example.org",
        CRONJOB_ALERT_AFTER_FAILURES="1", NOTIFY_RETRY_BASE_SECONDS="4", NOTIFY_RETRY_MAX_SECONDS="4",
    )  # fmt: skip
    job = started(ManageProcess("test_cronjob", "--units=1", "--fail-at=1", env=environment), processes)
    assert smtp.holding.wait(30), job.stderr_lines
    job.send(signal.SIGTERM)
    stopped_at = time.monotonic()
    assert job.wait() == ExitCode.FAILED  # the run's own outcome, recorded before the alert
    assert time.monotonic() - stopped_at < deadline + 1.5
    assert any("alert" in line and "SIGTERM" in line for line in job.stdout_lines), job.stdout_lines
    assert smtp.messages == []


# --- Claims compare-and-swap ------------------------------------------------------------------
def quiet_now(zone: str = "America/New_York") -> str:
    """SMS_QUIET_HOURS that cover the present moment in the club's zone."""
    now = datetime.datetime.now(zoneinfo.ZoneInfo(zone))
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(hours=2)
    return f"{start:%H:%M}-{end:%H:%M}"


DIED_20_MINUTES_AGO = f"""
import datetime
from django.utils import timezone
from notifications.models import Delivery
from utils.models import CronJobRun
now = timezone.now()
dead = CronJobRun.objects.create(
    job_name="{DEFERRED}", occurrence="manual-dead", pod="dead-pod", status="failed", error="abandoned",
    started_at=now - datetime.timedelta(minutes=25),
)
Delivery.objects.filter(channel="sms").update(
    status="pending", run=dead, attempts=0, not_before=now - datetime.timedelta(hours=1),
    last_attempt_at=now - datetime.timedelta(minutes=20),
)
"""


def test_send_deferred_notices_and_a_rerun_of_the_owning_job_never_both_send_one_sms(
    db: ScratchDatabase, smtp: SMTPServer, twilio: FakeTwilio, tmp_path: Path, processes: list[ManageProcess]
) -> None:
    """A run of send_deferred_notices died 20 minutes ago holding the briefing's SMS (claimed,
    none handed over). Its next run reads them all, and while it works through its list, a rerun
    of the briefing takes over the ones that are stale. Each SMS must go out once."""
    sms = env(db, smtp, tmp_path, **twilio_env(twilio))
    night = run_manage(PREOP, env={**sms, "SMS_QUIET_HOURS": quiet_now()})
    assert night.returncode == 0, night.stderr
    operations = re.search(r"Operations on (\d{4}-\d\d-\d\d)", night.stdout)
    assert operations, night.stdout
    died = run_manage("shell", "--no-imports", "-c", DIED_20_MINUTES_AGO, env=sms)
    assert died.returncode == 0, died.stderr
    order = db.query(
        "SELECT m.phone FROM notifications_delivery d JOIN members_member m "
        "ON d.recipient = 'member:' || CAST(m.id AS TEXT) WHERE d.channel = 'sms' ORDER BY d.not_before, d.id"
    )
    first, second = str(order[0][0]), str(order[1][0])
    twilio.hold_number(first)
    twilio.hold_number(second)

    deferred = started(ManageProcess(DEFERRED, env=sms), processes)
    assert twilio.wait_held(first, 1), deferred.stderr_lines  # it works on its list's first SMS
    rerun = started(ManageProcess(PREOP, "--date", operations.group(1), env=sms), processes)
    assert twilio.wait_held(second, 1), rerun.stderr_lines  # the rerun took the second over
    twilio.release_number(first)
    # The deferred run goes on down its list: to the second SMS too, if its claim lets it.
    deadline = time.monotonic() + 20
    while deferred.proc.poll() is None and twilio.held_count(second) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    twilio.release_number(second)
    assert deferred.wait() in (0, ExitCode.FAILED) and rerun.wait() in (0, ExitCode.FAILED)
    texted = [m["To"] for m in twilio.messages]
    once_each(texted)
    assert len(texted) == len(order)
    assert ledger(db, "sms") == {"sent": len(order)}


def test_a_message_not_yet_handed_over_at_sigterm_is_not_sent_and_the_next_run_sends_it(
    db: ScratchDatabase, smtp: SMTPServer, tmp_path: Path, processes: list[ManageProcess]
) -> None:
    smtp.hold_after = 5  # the sixth message waits at MAIL FROM: not handed over yet
    job = started(ManageProcess(REPORT, env=env(db, smtp, tmp_path)), processes)
    assert smtp.holding.wait(30), job.stderr_lines
    job.send(signal.SIGTERM)
    time.sleep(0.3)
    smtp.release()
    assert job.wait() == ExitCode.SIGTERM
    assert len(smtp.messages) == 5
    assert ledger(db) == {"sent": 5, "pending": 1}  # claimed; its message never went out

    rerun = run_manage(REPORT, env=env(db, smtp, tmp_path))
    assert rerun.returncode == 0, rerun.stderr
    once_each(smtp.recipients())
    assert ledger(db) == {"sent": len(smtp.messages)}
