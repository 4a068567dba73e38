"""notify_aging_logsheets: who is reminded of which unfinalized logsheets, and how often."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from logsheet.aging import find_aging_logsheets
from logsheet.management.commands.notify_aging_logsheets import Command
from logsheet.models import Logsheet
from logsheet.notices.aging import AGING_NOTIFICATION_KEY
from logsheet.tests.factories import AirfieldFactory, LogsheetFactory
from members.models import Member
from members.tests.factories import MemberFactory
from notifications.models import Delivery, Notification
from testsupport.commands import run_command
from testsupport.smtp import ReceivedMessage, SMTPServer
from utils.exitcodes import ExitCode
from utils.models import CronJobRun

pytestmark = pytest.mark.django_db

JOB = "notify_aging_logsheets"
# 15:00 UTC is 10:00 in New York: the club day and the UTC day agree.
NOW = datetime.datetime(2026, 11, 22, 15, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 11, 22)


@pytest.fixture(autouse=True)
def pinned_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def days_ago(days: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=days)


def open_sheet(age: int, airfield: str = "KFRR", **people: Member | None) -> Logsheet:
    field = AirfieldFactory(identifier=airfield, name={"KFRR": "Front Royal"}.get(airfield, "Elsewhere"))
    return LogsheetFactory(log_date=days_ago(age), airfield=field, finalized=False, **people)


def person(first: str, **fields: object) -> Member:
    return MemberFactory(username=first.lower(), first_name=first, last_name="Flyer", **fields)


def text_of(message: ReceivedMessage) -> str:
    return message.get_body(("plain",)).get_content()


def message_to(smtp: SMTPServer, address: str) -> ReceivedMessage:
    (found,) = [m for m in smtp.messages if address in str(m["To"])]
    return found


def nothing_changed() -> bool:
    return not (CronJobRun.objects.exists() or Delivery.objects.exists() or Notification.objects.exists())


def test_command_declares_its_schedule() -> None:
    assert (Command.job_name, Command.schedule, Command.resource_class) == (JOB, "0 8 * * *", "light")
    assert Command.max_execution_time == datetime.timedelta(minutes=15)
    assert Command.sends_notices


def test_seven_days_old_is_not_aging_and_eight_days_old_is(smtp_settings: SMTPServer) -> None:
    dee, ada = person("Dee"), person("Ada")
    open_sheet(7, duty_officer=dee)
    open_sheet(8, airfield="KJYO", duty_officer=dee, assistant_duty_officer=ada)
    result = run_command(JOB)
    assert result.code == 0
    assert f"📊 [{JOB}] Found 1 aging logsheet(s) for 2 member(s) · 📧 sent 2" in result.out
    assert smtp_settings.recipients() == sorted([dee.email, ada.email])
    assert smtp_settings.subjects() == ["1 logsheet waiting to be finalized"] * 2
    body = text_of(message_to(smtp_settings, dee.email))
    assert "Sat 2026-11-14 at KJYO Elsewhere: 8 days old" in body
    assert "2026-11-15" not in body
    assert "more than 7 days old" in body


def test_a_finalized_sheet_is_never_aging(smtp_settings: SMTPServer) -> None:
    LogsheetFactory(log_date=days_ago(30), finalized=True, duty_officer=person("Dee"))
    result = run_command(JOB)
    assert "Found 0 aging logsheet(s) for 0 member(s) · 📧 sent 0" in result.out
    assert smtp_settings.messages == []


def test_one_email_per_member_lists_all_their_sheets_oldest_first(smtp_settings: SMTPServer) -> None:
    dee, ada = person("Dee"), person("Ada")
    open_sheet(20, duty_officer=dee)
    open_sheet(9, airfield="KJYO", duty_officer=dee, assistant_duty_officer=ada)
    open_sheet(12, airfield="KOKV", assistant_duty_officer=dee)
    result = run_command(JOB)
    assert "Found 3 aging logsheet(s) for 2 member(s) · 📧 sent 2" in result.out
    assert sorted(smtp_settings.subjects()) == [
        "1 logsheet waiting to be finalized",
        "3 logsheets waiting to be finalized",
    ]
    lines = [line.strip() for line in text_of(message_to(smtp_settings, dee.email)).splitlines()]
    listed = [line for line in lines if line.startswith("- ")]
    assert listed == [
        "- Mon 2026-11-02 at KFRR Front Royal: 20 days old",
        "- Tue 2026-11-10 at KOKV Elsewhere: 12 days old",
        "- Fri 2026-11-13 at KJYO Elsewhere: 9 days old",
    ]
    html = message_to(smtp_settings, ada.email).get_body(("html",)).get_content()
    assert "KJYO Elsewhere" in html and "9 days" in html and "KFRR" not in html


def test_the_creator_is_reminded_only_when_no_duty_officer_is_set(smtp_settings: SMTPServer) -> None:
    creator, other_creator, dee = person("Cora"), person("Carl"), person("Dee")
    open_sheet(10, created_by=creator)
    open_sheet(11, airfield="KJYO", created_by=other_creator, duty_officer=dee)
    run_command(JOB)
    assert smtp_settings.recipients() == sorted([creator.email, dee.email])


def test_a_member_on_both_crew_roles_gets_the_sheet_once(smtp_settings: SMTPServer) -> None:
    dee = person("Dee")
    open_sheet(10, duty_officer=dee, assistant_duty_officer=dee)
    result = run_command(JOB)
    assert "for 1 member(s) · 📧 sent 1" in result.out
    assert text_of(smtp_settings.messages[0]).count("KFRR Front Royal") == 1


def test_inactive_members_on_duty_are_still_reminded(smtp_settings: SMTPServer) -> None:
    gone = person("Gus", membership_status="inactive", is_active=False)
    open_sheet(10, duty_officer=gone)
    run_command(JOB)
    assert smtp_settings.recipients() == [gone.email]


def test_a_member_without_email_is_warned_counted_and_reminded_in_app(smtp_settings: SMTPServer) -> None:
    mute, ada = person("Mo", email=""), person("Ada")
    open_sheet(10, duty_officer=mute, assistant_duty_officer=ada)
    result = run_command(JOB)
    assert result.code == 0
    assert f"⚠️ [{JOB}] Mo Flyer has no email address; reminded in-app only" in result.out
    assert "no_email=1" in result.out
    assert smtp_settings.recipients() == [ada.email]
    assert Notification.objects.filter(user=mute, key=AGING_NOTIFICATION_KEY).count() == 1


def test_a_sheet_with_nobody_to_remind_is_warned(smtp_settings: SMTPServer) -> None:
    open_sheet(10, created_by=None)
    result = run_command(JOB)
    assert f"⚠️ [{JOB}] Logsheet 2026-11-12 KFRR Front Royal (10 days) has no duty officer" in result.out
    assert "unaddressed=1" in result.out and smtp_settings.messages == []


def test_the_in_app_notification_is_updated_daily_and_dismissed_once_finalized(
    smtp_settings: SMTPServer,
) -> None:
    dee = person("Dee")
    sheet = open_sheet(8, duty_officer=dee)
    run_command(JOB)
    live = Notification.objects.get(user=dee, key=AGING_NOTIFICATION_KEY, dismissed=False)
    assert live.message == "1 logsheet is waiting to be finalized: 2026-11-14 KFRR Front Royal (8 days)"
    assert live.url == "/logsheet/"
    Notification.objects.filter(pk=live.pk).update(read=True)
    with time_machine.travel(NOW + datetime.timedelta(days=1), tick=False):
        assert run_command(JOB).code == 0
    (updated,) = Notification.objects.filter(user=dee, key=AGING_NOTIFICATION_KEY)
    assert updated.pk == live.pk and not updated.read
    assert updated.message.endswith("(9 days)")
    assert len(smtp_settings.messages) == 2  # a new day, a new reminder
    Logsheet.objects.filter(pk=sheet.pk).update(finalized=True)
    with time_machine.travel(NOW + datetime.timedelta(days=2), tick=False):
        result = run_command(JOB)
    assert "in_app_dismissed=1" in result.out
    assert Notification.objects.get(pk=live.pk).dismissed
    assert len(smtp_settings.messages) == 2


def test_a_rerun_the_same_day_sends_nothing_and_leaves_the_notification_alone(
    smtp_settings: SMTPServer,
) -> None:
    dee, ada = person("Dee"), person("Ada")
    open_sheet(10, duty_officer=dee, assistant_duty_officer=ada)
    assert run_command(JOB).code == 0
    Notification.objects.update(read=True)
    again = run_command(JOB)
    assert again.code == 0 and "📧 sent 0, 2 already sent" in again.out
    assert len(smtp_settings.messages) == 2
    assert Notification.objects.count() == 2 and all(n.read for n in Notification.objects.all())


def test_a_dry_run_shows_who_would_get_what_and_changes_nothing(smtp_settings: SMTPServer) -> None:
    dee, ada = person("Dee"), person("Ada")
    open_sheet(10, duty_officer=dee, assistant_duty_officer=ada)
    stale = person("Old")
    Notification.objects.create(user=stale, key=AGING_NOTIFICATION_KEY, message="1 logsheet is waiting")
    result = run_command(JOB, "--dry-run")
    assert result.code == 0
    assert f"🔍 [{JOB}] Would send email '1 logsheet waiting to be finalized' to Dee Flyer" in result.out
    assert f"🔍 [{JOB}] Would send email '1 logsheet waiting to be finalized' to Ada Flyer" in result.out
    assert (
        f"🔍 [{JOB}] Would create the in-app notification of Dee Flyer: 1 logsheet is waiting" in result.out
    )
    assert f"🔍 [{JOB}] Would dismiss 1 in-app notification(s) that no longer apply" in result.out
    assert "Found 1 aging logsheet(s) for 2 member(s) · 📧 would send 2" in result.out
    assert smtp_settings.messages == []
    assert not Delivery.objects.exists() and not CronJobRun.objects.exists()
    assert list(Notification.objects.values_list("user_id", "dismissed")) == [(stale.pk, False)]


def test_days_option_moves_the_threshold(smtp_settings: SMTPServer) -> None:
    dee = person("Dee")
    open_sheet(14, duty_officer=dee)
    open_sheet(15, airfield="KJYO", duty_officer=dee)
    result = run_command(JOB, "--days", "14")
    assert "Found 1 aging logsheet(s) for 1 member(s)" in result.out
    assert "more than 14 days old" in text_of(smtp_settings.messages[0])


def test_age_is_counted_from_the_club_date_not_the_utc_date(smtp_settings: SMTPServer) -> None:
    dee = person("Dee")
    open_sheet(7, duty_officer=dee)  # 2026-11-15: 7 days old in New York, 8 by the UTC date
    # 03:00 UTC on the 23rd is still the evening of the 22nd in New York.
    with time_machine.travel(datetime.datetime(2026, 11, 23, 3, tzinfo=datetime.UTC), tick=False):
        assert find_aging_logsheets(datetime.date(2026, 11, 23), 7).logsheets  # what a UTC clock would do
        result = run_command(JOB)
    assert "Found 0 aging logsheet(s)" in result.out and smtp_settings.messages == []
    open_sheet(8, airfield="KJYO", duty_officer=dee)
    with time_machine.travel(datetime.datetime(2026, 11, 23, 3, tzinfo=datetime.UTC), tick=False):
        run_command(JOB)
    assert "KJYO Elsewhere: 8 days old" in text_of(smtp_settings.messages[0])
    assert Delivery.objects.get().day == datetime.date(2026, 11, 22)


@pytest.mark.parametrize("args", [["--days", "0"], ["--days", "abc"], ["--days", "-1"], ["--days="]])
def test_bad_option_values_exit_2_with_one_line_and_change_nothing(
    smtp_settings: SMTPServer, args: list[str]
) -> None:
    open_sheet(10, duty_officer=person("Dee"))
    result = run_command(JOB, *args)
    assert result.code == ExitCode.USAGE
    assert len(result.lines) == 1 and "--days" in result.lines[0]
    assert smtp_settings.messages == [] and nothing_changed()


def build_aging_sheets(first: int, count: int) -> None:
    airfield = AirfieldFactory()
    for n in range(first, first + count):
        LogsheetFactory(
            log_date=days_ago(8 + n),
            airfield=airfield,
            finalized=False,
            duty_officer=MemberFactory(),
            assistant_duty_officer=MemberFactory(email="") if n % 3 == 0 else None,
            created_by=MemberFactory(),
        )
        LogsheetFactory(log_date=days_ago(8 + n), airfield=AirfieldFactory(identifier="KJYO"), finalized=True)


def dry_run_queries() -> int:
    with CaptureQueriesContext(connection) as queries:
        assert run_command(JOB, "--dry-run").code == 0
    return len(queries)


def test_a_dry_run_costs_the_same_queries_for_ten_times_the_data() -> None:
    build_aging_sheets(0, 3)
    small = dry_run_queries()
    build_aging_sheets(3, 27)
    assert Logsheet.objects.aging(TODAY, 7).count() == 30
    assert dry_run_queries() == small


def real_run_queries(smtp: SMTPServer) -> tuple[int, int]:
    """(queries, messages the server received) of one real run."""
    Delivery.objects.all().delete()
    Notification.objects.all().delete()
    smtp.take()
    with CaptureQueriesContext(connection) as queries:
        assert run_command(JOB).code == 0
    return len(queries), len(smtp.take())


def test_a_real_run_costs_three_statements_per_message_sent(smtp_settings: SMTPServer) -> None:
    """Per message: the fenced claim, the fenced hand-over, the sent mark (docs/benchmarks.md);
    the in-app notifications of every member are written in a fixed number of statements."""
    if connection.vendor == "mysql":
        pytest.skip("MySQL claims in a unit of work: no fenced single statement there")
    build_aging_sheets(0, 3)
    small, small_sent = real_run_queries(smtp_settings)
    build_aging_sheets(3, 27)
    large, large_sent = real_run_queries(smtp_settings)
    assert large_sent - small_sent >= 20
    assert (large - small) == 3 * (large_sent - small_sent), (small, small_sent, large, large_sent)
