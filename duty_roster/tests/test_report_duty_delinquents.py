"""report_duty_delinquents: who flies without doing duty, reported to the board and duty officers."""

from __future__ import annotations

import csv
import datetime
import io
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from duty_roster.delinquency import (
    DelinquencyRules,
    absolute_url,
    find_delinquents,
    membership_length,
    months_before,
)
from logsheet.models import CREW_ROLES, Flight, Logsheet
from logsheet.tests.factories import AirfieldFactory, FlightFactory, LogsheetFactory
from members.models import Member
from members.tests.factories import MemberFactory
from notifications.models import Delivery
from testsupport.commands import run_command
from testsupport.notifications import FakeSlack
from testsupport.smtp import ReceivedMessage, SMTPServer
from utils.exitcodes import ExitCode

pytestmark = pytest.mark.django_db

COMMAND = "report_duty_delinquents"
# 12:00 UTC on 1 December 2026 is 07:00 in New York: club today is 2026-12-01.
RUN_AT = datetime.datetime(2026, 12, 1, 12, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 12, 1)
WINDOW_START = datetime.date(2025, 12, 1)
IN_WINDOW = datetime.date(2026, 6, 13)
_airfields = itertools.count()


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    """A media folder published at an absolute URL (as a bucket would be), where a link to the
    CSV works for every recipient; ``local_media`` is the default, staff-only folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_URL = "https://club.example.org/media/"
    settings.SITE_URL = "https://club.example.org"
    return settings.MEDIA_ROOT


@pytest.fixture
def local_media(settings: Any, media: Path) -> Path:
    """The default media folder: relative links, served by the web app to staff only."""
    settings.MEDIA_URL = "media/"
    return media


@pytest.fixture(autouse=True)
def pinned_time() -> Iterator[None]:
    with time_machine.travel(RUN_AT, tick=False):
        yield


def member(name: str, **fields: Any) -> Member:
    first, _, last = name.partition(" ")
    return MemberFactory(username=name.lower().replace(" ", "."), first_name=first, last_name=last, **fields)


def sheet(day: datetime.date, finalized: bool = True, **crew: Member) -> Logsheet:
    """A new logsheet, at an airfield of its own so that several can share a day."""
    airfield = AirfieldFactory(identifier=f"T{next(_airfields)}", name="Test field")
    return LogsheetFactory(log_date=day, airfield=airfield, finalized=finalized, created_by=None, **crew)


def fly(pilot: Member, day: datetime.date = IN_WINDOW, finalized: bool = True, **roles: Member) -> Flight:
    return FlightFactory(pilot=pilot, logsheet=sheet(day, finalized), **roles)


@pytest.fixture
def board() -> list[Member]:
    return [member("Bea Board", director=True), member("Dan Duty", duty_officer=True)]


def reported(result_out: str) -> None:
    assert "📊 [report_duty_delinquents]" in result_out


def delinquent_names(**options: Any) -> list[str]:
    rules = DelinquencyRules(TODAY, **options)
    return [row.name for row in find_delinquents(rules).delinquents]


def stored_reports(media_root: Path) -> list[Path]:
    return sorted(media_root.rglob("*.csv")) if media_root.exists() else []


def attached_csv(message: ReceivedMessage) -> tuple[str, list[list[str]]]:
    """The name and rows of the one CSV attached to a report email."""
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/csv"
    return str(attachment.get_filename()), list(csv.reader(io.StringIO(attachment.get_content())))


# --- The report ---------------------------------------------------------------------------
def test_reports_flyers_without_duty_to_the_board_and_duty_officers(
    smtp_settings: SMTPServer, board: list[Member], media: Path
) -> None:
    slacker = member("Sam Slacker", joined_club=datetime.date(2024, 2, 10))
    for day in (datetime.date(2026, 1, 4), datetime.date(2026, 10, 18), datetime.date(2026, 3, 1)):
        fly(slacker, day)
    helper = member("Hal Helper")
    fly(helper)
    sheet(IN_WINDOW, duty_officer=helper)
    member("Gus Grounded")  # flies not at all
    board_dutyless = board[0]
    fly(board_dutyless)  # the board member flew without duty: reported too

    result = run_command(COMMAND)

    assert result.code == 0, result.err
    assert "📊 [report_duty_delinquents] Analyzed 5 members (3 flying since 2025-12-01): 2 delinquent" in (
        result.out
    )
    assert "📊 [report_duty_delinquents] Found 2 delinquent members among 3 flying · 📧 sent 2" in result.out
    assert smtp_settings.recipients() == ["bea.board@example.org", "dan.duty@example.org"]
    assert all(len(rcpts) == 1 for _, rcpts in smtp_settings.envelopes)  # each their own copy
    assert (
        smtp_settings.subjects()
        == ["Skyline Soaring Club duty report December 2026: 2 members flying without duty"] * 2
    )
    message = smtp_settings.messages[0]
    text = message.get_body(("plain",)).get_content()
    assert "Hello Bea," in text
    assert "between 1 Dec 2025 and 1 Dec 2026" in text
    assert "- Sam Slacker: 3 flights, last on 18 Oct 2026, member for 2 years 9 months" in text
    assert "- Bea Board: 1 flight, last on 13 Jun 2026, member for 11 years 8 months" in text
    assert text.index("Sam Slacker") < text.index("Bea Board")  # most flights first
    assert "Hal Helper" not in text and "Gus Grounded" not in text
    html = message.get_body(("html",)).get_content()
    assert '<td style="padding: 4px;">Sam Slacker</td>' in html
    (csv_path,) = stored_reports(media)
    link = re.search(r"The list as a spreadsheet \(CSV\): (\S+)", text)
    assert link, text
    url = link.group(1)
    assert url == f"https://club.example.org/media/{csv_path.relative_to(media).as_posix()}"
    assert f'href="{url}"' in html
    for received in smtp_settings.messages:  # every copy carries the whole list too
        name, lines = attached_csv(received)
        assert name == "duty-delinquents-2026-12-01.csv"
        assert [line[0] for line in lines] == ["member", "Sam Slacker", "Bea Board"]
    rows = Delivery.objects.values_list("kind", "status")
    assert sorted(rows) == [("duty_delinquents:2026-12", "sent")] * 2


def test_the_csv_lists_every_column_and_sits_under_an_unguessable_name(
    smtp_settings: SMTPServer, board: list[Member], media: Path
) -> None:
    ann = member("Ann Often", joined_club=datetime.date(2020, 5, 20))
    for day in (datetime.date(2026, 2, 2), datetime.date(2026, 2, 9)):
        fly(ann, day)
    newcomer = member("Ned Unknown", joined_club=None)
    fly(newcomer, datetime.date(2026, 11, 30))
    tricky = member("=cmd Evil")
    fly(tricky, datetime.date(2026, 1, 1))

    assert run_command(COMMAND).code == 0

    (csv_path,) = stored_reports(media)
    name = csv_path.relative_to(media).as_posix()
    assert re.fullmatch(r"reports/duty-delinquents/2026-12-01-[A-Za-z0-9_-]{22,}\.csv", name)
    with default_storage.open(name) as stored:
        rows = list(csv.reader(io.StringIO(stored.read().decode("utf-8"))))
    assert rows == [
        ["member", "email", "flights", "last flight", "member since", "membership months"],
        ["Ann Often", "ann.often@example.org", "2", "2026-02-09", "2020-05-20", "78"],
        ["Ned Unknown", "ned.unknown@example.org", "1", "2026-11-30", "", ""],
        ["'=cmd Evil", "'=cmd.evil@example.org", "1", "2026-01-01", "2015-04-01", "140"],
    ]
    text = smtp_settings.messages[0].get_body(("plain",)).get_content()
    assert "- Ned Unknown: 1 flight, last on 30 Nov 2026, member for unknown" in text


def test_without_a_public_storage_the_csv_is_attached_and_nothing_is_saved_or_linked(
    smtp_settings: SMTPServer, board: list[Member], local_media: Path
) -> None:
    """The web app serves the local media folder to staff only, and a pod's folder is gone with
    the pod: a link there would fail for most readers, so the list travels with the email."""
    fly(member("Sam Slacker", joined_club=datetime.date(2024, 2, 10)))
    fly(member("=cmd Evil"), datetime.date(2026, 1, 1))

    result = run_command(COMMAND)

    assert result.code == 0, result.err
    assert "Attached the list as CSV (2 rows)" in result.out and "csv_saved" not in result.out
    assert stored_reports(local_media) == []
    assert smtp_settings.recipients() == ["bea.board@example.org", "dan.duty@example.org"]
    for message in smtp_settings.messages:
        name, rows = attached_csv(message)
        assert name == "duty-delinquents-2026-12-01.csv"
        assert rows == [
            ["member", "email", "flights", "last flight", "member since", "membership months"],
            ["Sam Slacker", "sam.slacker@example.org", "1", "2026-06-13", "2024-02-10", "33"],
            ["'=cmd Evil", "'=cmd.evil@example.org", "1", "2026-01-01", "2015-04-01", "140"],
        ]
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert "/media/" not in text + html and "spreadsheet (CSV):" not in text
        assert "attached" in text and "attached" in html


def test_without_a_public_storage_slack_gets_the_counts_and_no_link(
    smtp_settings: SMTPServer, slack_settings: FakeSlack, board: list[Member], local_media: Path
) -> None:
    fly(member("Sam Slacker"))
    assert run_command(COMMAND).code == 0
    [post] = slack_settings.posts
    assert post.startswith("*Skyline Soaring Club duty report December 2026*: 1 member flew since")
    assert "http" not in post and "Sam" not in post


def test_a_dry_run_without_a_public_storage_says_the_csv_would_be_attached(
    smtp_settings: SMTPServer, board: list[Member], local_media: Path
) -> None:
    fly(member("Sam Slacker"))
    result = run_command(COMMAND, "--dry-run")
    assert result.code == 0
    assert "🔍 [report_duty_delinquents] Would attach the list as CSV (1 rows) to each email" in result.out
    assert "Would save" not in result.out
    assert smtp_settings.messages == [] and stored_reports(local_media) == []


# --- The rules --------------------------------------------------------------------------------
def test_a_flight_on_the_first_day_of_the_window_counts_and_the_day_before_does_not() -> None:
    fly(member("On Start"), WINDOW_START)
    fly(member("Day Before"), WINDOW_START - datetime.timedelta(days=1))
    fly(member("On Today"), TODAY)
    assert delinquent_names() == ["On Today", "On Start"]


def test_duty_on_the_first_day_of_the_window_counts_and_the_day_before_does_not() -> None:
    on_start, before = member("On Start"), member("Day Before")
    for pilot in (on_start, before):
        fly(pilot)
    sheet(WINDOW_START, tow_pilot=on_start)
    sheet(WINDOW_START - datetime.timedelta(days=1), tow_pilot=before)
    assert delinquent_names() == ["Day Before"]


@pytest.mark.parametrize("role", [role for role, _ in CREW_ROLES])
def test_every_crew_role_of_a_logsheet_is_duty(role: str) -> None:
    crew = member("Crew Member")
    fly(crew)
    roles: dict[str, Any] = {role: crew}
    sheet(datetime.date(2026, 2, 1), **roles)
    assert delinquent_names() == []


@pytest.mark.parametrize("role", ["instructor", "tow_pilot"])
def test_instructing_or_towing_a_flight_is_duty(role: str) -> None:
    helper, student = member("Ivy Instructor"), member("Stu Student")
    fly(helper)
    roles: dict[str, Any] = {role: helper}
    fly(student, **roles)  # helper's only duty: on someone else's flight
    assert delinquent_names() == ["Stu Student"]


def test_duty_and_flights_on_an_unfinalized_logsheet_do_not_count() -> None:
    pilot = member("Pat Pilot")
    fly(pilot)
    sheet(IN_WINDOW, finalized=False, duty_officer=pilot)
    fly(member("Stu Student"), finalized=False, instructor=pilot)
    fly(member("Only Draft"), finalized=False)
    assert delinquent_names() == ["Pat Pilot"]


def test_membership_of_exactly_the_minimum_counts_and_one_day_less_does_not() -> None:
    fly(member("Three Months", joined_club=datetime.date(2026, 9, 1)))
    fly(member("Two Months", joined_club=datetime.date(2026, 9, 2)))
    fly(member("Unknown Join", joined_club=None))
    assert sorted(delinquent_names()) == ["Three Months", "Unknown Join"]
    assert sorted(delinquent_names(min_membership_months=0)) == ["Three Months", "Two Months", "Unknown Join"]


def test_the_treasurer_and_inactive_members_are_not_reported() -> None:
    fly(member("Tess Treasurer", treasurer=True))
    fly(member("Ina Inactive", membership_status="inactive"))
    fly(member("Dee Deceased", membership_status="deceased"))
    fly(member("Lou Locked", is_active=False))
    fly(member("Stu Student", membership_status="student"))
    assert delinquent_names() == ["Stu Student"]


def test_min_flights_two_needs_two_flights_in_the_window(board: list[Member]) -> None:
    once, twice = member("Once Only"), member("Twice Over")
    fly(once)
    fly(once, WINDOW_START - datetime.timedelta(days=3))  # outside: does not count
    fly(twice, WINDOW_START)
    fly(twice, TODAY)
    assert delinquent_names(min_flights=2) == ["Twice Over"]
    result = run_command(COMMAND, "--min-flights", "2", "--dry-run")
    assert "Analyzed 4 members (1 flying since 2025-12-01): 1 delinquent" in result.out


def test_lookback_months_sets_the_window() -> None:
    fly(member("Summer Flyer"), datetime.date(2026, 6, 1))
    fly(member("Autumn Flyer"), datetime.date(2026, 9, 1))
    assert delinquent_names(lookback_months=3) == ["Autumn Flyer"]


def test_sorted_by_flights_then_latest_flight_then_name() -> None:
    a, b, c = member("Zed Alpha"), member("Amy Beta"), member("Bob Beta")
    for day in (datetime.date(2026, 1, 1), datetime.date(2026, 1, 2)):
        fly(c, day)
    fly(a, datetime.date(2026, 5, 1))
    fly(b, datetime.date(2026, 5, 1))
    assert delinquent_names() == ["Bob Beta", "Zed Alpha", "Amy Beta"]


def test_the_window_and_membership_use_the_clubs_today_not_utcs(
    smtp_settings: SMTPServer, board: list[Member], media: Path
) -> None:
    # 03:00 UTC on 1 Dec is 22:00 on 30 Nov in New York: the window starts 30 Nov 2025, and a
    # member who joined on 31 Aug has 2 whole months, not the 3 that the UTC date would give.
    fly(member("Edge Flyer"), datetime.date(2025, 11, 30))
    fly(member("Newish Member", joined_club=datetime.date(2026, 8, 31)))
    with time_machine.travel(datetime.datetime(2026, 12, 1, 3, tzinfo=datetime.UTC), tick=False):
        result = run_command(COMMAND)
    assert result.code == 0, result.err
    text = smtp_settings.messages[0].get_body(("plain",)).get_content()
    assert "between 30 Nov 2025 and 30 Nov 2026" in text
    assert "Edge Flyer" in text and "Newish Member" not in text
    assert smtp_settings.subjects()[0].startswith("Skyline Soaring Club duty report November 2026")
    assert {(d.day, d.kind) for d in Delivery.objects.all()} == {  # keyed by the club's month
        (datetime.date(2026, 11, 1), "duty_delinquents:2026-11")
    }
    (csv_path,) = stored_reports(media)
    assert csv_path.name.startswith("2026-11-30-")


def test_a_very_long_list_is_cut_in_the_email_but_whole_in_the_csv(
    smtp_settings: SMTPServer, board: list[Member], media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("duty_roster.notices.delinquency.EMAIL_LIST_LIMIT", 2)
    for name, day in (("Ann One", 3), ("Bob Two", 2), ("Cy Three", 1)):
        fly(member(name), datetime.date(2026, 5, day))
    assert run_command(COMMAND).code == 0
    message = smtp_settings.messages[0]
    text = message.get_body(("plain",)).get_content()
    assert "- Ann One:" in text and "- Bob Two:" in text and "Cy Three" not in text
    assert "- … and 1 more, listed in the spreadsheet" in text
    assert "… and 1 more, listed in the spreadsheet" in message.get_body(("html",)).get_content()
    (csv_path,) = stored_reports(media)
    assert "Cy Three" in csv_path.read_text()


# --- Recipients ---------------------------------------------------------------------------------
def test_recipients_are_active_board_members_and_duty_officers_with_an_email(
    smtp_settings: SMTPServer,
) -> None:
    member("Both Roles", director=True, duty_officer=True)
    member("Old Director", director=True, membership_status="inactive")
    member("No Mail", duty_officer=True, email="")
    member("Plain Member")
    fly(member("Sam Slacker"))
    result = run_command(COMMAND)
    assert result.code == 0
    assert smtp_settings.recipients() == ["both.roles@example.org"]
    assert "⚠️ [report_duty_delinquents] No Mail has no email address: not sent the report" in result.out
    assert "no_email=1" in result.out


def test_without_any_recipient_nothing_is_saved_or_sent(smtp_settings: SMTPServer, media: Path) -> None:
    fly(member("Sam Slacker"))
    result = run_command(COMMAND)
    assert result.code == 0
    assert "⚠️ [report_duty_delinquents] No active board member or duty officer has an email address" in (
        result.out
    )
    assert "Found 1 delinquent member among 1 flying · 📧 sent 0" in result.out
    assert smtp_settings.messages == [] and stored_reports(media) == []


# --- Nothing to report, dry run, reruns, bad options -----------------------------------------
def test_no_delinquents_sends_nothing_and_saves_nothing(
    smtp_settings: SMTPServer, board: list[Member], media: Path
) -> None:
    dutiful = member("Dot Dutiful")
    fly(dutiful)
    sheet(IN_WINDOW, assistant_duty_officer=dutiful)
    result = run_command(COMMAND)
    assert result.code == 0
    assert "Found no delinquent members among 1 flying: nothing to report · 📧 sent 0" in result.out
    assert smtp_settings.messages == [] and stored_reports(media) == []
    assert not Delivery.objects.exists()


def test_a_dry_run_logs_the_findings_and_saves_and_sends_nothing(
    smtp_settings: SMTPServer, board: list[Member], media: Path
) -> None:
    fly(member("Sam Slacker"))
    result = run_command(COMMAND, "--dry-run", "--verbosity", "2")
    assert result.code == 0
    assert "📊 [report_duty_delinquents] Analyzed 3 members (1 flying since 2025-12-01): 1 delinquent" in (
        result.out
    )
    assert "📊 [report_duty_delinquents] Sam Slacker: 1 flight, last 2026-06-13, member for 11 years" in (
        result.out
    )
    assert "🔍 [report_duty_delinquents] Would save the list as CSV (1 rows)" in result.out
    assert "📧 would send 2" in result.out
    assert smtp_settings.messages == [] and stored_reports(media) == []
    assert not Delivery.objects.exists()


def test_a_rerun_sends_nothing_twice_and_saves_no_second_csv(
    smtp_settings: SMTPServer, board: list[Member], media: Path
) -> None:
    fly(member("Sam Slacker"))
    assert run_command(COMMAND).code == 0
    again = run_command(COMMAND)
    assert again.code == 0 and "📧 sent 0, 2 already sent" in again.out
    assert len(smtp_settings.messages) == 2 and len(stored_reports(media)) == 1
    resent = run_command(COMMAND, "--resend")
    assert "📧 sent 2" in resent.out and len(stored_reports(media)) == 2


def test_a_rerun_after_a_failed_send_sends_only_the_missing_copy(
    smtp_settings: SMTPServer, board: list[Member], media: Path
) -> None:
    fly(member("Sam Slacker"))
    smtp_settings.reject_recipients.add("dan.duty@example.org")
    assert run_command(COMMAND).code == ExitCode.FAILED
    smtp_settings.reject_recipients.clear()
    retry = run_command(COMMAND)
    assert retry.code == 0 and "📧 sent 1, 1 already sent" in retry.out
    assert smtp_settings.recipients() == ["bea.board@example.org", "dan.duty@example.org"]
    assert len(stored_reports(media)) == 2  # the retry links a fresh copy of the same list


def test_a_rerun_on_the_second_after_a_partial_failure_on_the_first_sends_only_the_missing_copy(
    smtp_settings: SMTPServer, slack_settings: FakeSlack, board: list[Member], media: Path
) -> None:
    """The ledger keys the report by its month, not by the day it ran."""
    fly(member("Sam Slacker"))
    smtp_settings.reject_recipients.add("dan.duty@example.org")
    assert run_command(COMMAND).code == ExitCode.FAILED
    smtp_settings.reject_recipients.clear()
    with time_machine.travel(RUN_AT + datetime.timedelta(days=1), tick=False):
        retry = run_command(COMMAND)
    assert retry.code == 0, retry.err
    assert "📧 sent 1, 2 already sent" in retry.out
    assert smtp_settings.recipients() == ["bea.board@example.org", "dan.duty@example.org"]
    assert len(slack_settings.posts) == 1
    assert set(Delivery.objects.values_list("day", flat=True)) == {TODAY}
    with time_machine.travel(RUN_AT + datetime.timedelta(days=31), tick=False):  # January's report
        assert "📧 sent 3" in run_command(COMMAND).out


def test_a_summary_with_the_csv_link_is_posted_to_slack_once(
    smtp_settings: SMTPServer, slack_settings: FakeSlack, board: list[Member], media: Path
) -> None:
    fly(member("Sam Slacker"))
    fly(member("Sue Slacker"))
    result = run_command(COMMAND)
    assert result.code == 0, result.err
    (csv_path,) = stored_reports(media)
    assert slack_settings.posts == [
        "*Skyline Soaring Club duty report December 2026*: 2 members flew since 2025-12-01 without doing "
        "duty (of 2 flying, 4 subject to duty). List: "
        f"https://club.example.org/media/{csv_path.relative_to(media).as_posix()}"
    ]
    assert "Sam" not in slack_settings.posts[0]  # a summary: no names in the channel
    assert "📧 sent 3" in result.out
    again = run_command(COMMAND)
    assert "📧 sent 0, 3 already sent" in again.out
    assert len(slack_settings.posts) == 1 and len(stored_reports(media)) == 1


def test_a_slack_post_still_missing_on_a_rerun_gets_the_csv_link(
    smtp_settings: SMTPServer, slack_settings: FakeSlack, board: list[Member], media: Path
) -> None:
    fly(member("Sam Slacker"))
    slack_settings.script += [503] * 4
    assert run_command(COMMAND).code == ExitCode.FAILED
    retry = run_command(COMMAND)
    assert retry.code == 0 and "📧 sent 1, 2 already sent" in retry.out
    assert len(smtp_settings.messages) == 2 and len(slack_settings.posts) == 1
    assert "List: https://club.example.org/media/reports/duty-delinquents/" in slack_settings.posts[0]


@pytest.mark.parametrize(
    "arguments",
    [
        ("--lookback-months", "0"),
        ("--lookback-months", "-3"),
        ("--lookback-months", "twelve"),
        ("--lookback-months", "1201"),
        ("--min-flights", "0"),
        ("--min-flights", "1.5"),
        ("--min-membership-months", "-1"),
        ("--min-membership-months", "x"),
    ],
)
def test_bad_options_exit_2_with_one_line_and_change_nothing(
    smtp_settings: SMTPServer, board: list[Member], media: Path, arguments: tuple[str, str]
) -> None:
    fly(member("Sam Slacker"))
    result = run_command(COMMAND, *arguments)
    assert result.code == ExitCode.USAGE
    assert len(result.err.strip().splitlines()) == 1
    assert arguments[0] in result.err
    assert smtp_settings.messages == [] and stored_reports(media) == []
    assert not Delivery.objects.exists()


# --- Queries do not grow with the data ---------------------------------------------------------
def build_club(scale: int) -> None:
    for i in range(3 * scale):
        member(f"Board{i} Member", director=True)
    for i in range(5 * scale):
        pilot = member(f"Pilot{i} Slacker", joined_club=None if i % 2 else datetime.date(2019, 1, 1))
        fly(pilot)
        fly(pilot, datetime.date(2026, 3, 3))
    for i in range(2 * scale):
        helper = member(f"Helper{i} Good")
        fly(helper, instructor=helper)


def test_the_query_count_does_not_grow_with_the_club() -> None:
    counts = []
    for scale in (1, 10):
        Flight.objects.all().delete()
        Logsheet.objects.all().delete()
        Member.objects.all().delete()
        build_club(scale)
        with CaptureQueriesContext(connection) as queries:
            result = run_command(COMMAND, "--dry-run")
        assert f"{5 * scale} delinquent" in result.out
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- The pieces ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (datetime.date(2026, 12, 1), 12, datetime.date(2025, 12, 1)),
        (datetime.date(2026, 3, 31), 1, datetime.date(2026, 2, 28)),
        (datetime.date(2028, 3, 31), 1, datetime.date(2028, 2, 29)),
        (datetime.date(2026, 1, 15), 1, datetime.date(2025, 12, 15)),
        (datetime.date(2026, 5, 31), 0, datetime.date(2026, 5, 31)),
        (datetime.date(2026, 5, 31), 27, datetime.date(2024, 2, 29)),
    ],
)
def test_months_before(day: datetime.date, months: int, expected: datetime.date) -> None:
    assert months_before(day, months) == expected


def test_the_join_date_cutoff_agrees_with_membership_months() -> None:
    today = datetime.date(2026, 3, 31)
    probe = Member(joined_club=None)
    for minimum in (1, 3, 13):
        cutoff = DelinquencyRules(today, min_membership_months=minimum).joined_by
        assert cutoff is not None
        for offset in range(-40, 500):
            probe.joined_club = today - datetime.timedelta(days=offset)
            months = probe.membership_months(today)
            assert (months is not None and months >= minimum) == (probe.joined_club <= cutoff)


@pytest.mark.parametrize(
    ("months", "text"),
    [
        (None, "unknown"),
        (0, "0 months"),
        (1, "1 month"),
        (12, "1 year"),
        (14, "1 year 2 months"),
        (25, "2 years 1 month"),
    ],
)
def test_membership_length(months: int | None, text: str) -> None:
    assert membership_length(months) == text


def test_an_absolute_storage_url_is_kept_and_a_relative_one_gets_the_site(settings: Any) -> None:
    settings.SITE_URL = "https://club.example.org"
    assert absolute_url("https://bucket.example.com/r/x.csv") == "https://bucket.example.com/r/x.csv"
    assert absolute_url("/media/r/x.csv") == "https://club.example.org/media/r/x.csv"
    assert absolute_url("media/r/x.csv") == "https://club.example.org/media/r/x.csv"


def test_a_recipient_who_opted_out_does_not_make_every_rerun_save_a_csv(
    smtp_settings: SMTPServer, board: list[Member], media: Path
) -> None:
    from notifications.models import NoticeKind, OptOut

    fly(member("Sam Slacker"))
    OptOut.objects.create(
        member=board[0], kind=NoticeKind.objects.get(key="duty_delinquents"), channel="email"
    )
    assert run_command(COMMAND).code == 0
    assert run_command(COMMAND).code == 0
    assert len(smtp_settings.messages) == 1 and len(stored_reports(media)) == 1
