"""notify_pilot_currency: one reminder per lapse of the recency rule, in the pilot's own time zone."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from logsheet.currency import due_reminders
from logsheet.management.commands.notify_pilot_currency import Command
from logsheet.models import Flight
from logsheet.tests.factories import AirfieldFactory, FlightFactory, LogsheetFactory
from members.models import Member
from members.tests.factories import MemberFactory
from notifications.models import Delivery
from testsupport.commands import CommandResult, run_command
from testsupport.notifications import FakeTwilio
from testsupport.smtp import SMTPServer
from utils.exitcodes import ExitCode

pytestmark = pytest.mark.django_db

JOB = "notify_pilot_currency"
# Friday 20 November 2026, 14:00 UTC: 09:00 in New York, 07:00 in Denver, 23:00 in Tokyo.
RUN_AT = datetime.datetime(2026, 11, 20, 14, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 11, 20)
DAY = datetime.timedelta(days=1)
_fields = itertools.count()


@pytest.fixture(autouse=True)
def pinned_time() -> Iterator[None]:
    with time_machine.travel(RUN_AT, tick=False):
        yield


def pilot(first: str, last: str = "Pilot", **fields: Any) -> Member:
    return MemberFactory(username=f"{first}.{last}".lower(), first_name=first, last_name=last, **fields)


def fly(member: Member, age: int | None = None, *, on: datetime.date | None = None, finalized: bool = True,
        **roles: Member) -> Flight:  # fmt: skip
    day = on or TODAY - datetime.timedelta(days=age or 0)
    sheet = LogsheetFactory(
        log_date=day,
        airfield=AirfieldFactory(identifier=f"F{next(_fields)}"),
        finalized=finalized,
        created_by=None,
    )
    return FlightFactory(logsheet=sheet, pilot=member, **roles)


def at(moment: datetime.datetime, *args: str) -> CommandResult:
    with time_machine.travel(moment, tick=False):
        return run_command(JOB, *args)


def reminded(now: datetime.datetime = RUN_AT, days: int = 90, warn_days: int = 14) -> list[tuple[str, str]]:
    return [
        (r.member.first_name, "lapsed" if r.lapsed else f"{r.days_left} days left")
        for r in due_reminders(now, days, warn_days)
    ]


def test_command_declares_its_schedule() -> None:
    assert (Command.job_name, Command.schedule, Command.resource_class) == (JOB, "0 14 * * *", "light")
    assert Command.max_execution_time == datetime.timedelta(minutes=10)
    assert Command.sends_notices


# --- The rule --------------------------------------------------------------------------------
def test_reminded_from_fourteen_days_before_the_lapse_and_after_it() -> None:
    for name, age in (("Early", 76), ("Warned", 77), ("Lastday", 90), ("Lapsed", 91), ("Longago", 400)):
        fly(pilot(name), age)
    assert reminded() == [
        ("Lapsed", "lapsed"),
        ("Lastday", "1 days left"),
        ("Longago", "lapsed"),
        ("Warned", "14 days left"),
    ]


def test_days_and_warn_days_move_the_window() -> None:
    fly(pilot("Thirty"), 30)
    fly(pilot("Twenty"), 20)
    assert reminded(days=30, warn_days=0) == []
    assert reminded(days=29, warn_days=0) == [("Thirty", "lapsed")]
    assert reminded(days=30, warn_days=10) == [("Thirty", "1 days left")]
    assert reminded(days=30, warn_days=11) == [("Thirty", "1 days left"), ("Twenty", "11 days left")]


def test_the_last_flight_as_pilot_on_a_finalized_logsheet_counts() -> None:
    ann = pilot("Ann")
    fly(ann, 100)
    fly(ann, 5, finalized=False)  # not finalized yet: doesn't count
    fly(pilot("Stu", membership_status="student"), 3, instructor=ann)  # instructing is not flying as pilot
    bob = pilot("Bob")
    fly(bob, 100)
    fly(bob, 10)  # flew again: current
    assert reminded() == [("Ann", "lapsed")]


def test_who_never_flew_inactive_members_and_students_are_left_out() -> None:
    pilot("Never")
    fly(pilot("Gone", membership_status="inactive"), 100)
    fly(pilot("Disabled", is_active=False), 100)
    fly(pilot("Stu", membership_status="student"), 100)
    fly(pilot("Fay", membership_status="family"), 100)
    assert reminded() == [("Fay", "lapsed")]


def test_today_is_the_pilots_own() -> None:
    # 03:00 UTC on the 21st: still the 20th in New York (22:00), already the 21st in Tokyo (12:00).
    now = datetime.datetime(2026, 11, 21, 3, tzinfo=datetime.UTC)
    flown = datetime.date(2026, 11, 21) - 77 * DAY
    fly(pilot("Ken", timezone="Asia/Tokyo"), on=flown)  # 77 days in Tokyo: 14 days left
    fly(pilot("Nia"), on=flown)  # the club's zone: 76 days, not yet
    fly(pilot("Hal", timezone="Pacific/Honolulu"), on=flown)  # 17:00 on the 20th: 76 days
    assert reminded(now) == [("Ken", "14 days left")]


# --- The reminder ----------------------------------------------------------------------------
def test_each_pilot_gets_one_email_and_an_sms_if_they_opted_in(
    smtp_settings: SMTPServer, twilio_settings: FakeTwilio
) -> None:
    fly(pilot("Ann", phone="+15405550101", sms_opt_in=True), 91)
    fly(pilot("Bob", phone="+15405550102"), 80)  # no opt-in: email only

    result = run_command(JOB)

    assert result.code == 0, result.err
    assert "📊 [notify_pilot_currency] 1 lapsed, 1 lapsing within 14 days" in result.out
    assert "Found 2 pilot(s) to remind of the 90-day recency rule · 📧 sent 3" in result.out
    subjects = dict(zip(smtp_settings.recipients(), smtp_settings.subjects(), strict=True))
    assert subjects == {
        "ann.pilot@example.org": "Your flying currency lapsed on Fri 20 Nov 2026",
        "bob.pilot@example.org": "Your flying currency lapses on Tue 1 Dec 2026",
    }
    bob_text = (
        next(m for m in smtp_settings.messages if "bob" in str(m["To"])).get_body(("plain",)).get_content()
    )
    assert "Your last flight as pilot in the club's logsheets was on Tue 1 Sep 2026" in bob_text
    assert "you are current through Mon 30 Nov 2026: 11 more days to fly and stay current" in bob_text
    assert twilio_settings.bodies_to("+15405550101") == [
        "Skyline Soaring Club: your flying currency lapsed (current through Thu 19 Nov): fly with an "
        "instructor before solo. Last flight 2026-08-21."
    ]
    assert len(twilio_settings.messages) == 1
    lapses = sorted(Delivery.objects.values_list("kind", "day", "channel").distinct())
    assert lapses == [
        ("pilot_currency", datetime.date(2026, 11, 20), "email"),
        ("pilot_currency", datetime.date(2026, 11, 20), "sms"),
        ("pilot_currency", datetime.date(2026, 12, 1), "email"),
    ]


def test_one_reminder_per_lapse_and_flying_again_starts_over(smtp_settings: SMTPServer) -> None:
    ann = pilot("Ann")
    fly(ann, 77)
    assert "📧 sent 1" in run_command(JOB).out
    for later in (1, 13, 14, 30, 200):  # the lapse itself, and long after it: nothing more
        result = at(RUN_AT + later * DAY)
        assert "📧 sent 0, 1 already sent" in result.out, later
    fly(ann, on=TODAY + 20 * DAY)  # she flew again on 10 December
    assert "📧 sent 0" in at(RUN_AT + 95 * DAY).out  # 75 days after that flight: current
    assert "📧 sent 1" in at(RUN_AT + 97 * DAY).out  # 77 days: a new lapse, a new reminder
    assert len(smtp_settings.messages) == 2


def test_a_pilot_in_their_quiet_hours_gets_the_sms_when_they_end(
    smtp_settings: SMTPServer, twilio_settings: FakeTwilio
) -> None:
    fly(pilot("Dee", phone="+15405550104", sms_opt_in=True, timezone="America/Denver"), 91)  # 07:00 there
    result = run_command(JOB)
    assert "Deferred the SMS to Dee Pilot until Fri 08:00 their time (quiet hours)" in result.out
    assert twilio_settings.messages == [] and len(smtp_settings.messages) == 1
    with time_machine.travel(RUN_AT + datetime.timedelta(hours=1, minutes=5), tick=False):
        assert run_command("send_deferred_notices").code == 0
    assert len(twilio_settings.messages) == 1


def test_a_pilot_without_email_is_warned_and_texted_if_they_opted_in(
    smtp_settings: SMTPServer, twilio_settings: FakeTwilio
) -> None:
    fly(pilot("Ann", email=""), 91)
    fly(pilot("Tex", email="", phone="+15405550105", sms_opt_in=True), 91)
    result = run_command(JOB)
    assert "⚠️ [notify_pilot_currency] Ann Pilot has no email address" in result.out
    assert "⚠️ [notify_pilot_currency] Tex Pilot has no email address; texted only" in result.out
    assert "no_email=2" in result.out and smtp_settings.messages == [] and len(twilio_settings.messages) == 1


def test_a_dry_run_writes_and_sends_nothing(smtp_settings: SMTPServer, twilio_settings: FakeTwilio) -> None:
    fly(pilot("Ann", phone="+15405550101", sms_opt_in=True), 91)
    result = run_command(JOB, "--dry-run")
    assert result.code == 0
    subject = "Your flying currency lapsed on Fri 20 Nov 2026"
    assert f"🔍 [notify_pilot_currency] Would send email '{subject}' to Ann Pilot" in result.out
    assert "🔍 [notify_pilot_currency] Would send sms pilot_currency (1 segment) to Ann Pilot" in result.out
    assert "📧 would send 2" in result.out
    assert not Delivery.objects.exists() and not smtp_settings.messages and not twilio_settings.requests


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--days", "0"), "argument --days: '0' must be at least 1"),
        (("--days", "x"), "argument --days: 'x' is not a whole number"),
        (("--days", "3661"), "--days must be at most 3660"),
        (("--warn-days", "-1"), "argument --warn-days: '-1' must be at least 0"),
        (("--warn-days", "90"), "--warn-days must be less than --days"),
        (("--days", "10", "--warn-days", "14"), "--warn-days must be less than --days"),
        (("--member", "nobody"), "--member: no member with username 'nobody'"),
    ],
)
def test_bad_options_exit_2_with_one_line_and_change_nothing(
    smtp_settings: SMTPServer, arguments: tuple[str, ...], message: str
) -> None:
    fly(pilot("Ann"), 91)
    result = run_command(JOB, *arguments)
    assert result.code == ExitCode.USAGE
    assert message in result.err and len(result.err.strip().splitlines()) == 1
    assert not Delivery.objects.exists() and not smtp_settings.messages


def test_member_limits_the_run_to_one_pilot(smtp_settings: SMTPServer) -> None:
    ann, bob = pilot("Ann"), pilot("Bob")
    fly(ann, 91)
    fly(bob, 91)
    result = run_command(JOB, "--member", bob.username)
    assert result.code == 0 and "📧 sent 1" in result.out
    assert smtp_settings.recipients() == [bob.email]


def test_a_rerun_costs_the_same_queries_however_many_lapsed_pilots_were_reminded(
    smtp_settings: SMTPServer,
) -> None:
    """Lapsed pilots stay lapsed; the ones already reminded are not worked through again."""

    def rerun_queries() -> int:
        assert run_command(JOB).code == 0  # reminds the new ones
        with CaptureQueriesContext(connection) as queries:
            result = run_command(JOB)
        assert result.code == 0 and "📧 sent 0" in result.out
        return len(queries)

    for n in range(3):
        fly(pilot(f"P{n}"), 95)
    few = rerun_queries()
    for n in range(3, 30):
        fly(pilot(f"P{n}"), 95)
    assert rerun_queries() == few


def dry_run_queries() -> int:
    with CaptureQueriesContext(connection) as queries:
        result = run_command(JOB, "--dry-run")
    assert result.code == 0
    return len(queries)


def test_a_dry_run_costs_the_same_queries_for_ten_times_the_pilots() -> None:
    def pilots(first: int, count: int) -> None:
        for n in range(first, first + count):
            fly(pilot(f"P{n}", phone=f"+1540555{n:04d}", sms_opt_in=n % 2 == 0), 80 + n % 20)
            fly(pilot(f"Q{n}"), 10)

    pilots(0, 3)
    small = dry_run_queries()
    pilots(3, 27)
    assert dry_run_queries() == small
