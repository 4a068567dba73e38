"""Exactly once across a retried pod: real manage.py processes, a real SMTP server and the Twilio
stand-in on loopback, on SQLite and PostgreSQL.

A member who opted in to SMS gets the duty briefing and the currency reminder by text and by
email. The first pod is killed in the middle of the run (while it waits to retry an SMS), or
fails after sending part of it; the pod that Kubernetes starts next sends only what is missing.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from testsupport.databases import ScratchDatabase, manage_env, run_manage
from testsupport.notifications import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from testsupport.processes import ManageProcess
from testsupport.smtp import SMTPServer
from utils.exitcodes import ExitCode

pytestmark = pytest.mark.processes

LEASE = 3
OPS_DAY = "2026-11-28"
ANN, BOB = "+15405550101", "+15405550102"
SEED = f"""
import datetime
from duty_roster.models import DutyAssignment
from logsheet.models import Airfield, Flight, Logsheet
from members.models import Member
from notifications.models import Delivery
for model in (Delivery, DutyAssignment, Flight, Logsheet, Airfield, Member):
    model.objects.all().delete()
from duty_roster.tests.factories import DutyAssignmentFactory
from logsheet.tests.factories import AirfieldFactory, FlightFactory, LogsheetFactory
from members.tests.factories import MemberFactory
from utils.clubtime import club_today
ann = MemberFactory(username="ann", first_name="Ann", last_name="Alpha", phone="{ANN}", sms_opt_in=True)
bob = MemberFactory(username="bob", first_name="Bob", last_name="Bravo", phone="{BOB}", sms_opt_in=True)
field = AirfieldFactory(identifier="KFRR", name="Front Royal")
day = datetime.date.fromisoformat("{OPS_DAY}")
DutyAssignmentFactory(date=day, location=field, duty_officer=ann, tow_pilot=bob)
lapsed = club_today() - datetime.timedelta(days=100)
for n, member in enumerate((ann, bob)):
    sheet = LogsheetFactory(log_date=lapsed, airfield=AirfieldFactory(identifier=f"K{{n}}"), created_by=None)
    FlightFactory(pilot=member, logsheet=sheet, glider=None)
"""


@pytest.fixture(autouse=True)
def clean_ledger(scratch_db: ScratchDatabase) -> Iterator[None]:
    """The ledger refers to run rows, which the next test's scratch_db empties by plain SQL."""
    yield
    scratch_db.query("DELETE FROM notifications_delivery")


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    server = FakeTwilio().start()
    yield server
    server.stop()


def pod_env(db: ScratchDatabase, smtp: SMTPServer, twilio: FakeTwilio, **extra: str) -> dict[str, str]:
    """A job pod's environment: mail and SMS on loopback; no quiet hours, whatever the hour."""
    env = {
        "CRONJOB_LEASE_SECONDS": str(LEASE),
        "DATABASE_LOCK_TIMEOUT": "2s",  # shorter than the lease, as the settings demand
        "EMAIL_URL": smtp.url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": twilio.url,
        "SMS_QUIET_HOURS": "",
        "NOTIFY_RETRY_BASE_SECONDS": "0.05",
        "NOTIFY_RETRY_MAX_SECONDS": "0.1",
    }
    return manage_env(db.url, **{**env, **extra})


def seed(db: ScratchDatabase) -> None:
    result = run_manage("shell", "--no-imports", "-c", SEED, env=manage_env(db.url))
    assert result.returncode == 0, result.stderr[-2000:]


def ledger(db: ScratchDatabase, job: str) -> dict[tuple[object, object], tuple[object, object]]:
    rows = db.query(
        "SELECT m.first_name, d.channel, d.status, d.attempts FROM notifications_delivery d "
        "JOIN members_member m ON d.recipient = 'member:' || CAST(m.id AS VARCHAR(20)) WHERE d.job_name = %s",
        (job,),
    )
    return {(name, channel): (status, attempts) for name, channel, status, attempts in rows}


def once_each(smtp: SMTPServer, twilio: FakeTwilio) -> None:
    assert sorted(smtp.recipients()) == ["ann@example.org", "bob@example.org"]
    assert Counter(m["To"] for m in twilio.messages) == {ANN: 1, BOB: 1}


def test_a_briefing_pod_killed_while_it_waits_to_retry_is_finished_by_the_next_pod(
    scratch_db: ScratchDatabase, processes: list[ManageProcess], smtp_server: SMTPServer, twilio: FakeTwilio
) -> None:
    seed(scratch_db)
    twilio.script_for[BOB] = [503]  # Bob's SMS: "try later" once; the pod waits 30 s to retry it
    slow = pod_env(
        scratch_db, smtp_server, twilio, NOTIFY_RETRY_BASE_SECONDS="60", NOTIFY_RETRY_MAX_SECONDS="60"
    )
    first = ManageProcess("send_duty_preop_emails", "--date", OPS_DAY, env=slow)
    processes.append(first)
    first.wait_for_line(r"sms to Bob Bravo failed \(Twilio 503 error 20503: .*\); retrying in")
    first.send(signal.SIGKILL)
    killed_at = time.monotonic()
    assert first.wait() == -signal.SIGKILL
    assert len(smtp_server.messages) == 2 and [m["To"] for m in twilio.messages] == [ANN]
    assert ledger(scratch_db, "send_duty_preop_emails")[("Bob", "sms")] == ("pending", 1)

    time.sleep(max(0.0, killed_at + LEASE + 0.3 - time.monotonic()))  # the dead pod's lease runs out
    second = run_manage(
        "send_duty_preop_emails", "--date", OPS_DAY, env=pod_env(scratch_db, smtp_server, twilio)
    )
    assert second.returncode == 0, second.stderr
    assert "📧 sent 1, 3 already sent" in second.stdout

    once_each(smtp_server, twilio)
    assert sorted(smtp_server.subjects()) == [
        "Duty briefing for Saturday 28 November 2026: Duty officer",
        "Duty briefing for Saturday 28 November 2026: Tow pilot",
    ]
    assert {m["To"]: m["Body"] for m in twilio.messages} == {
        ANN: "Skyline Soaring Club: Sat 28 Nov you are Duty officer at KFRR. Full briefing by email.",
        BOB: "Skyline Soaring Club: Sat 28 Nov you are Tow pilot at KFRR. Full briefing by email.",
    }
    assert ledger(scratch_db, "send_duty_preop_emails") == {
        ("Ann", "email"): ("sent", 1),
        ("Ann", "sms"): ("sent", 1),
        ("Bob", "email"): ("sent", 1),
        ("Bob", "sms"): ("sent", 2),  # the 503, then the retried pod's attempt
    }
    third = run_manage(
        "send_duty_preop_emails", "--date", OPS_DAY, env=pod_env(scratch_db, smtp_server, twilio)
    )
    assert "📧 sent 0, 4 already sent" in third.stdout
    once_each(smtp_server, twilio)


def test_a_currency_pod_that_fails_after_sending_part_is_retried_without_duplicates(
    scratch_db: ScratchDatabase, smtp_server: SMTPServer, twilio: FakeTwilio
) -> None:
    seed(scratch_db)
    smtp_server.refuse += [451, 451]  # the first email: two temporary refusals, all its attempts
    env = pod_env(scratch_db, smtp_server, twilio, NOTIFY_RETRY_ATTEMPTS="2")
    first = run_manage("notify_pilot_currency", env=env)
    assert first.returncode == ExitCode.FAILED
    assert (
        "Could not send pilot_currency to Ann Alpha: SMTP 451: Try again later (gave up after 2 attempts)"
        in (first.stderr)
    )
    assert "📧 sent 3, 1 failed" in first.stdout

    retried = run_manage("notify_pilot_currency", env=env)  # Kubernetes' next pod (backoffLimit)
    assert retried.returncode == 0, retried.stderr
    assert "📧 sent 1, 3 already sent" in retried.stdout
    once_each(smtp_server, twilio)
    assert ledger(scratch_db, "notify_pilot_currency") == {
        ("Ann", "email"): ("sent", 3),
        ("Ann", "sms"): ("sent", 1),
        ("Bob", "email"): ("sent", 1),
        ("Bob", "sms"): ("sent", 1),
    }
