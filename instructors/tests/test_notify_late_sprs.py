"""notify_late_sprs: overdue student progress reports, escalated by age, one email per instructor."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from instructors.late_sprs import (
    CC,
    LEVELS,
    InstructorOverdue,
    OverdueReport,
    level_for_age,
    overdue_reports,
)
from instructors.management.commands.notify_late_sprs import Command
from instructors.models import InstructionReport
from instructors.notices.late_sprs import LATE_SPRS_KEY, late_sprs_message
from instructors.tests.factories import InstructionReportFactory
from logsheet.models import Flight, Logsheet
from logsheet.tests.factories import AirfieldFactory, FlightFactory
from members.models import Member
from members.tests.factories import MemberFactory
from notifications.models import Delivery, Notification
from testsupport.commands import run_command
from testsupport.notifications import FakeTwilio
from testsupport.smtp import ReceivedMessage, SMTPServer
from utils.exitcodes import ExitCode
from utils.models import CronJobRun

pytestmark = pytest.mark.django_db

JOB = "notify_late_sprs"
# Monday 2026-11-23, 15:00 UTC = 10:00 in New York: the club day and the UTC day agree.
NOW = datetime.datetime(2026, 11, 23, 15, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 11, 23)


@pytest.fixture(autouse=True)
def pinned_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def days_ago(days: int, today: datetime.date = TODAY) -> datetime.date:
    return today - datetime.timedelta(days=days)


def person(first: str, last: str = "Flyer", **fields: object) -> Member:
    return MemberFactory(username=f"{first}.{last}".lower(), first_name=first, last_name=last, **fields)


def lesson(
    age: int, instructor: Member, student: Member, *, finalized: bool = True, airfield: str = "KFRR"
) -> Flight:
    field = AirfieldFactory(identifier=airfield)
    sheet, _ = Logsheet.objects.get_or_create(
        log_date=days_ago(age), airfield=field, defaults={"finalized": finalized}
    )
    return FlightFactory(logsheet=sheet, instructor=instructor, pilot=student)


def text_of(message: ReceivedMessage) -> str:
    return message.get_body(("plain",)).get_content()


def listed(message: ReceivedMessage) -> list[str]:
    return [line.strip() for line in text_of(message).splitlines() if line.strip()]


def cc_of(message: ReceivedMessage) -> list[str]:
    return sorted(address.strip() for address in str(message["Cc"] or "").split(",") if address.strip())


@pytest.fixture
def club() -> dict[str, Member]:
    """An instructor with a supervisor, a student and the club's leadership."""
    supervisor = person("Sue", "Supervisor", instructor=True)
    return {
        "instructor": person("Ivan", "Teach", instructor=True, supervisor=supervisor),
        "supervisor": supervisor,
        "student": person("Stu", "Dent", membership_status="student"),
        "chief": person("Cleo", "Chief", instructor=True, chief_instructor=True),
        "director": person("Dora", "Director", director=True),
        "manager": person("Max", "Manager", member_manager=True),
        "retired_director": person("Ray", "Retired", director=True, membership_status="inactive"),
        "disabled_chief": person("Dan", "Disabled", chief_instructor=True, is_active=False),
    }


def test_command_declares_its_schedule() -> None:
    assert (Command.job_name, Command.schedule, Command.resource_class) == (JOB, "0 10 * * 1", "heavy")
    assert Command.max_execution_time == datetime.timedelta(minutes=20)
    assert Command.sends_notices


@pytest.mark.parametrize(
    ("age", "label"),
    [
        (0, None),
        (6, None),
        (7, "Friendly reminder"),
        (13, "Friendly reminder"),
        (14, "Gentle nudge"),
        (20, "Gentle nudge"),
        (21, "Firm reminder"),
        (24, "Firm reminder"),
        (25, "Urgent notice"),
        (29, "Urgent notice"),
        (30, "FINAL notice"),
        (365, "FINAL notice"),
    ],
)
def test_level_table_boundaries(age: int, label: str | None) -> None:
    level = level_for_age(age)
    assert (level.label if level else None) == label


def test_level_table_ranges_and_copies() -> None:
    assert [(lv.rank, lv.days_label) for lv in LEVELS] == [
        (1, "7-13 days"),
        (2, "14-20 days"),
        (3, "21-24 days"),
        (4, "25-29 days"),
        (5, "30+ days"),
    ]
    assert [lv.cc for lv in LEVELS] == [
        frozenset(),
        {CC.SUPERVISOR},
        {CC.SUPERVISOR, CC.CHIEF_INSTRUCTORS},
        {CC.SUPERVISOR, CC.CHIEF_INSTRUCTORS, CC.BOARD},
        {CC.SUPERVISOR, CC.CHIEF_INSTRUCTORS, CC.BOARD, CC.MEMBER_MANAGERS},
    ]


@pytest.mark.parametrize(
    ("age", "subject", "copied"),
    [
        (6, None, None),
        (7, "Friendly reminder", []),
        (13, "Friendly reminder", []),
        (14, "Gentle nudge", ["supervisor"]),
        (20, "Gentle nudge", ["supervisor"]),
        (21, "Firm reminder", ["chief", "supervisor"]),
        (24, "Firm reminder", ["chief", "supervisor"]),
        (25, "Urgent notice", ["chief", "director", "supervisor"]),
        (29, "Urgent notice", ["chief", "director", "supervisor"]),
        (30, "FINAL notice", ["chief", "director", "manager", "supervisor"]),
    ],
)
def test_each_level_starts_on_its_day_with_its_copies(
    smtp_settings: SMTPServer,
    club: dict[str, Member],
    age: int,
    subject: str | None,
    copied: list[str] | None,
) -> None:
    lesson(age, club["instructor"], club["student"])
    result = run_command(JOB)
    assert result.code == 0
    if subject is None:
        assert "Found 0 overdue SPR(s) for 0 instructor(s) · 📧 sent 0" in result.out
        assert smtp_settings.messages == []
        return
    (message,) = smtp_settings.messages
    assert message["Subject"] == f"{subject}: 1 overdue student progress report"
    assert str(message["To"]) == club["instructor"].email
    assert cc_of(message) == sorted(club[name].email for name in copied or [])
    assert f"Found 1 overdue SPR(s) for 1 instructor(s) ({subject} 1) · 📧 sent 1" in result.out
    assert f"- Stu Dent, flown {days_ago(age):%a %Y-%m-%d}: {age} days ago" in listed(message)


@pytest.mark.parametrize(
    ("args", "chased", "not_chased"), [((), 90, 91), (("--lookback-days", "40"), 40, 41)]
)
def test_flights_older_than_the_lookback_are_no_longer_chased(
    smtp_settings: SMTPServer, club: dict[str, Member], args: tuple[str, ...], chased: int, not_chased: int
) -> None:
    lesson(chased, club["instructor"], club["student"])
    lesson(not_chased, club["instructor"], club["student"])
    result = run_command(JOB, *args)
    assert "Found 1 overdue SPR(s) for 1 instructor(s) (FINAL notice 1)" in result.out
    body = text_of(smtp_settings.messages[0])
    assert f"{chased} days ago" in body and f"{not_chased} days ago" not in body


def test_one_report_per_instructor_student_and_day_and_a_written_one_counts(
    smtp_settings: SMTPServer, club: dict[str, Member]
) -> None:
    ivan, stu = club["instructor"], club["student"]
    amy = person("Amy", "Able", membership_status="student")
    lesson(10, ivan, stu)
    lesson(10, ivan, stu)  # a second flight that day
    lesson(10, ivan, stu, airfield="KJYO")  # and one from another field
    lesson(10, ivan, amy)
    lesson(11, ivan, amy)
    InstructionReportFactory(instructor=ivan, student=amy, report_date=days_ago(11))
    InstructionReportFactory(instructor=club["supervisor"], student=stu, report_date=days_ago(10))
    InstructionReportFactory(instructor=ivan, student=stu, report_date=days_ago(9))
    result = run_command(JOB)
    assert "Found 2 overdue SPR(s) for 1 instructor(s) (Friendly reminder 2)" in result.out
    assert [line for line in listed(smtp_settings.messages[0]) if line.startswith("- ")] == [
        f"- Amy Able, flown {days_ago(10):%a %Y-%m-%d}: 10 days ago",
        f"- Stu Dent, flown {days_ago(10):%a %Y-%m-%d}: 10 days ago",
    ]


def test_only_instruction_on_finalized_logsheets_is_chased(
    smtp_settings: SMTPServer, club: dict[str, Member]
) -> None:
    lesson(10, club["instructor"], club["student"], finalized=False)
    FlightFactory(logsheet=Logsheet.objects.get(), pilot=club["student"])  # solo: no instructor
    FlightFactory(logsheet=Logsheet.objects.get(), instructor=club["instructor"], pilot=None)
    result = run_command(JOB)
    assert "Found 0 overdue SPR(s)" in result.out and smtp_settings.messages == []


def test_one_email_per_instructor_grouped_by_level_with_the_highest_in_the_subject(
    smtp_settings: SMTPServer, club: dict[str, Member]
) -> None:
    ivan, stu = club["instructor"], club["student"]
    amy = person("Amy", "Able", membership_status="student")
    lesson(8, ivan, amy)
    lesson(22, ivan, stu)
    lesson(31, ivan, amy)
    lesson(33, club["supervisor"], stu)
    result = run_command(JOB)
    assert (
        "Found 4 overdue SPR(s) for 2 instructor(s) (FINAL notice 2, Firm reminder 1, Friendly reminder 1)"
        in (result.out)
    )
    assert len(smtp_settings.messages) == 2
    (message,) = [m for m in smtp_settings.messages if str(m["To"]) == ivan.email]
    assert message["Subject"] == "FINAL notice: 3 overdue student progress reports"
    lines = listed(message)
    start = lines.index("FINAL notice (30+ days since the flight):")
    assert lines[start : start + 6] == [
        "FINAL notice (30+ days since the flight):",
        f"- Amy Able, flown {days_ago(31):%a %Y-%m-%d}: 31 days ago",
        "Firm reminder (21-24 days since the flight):",
        f"- Stu Dent, flown {days_ago(22):%a %Y-%m-%d}: 22 days ago",
        "Friendly reminder (7-13 days since the flight):",
        f"- Amy Able, flown {days_ago(8):%a %Y-%m-%d}: 8 days ago",
    ]
    assert "Copied to: Sue Supervisor, Cleo Chief, Dora Director, Max Manager." in lines
    html = message.get_body(("html",)).get_content()
    assert html.index("FINAL notice") < html.index("Firm reminder") < html.index("Friendly reminder")
    # Sue's own email copies the leadership, never Sue herself; Sue has no supervisor.
    (sues,) = [m for m in smtp_settings.messages if str(m["To"]) == club["supervisor"].email]
    assert cc_of(sues) == sorted(club[name].email for name in ("chief", "director", "manager"))
    # Each address is on each message once; inactive leaders are never copied.
    assert smtp_settings.recipients().count(club["chief"].email) == 2
    for gone in ("retired_director", "disabled_chief"):
        assert club[gone].email not in smtp_settings.recipients()


def test_copies_never_include_the_instructor_and_name_each_member_once(
    smtp_settings: SMTPServer, club: dict[str, Member]
) -> None:
    chief = club["chief"]
    chief.director = True
    chief.save()
    boss = person("Bo", "Boss", instructor=True, chief_instructor=True, director=True, supervisor=chief)
    lesson(30, boss, club["student"])
    lesson(30, club["instructor"], club["student"], airfield="KJYO")
    Member.objects.filter(pk=club["instructor"].pk).update(supervisor=chief)
    run_command(JOB)
    (bos,) = [m for m in smtp_settings.messages if str(m["To"]) == boss.email]
    assert cc_of(bos) == sorted([chief.email, club["director"].email, club["manager"].email])
    (ivans,) = [m for m in smtp_settings.messages if str(m["To"]) == club["instructor"].email]
    assert cc_of(ivans) == sorted([chief.email, boss.email, club["director"].email, club["manager"].email])


def test_an_inactive_supervisor_is_not_copied(smtp_settings: SMTPServer, club: dict[str, Member]) -> None:
    Member.objects.filter(pk=club["supervisor"].pk).update(membership_status="inactive")
    lesson(15, club["instructor"], club["student"])
    run_command(JOB)
    assert smtp_settings.messages[0]["Cc"] is None


def test_members_without_email_are_warned_and_counted(
    smtp_settings: SMTPServer, club: dict[str, Member]
) -> None:
    Member.objects.filter(pk=club["director"].pk).update(email="")
    quiet = person("Quinn", "Quiet", instructor=True, email="")
    lesson(25, club["instructor"], club["student"])
    lesson(25, quiet, club["student"], airfield="KJYO")
    result = run_command(JOB)
    assert result.code == 0
    assert f"⚠️ [{JOB}] Quinn Quiet has no email address; no email sent; notified in-app only" in result.out
    assert result.out.count(f"⚠️ [{JOB}] Dora Director has no email address; left out of the copies") == 1
    assert "no_email=2" in result.out
    assert [str(m["To"]) for m in smtp_settings.messages] == [club["instructor"].email]
    copied = {a.strip() for a in str(smtp_settings.messages[0]["Cc"]).split(",")}
    assert copied == {club["chief"].email, club["supervisor"].email}  # the director has no address
    assert Notification.objects.filter(user=quiet, key=LATE_SPRS_KEY).exists()


def test_the_notification_is_updated_not_stacked_and_cleared_as_reports_are_written(
    smtp_settings: SMTPServer, club: dict[str, Member]
) -> None:
    ivan, stu = club["instructor"], club["student"]
    amy = person("Amy", "Able", membership_status="student")
    lesson(8, ivan, amy)
    lesson(12, ivan, stu)
    run_command(JOB)
    live = Notification.objects.get(user=ivan, key=LATE_SPRS_KEY, dismissed=False)
    assert live.url == "/instructors/"
    assert live.message == (
        f"Friendly reminder: 2 overdue student progress reports: Stu Dent ({days_ago(12)}, 12 days); "
        f"Amy Able ({days_ago(8)}, 8 days)"
    )
    with time_machine.travel(NOW + datetime.timedelta(days=7), tick=False):
        assert run_command(JOB).code == 0
    (again,) = Notification.objects.filter(user=ivan, key=LATE_SPRS_KEY)
    assert again.pk == live.pk and again.message.startswith("Gentle nudge: 2 overdue")
    assert len(smtp_settings.messages) == 2  # a new week, a new email
    # Writing one report shortens the notification at once; writing the last dismisses it.
    InstructionReport.objects.create(instructor=ivan, student=stu, report_date=days_ago(12), report_text="ok")
    again.refresh_from_db()
    assert not again.dismissed
    assert (
        again.message
        == f"Friendly reminder: 1 overdue student progress report: Amy Able ({days_ago(8)}, 8 days)"
    )
    InstructionReportFactory(instructor=ivan, student=amy, report_date=days_ago(8))
    again.refresh_from_db()
    assert again.dismissed
    assert not Notification.objects.filter(user=ivan, dismissed=False).exists()


def test_saving_a_report_never_creates_a_notification(club: dict[str, Member]) -> None:
    lesson(10, club["instructor"], club["student"])
    lesson(10, club["instructor"], person("Amy", "Able"))
    InstructionReportFactory(instructor=club["instructor"], student=club["student"], report_date=days_ago(10))
    assert not Notification.objects.exists()


def test_deleting_a_report_puts_it_back_in_the_live_notification(
    smtp_settings: SMTPServer, club: dict[str, Member]
) -> None:
    ivan, stu = club["instructor"], club["student"]
    lesson(9, ivan, stu)
    report = InstructionReportFactory(instructor=ivan, student=stu, report_date=days_ago(9))
    lesson(30, ivan, club["supervisor"])
    run_command(JOB)
    live = Notification.objects.get(user=ivan)
    assert live.message.startswith("FINAL notice: 1 overdue")
    report.delete()
    live.refresh_from_db()
    assert live.message.startswith("FINAL notice: 2 overdue") and "Stu Dent" in live.message


def test_the_notification_lists_the_five_oldest_reports() -> None:
    ivan = person("Ivan", "Teach")
    overdue = InstructorOverdue(ivan, None)
    for age in range(40, 33, -1):
        level = level_for_age(age)
        assert level is not None
        overdue.reports.append(OverdueReport(person(f"S{age}"), days_ago(age), age, level))
    assert late_sprs_message(overdue) == (
        "FINAL notice: 7 overdue student progress reports: "
        + "; ".join(f"S{age} Flyer ({days_ago(age)}, {age} days)" for age in range(40, 35, -1))
        + "; and 2 more"
    )


def test_the_command_dismisses_notifications_with_nothing_overdue(
    smtp_settings: SMTPServer, club: dict[str, Member]
) -> None:
    lesson(85, club["instructor"], club["student"])
    run_command(JOB)
    assert Notification.objects.filter(dismissed=False).count() == 1
    with time_machine.travel(NOW + datetime.timedelta(days=7), tick=False):  # now 92 days: past the lookback
        result = run_command(JOB)
    assert "Found 0 overdue SPR(s)" in result.out and "in_app_dismissed=1" in result.out
    assert not Notification.objects.filter(dismissed=False).exists()


def test_a_rerun_the_same_day_sends_nothing_twice(smtp_settings: SMTPServer, club: dict[str, Member]) -> None:
    lesson(30, club["instructor"], club["student"])
    assert run_command(JOB).code == 0
    Notification.objects.update(read=True)
    again = run_command(JOB)
    assert again.code == 0 and "📧 sent 0, 1 already sent" in again.out
    assert len(smtp_settings.messages) == 1
    assert Notification.objects.get().read  # same text: left alone


def test_a_dry_run_shows_who_would_get_what_and_changes_nothing(
    smtp_settings: SMTPServer, club: dict[str, Member]
) -> None:
    lesson(30, club["instructor"], club["student"])
    Notification.objects.create(user=club["chief"], key=LATE_SPRS_KEY, message="Friendly reminder: old")
    result = run_command(JOB, "--dry-run")
    assert result.code == 0
    assert (
        f"🔍 [{JOB}] Would send email 'FINAL notice: 1 overdue student progress report' to Ivan Teach "
        "(cc Sue Supervisor, Cleo Chief, Dora Director, Max Manager)"
    ) in result.out
    assert (
        f"🔍 [{JOB}] Would create the in-app notification of Ivan Teach: FINAL notice: 1 overdue"
        in result.out
    )
    assert f"🔍 [{JOB}] Would dismiss 1 in-app notification(s) that no longer apply" in result.out
    assert "Found 1 overdue SPR(s) for 1 instructor(s) (FINAL notice 1) · 📧 would send 1" in result.out
    assert smtp_settings.messages == []
    assert not Delivery.objects.exists() and not CronJobRun.objects.exists()
    assert list(Notification.objects.values_list("user_id", "dismissed")) == [(club["chief"].pk, False)]


def test_age_is_counted_from_the_club_date_not_the_utc_date(
    smtp_settings: SMTPServer, club: dict[str, Member]
) -> None:
    # 03:00 UTC on Monday the 23rd is still Sunday evening, the 22nd, in New York.
    club_day = datetime.date(2026, 11, 22)
    sheet_day = days_ago(6, club_day)  # 6 days old in New York, 7 by the UTC date
    sheet = Logsheet.objects.create(log_date=sheet_day, airfield=AirfieldFactory(), finalized=True)
    FlightFactory(logsheet=sheet, instructor=club["instructor"], pilot=club["student"])
    with time_machine.travel(datetime.datetime(2026, 11, 23, 3, tzinfo=datetime.UTC), tick=False):
        assert overdue_reports(TODAY)  # what a UTC clock would find
        result = run_command(JOB)
    assert "Found 0 overdue SPR(s)" in result.out and smtp_settings.messages == []
    with time_machine.travel(datetime.datetime(2026, 11, 24, 3, tzinfo=datetime.UTC), tick=False):
        result = run_command(JOB)
    assert "Found 1 overdue SPR(s) for 1 instructor(s) (Friendly reminder 1)" in result.out
    assert f"flown {sheet_day:%a %Y-%m-%d}: 7 days ago" in text_of(smtp_settings.messages[0])
    assert Delivery.objects.get().day == datetime.date(2026, 11, 23)


@pytest.mark.parametrize(
    "args",
    [
        ["--lookback-days", "-1"],
        ["--lookback-days", "0"],
        ["--lookback-days", "abc"],
        ["--lookback-days", "6"],
        ["--days", "3"],
    ],
)
def test_bad_option_values_exit_2_with_one_line_and_change_nothing(
    smtp_settings: SMTPServer, club: dict[str, Member], args: list[str]
) -> None:
    lesson(30, club["instructor"], club["student"])
    old = Notification.objects.create(user=club["chief"], key=LATE_SPRS_KEY, message="Friendly reminder: old")
    result = run_command(JOB, *args)
    assert result.code == ExitCode.USAGE
    assert len(result.lines) == 1 and args[0] in result.lines[0]
    assert smtp_settings.messages == []
    assert not (CronJobRun.objects.exists() or Delivery.objects.exists())
    assert list(Notification.objects.values_list("pk", "dismissed", "message")) == [
        (old.pk, False, "Friendly reminder: old")
    ]


def build_overdue(first_day: int, days: int) -> None:
    """Per day: two instructors (one with a supervisor), three students, a written report, a draft sheet."""
    leaders = [person(f"Lead{first_day}", chief_instructor=True), person(f"Board{first_day}", director=True)]
    for age in range(first_day, first_day + days):
        boss = person(f"Boss{age}", instructor=True)
        instructors = [person(f"Ins{age}", instructor=True, supervisor=boss), person(f"Solo{age}", email="")]
        students = [person(f"Stu{age}"), person(f"Amy{age}"), person(f"Bob{age}")]
        for n, student in enumerate(students):
            lesson(age, instructors[n % 2], student)
            lesson(age, instructors[n % 2], student)
            lesson(age, instructors[0], student, airfield="KJYO", finalized=False)
        InstructionReportFactory(instructor=instructors[0], student=students[0], report_date=days_ago(age))
    assert leaders


def dry_run_queries() -> int:
    with CaptureQueriesContext(connection) as queries:
        assert run_command(JOB, "--dry-run").code == 0
    return len(queries)


def test_a_dry_run_costs_the_same_queries_for_ten_times_the_data() -> None:
    build_overdue(7, 3)
    small = dry_run_queries()
    build_overdue(10, 27)
    assert sum(len(item.reports) for item in overdue_reports(TODAY)) == 60
    assert dry_run_queries() == small


# --- FINAL level: offered by SMS -------------------------------------------------------------
@pytest.mark.parametrize(("age", "texted"), [(29, False), (30, True)])
def test_only_a_final_notice_is_also_texted_to_an_instructor_who_opted_in(
    smtp_settings: SMTPServer, twilio_settings: FakeTwilio, club: dict[str, Member], age: int, texted: bool
) -> None:
    Member.objects.filter(pk=club["instructor"].pk).update(phone="+15405550111", sms_opt_in=True)
    Member.objects.filter(pk=club["supervisor"].pk).update(phone="+15405550112", sms_opt_in=True)
    lesson(age, club["instructor"], club["student"])

    result = run_command(JOB)

    assert result.code == 0, result.err
    assert len(smtp_settings.messages) == 1
    if not texted:
        assert twilio_settings.requests == []
        return
    assert twilio_settings.bodies_to("+15405550111") == [
        "Skyline Soaring Club: FINAL notice. 1 student progress report is overdue, the oldest for "
        f"Stu Dent ({days_ago(30):%d %b}, 30 days). Please write them today: http://localhost:8000/instructors/"
    ]
    assert len(twilio_settings.messages) == 1  # the copied supervisor is never texted
    sms = Delivery.objects.get(channel="sms")
    assert (sms.kind, sms.notice_kind, sms.status) == (LATE_SPRS_KEY, "late_sprs_final", "sent")
    again = run_command(JOB)
    assert "📧 sent 0, 2 already sent" in again.out and len(twilio_settings.messages) == 1


def test_an_instructor_without_email_at_final_level_is_texted(
    smtp_settings: SMTPServer, twilio_settings: FakeTwilio, club: dict[str, Member]
) -> None:
    Member.objects.filter(pk=club["instructor"].pk).update(email="", phone="+15405550111", sms_opt_in=True)
    lesson(31, club["instructor"], club["student"])
    result = run_command(JOB)
    assert "Ivan Teach has no email address; texted and notified in-app" in result.out
    assert smtp_settings.messages == [] and len(twilio_settings.messages) == 1
