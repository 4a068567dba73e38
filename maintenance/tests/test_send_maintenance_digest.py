"""send_maintenance_digest: open issues and coming deadlines, weekly, to the people who fix them."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from logsheet.models import Glider, Towplane
from logsheet.tests.factories import GliderFactory, TowplaneFactory
from maintenance.digest import build_digest, digest_recipients
from maintenance.models import AircraftMeister, MaintenanceDeadline, MaintenanceIssue
from maintenance.tests.factories import (
    AircraftMeisterFactory,
    MaintenanceDeadlineFactory,
    MaintenanceIssueFactory,
)
from members.models import Member
from members.tests.factories import MemberFactory
from notifications.models import Delivery, NoticeKind
from testsupport.commands import run_command
from testsupport.notifications import FakeSlack
from testsupport.smtp import SMTPServer
from utils.exitcodes import ExitCode

pytestmark = pytest.mark.django_db

COMMAND = "send_maintenance_digest"
# Sunday 22 November 2026, 14:00 UTC = 09:00 in New York.
RUN_AT = datetime.datetime(2026, 11, 22, 14, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 11, 22)


@pytest.fixture(autouse=True)
def pinned_time() -> Iterator[None]:
    with time_machine.travel(RUN_AT, tick=False):
        yield


def member(name: str, **fields: Any) -> Member:
    first, _, last = name.partition(" ")
    return MemberFactory(username=name.lower().replace(" ", "."), first_name=first, last_name=last, **fields)


def glider(n_number: str) -> Glider:
    return GliderFactory(n_number=n_number, make="Schleicher", model="ASK-21")


def issue(
    aircraft: Glider | Towplane, description: str, day: datetime.date, **fields: Any
) -> MaintenanceIssue:
    where: dict[str, Glider | Towplane | None] = (
        {"glider": aircraft} if isinstance(aircraft, Glider) else {"glider": None, "towplane": aircraft}
    )
    return MaintenanceIssueFactory(description=description, report_date=day, **where, **fields)


def deadline(aircraft: Glider | Towplane, due: datetime.date, **fields: Any) -> MaintenanceDeadline:
    where: dict[str, Glider | Towplane | None] = (
        {"glider": aircraft} if isinstance(aircraft, Glider) else {"glider": None, "towplane": aircraft}
    )
    return MaintenanceDeadlineFactory(due_date=due, **where, **fields)


def meister(person: Member, aircraft: Glider | Towplane) -> AircraftMeister:
    where: dict[str, Glider | Towplane | None] = (
        {"glider": aircraft} if isinstance(aircraft, Glider) else {"glider": None, "towplane": aircraft}
    )
    return AircraftMeisterFactory(member=person, **where)


@pytest.fixture
def team() -> list[Member]:
    return [member("Max Mechanic", maintenance_team=True), member("Tina Tools", maintenance_team=True)]


def text_of(smtp: SMTPServer, address: str) -> str:
    (message,) = [m for m in smtp.messages if address in str(m["To"])]
    return message.get_body(("plain",)).get_content()


# --- What is listed -----------------------------------------------------------------------------
def test_open_issues_are_listed_grounding_first_then_oldest(
    smtp_settings: SMTPServer, team: list[Member]
) -> None:
    ask, pawnee = glider("N101G"), TowplaneFactory(n_number="N501T", make="Piper", model="PA-25 Pawnee")
    reporter = member("Rita Reporter")
    issue(ask, "Tail wheel worn", datetime.date(2026, 10, 1), reported_by=reporter)
    issue(
        pawnee,
        "Oil leak at the\nrocker cover",
        datetime.date(2026, 11, 20),
        grounded=True,
        reported_by=reporter,
    )
    issue(ask, "Canopy latch sticks", datetime.date(2026, 11, 1), reported_by=None)
    issue(ask, "Fixed long ago", datetime.date(2026, 1, 1), resolved=True)

    result = run_command(COMMAND)

    assert result.code == 0, result.err
    assert (
        "📊 [send_maintenance_digest] Found 3 open issues (1 grounding) and no deadlines due by 2026-12-22 "
        "· 📧 sent 2" in result.out
    )
    assert smtp_settings.recipients() == ["max.mechanic@example.org", "tina.tools@example.org"]
    assert all(len(rcpts) == 1 for _, rcpts in smtp_settings.envelopes)  # each their own copy
    assert (
        smtp_settings.subjects()[0]
        == "Skyline Soaring Club maintenance digest: 3 open issues (1 grounded), 0 deadlines"
    )
    text = text_of(smtp_settings, "max.mechanic@example.org")
    assert "Hello Max," in text
    assert "OPEN ISSUES: 3, 1 grounded" in text
    oil = (
        "- [GROUNDED] N501T Piper PA-25 Pawnee: Oil leak at the\nrocker cover\n"
        "  reported 20 Nov 2026 by Rita Reporter"
    )
    tail = "- N101G Schleicher ASK-21: Tail wheel worn\n  reported 1 Oct 2026 by Rita Reporter"
    latch = "- N101G Schleicher ASK-21: Canopy latch sticks\n  reported 1 Nov 2026 by unknown"
    normalised = text.replace("\r\n", "\n")
    assert normalised.index(oil) < normalised.index(tail) < normalised.index(latch)
    assert "Fixed long ago" not in text
    assert "You look after" not in text
    html = smtp_settings.messages[0].get_body(("html",)).get_content()
    assert "Oil leak at the<br>rocker cover" in html and "GROUNDED" in html
    assert Delivery.objects.filter(kind="maintenance_digest", status="sent").count() == 2


def test_deadlines_overdue_or_within_the_days_are_listed_and_overdue_marked(
    smtp_settings: SMTPServer, team: list[Member]
) -> None:
    ask = glider("N101G")
    deadline(ask, datetime.date(2026, 11, 21), kind="transponder")  # yesterday: overdue
    deadline(ask, TODAY, kind="elt", description="Battery pack")  # today: due, not overdue
    deadline(ask, datetime.date(2026, 12, 22), kind="annual")  # today + 30: in
    deadline(ask, datetime.date(2026, 12, 23), kind="parachute")  # today + 31: out

    result = run_command(COMMAND)

    assert result.code == 0
    assert "Found no open issues and 3 deadlines due by 2026-12-22 (1 overdue) · 📧 sent 2" in result.out
    text = text_of(smtp_settings, "tina.tools@example.org").replace("\r\n", "\n")
    assert "DEADLINES OVERDUE OR DUE BY 22 DEC 2026: 3, 1 overdue" in text
    assert "- [OVERDUE] N101G Schleicher ASK-21: Transponder check\n  due 21 Nov 2026, 1 day ago" in text
    assert "- N101G Schleicher ASK-21: ELT battery (Battery pack)\n  due 22 Nov 2026, today" in text
    assert "- N101G Schleicher ASK-21: Annual inspection\n  due 22 Dec 2026, in 30 days" in text
    assert "Parachute" not in text
    assert "No open issues." in text
    assert smtp_settings.subjects()[0].endswith("0 open issues, 3 deadlines (1 overdue)")


def test_deadline_days_sets_the_horizon(smtp_settings: SMTPServer, team: list[Member]) -> None:
    ask = glider("N101G")
    deadline(ask, datetime.date(2026, 11, 29), kind="annual")
    deadline(ask, datetime.date(2026, 11, 30), kind="elt")
    result = run_command(COMMAND, "--deadline-days", "7")
    assert "Found no open issues and 1 deadline due by 2026-11-29" in result.out
    assert "ELT" not in text_of(smtp_settings, "max.mechanic@example.org")


# --- Who receives it ---------------------------------------------------------------------------
def test_the_team_and_the_meisters_of_aircraft_with_open_issues_each_get_one_copy(
    smtp_settings: SMTPServer, team: list[Member]
) -> None:
    broken, due, fine = glider("N101G"), glider("N202G"), glider("N303G")
    issue(broken, "Canopy latch sticks", datetime.date(2026, 11, 1))
    deadline(due, datetime.date(2026, 12, 1))
    meister(member("Mia Meister"), broken)
    meister(member("Dee Deadline"), due)  # only a deadline on her aircraft: not a recipient
    meister(member("Fred Fine"), fine)
    meister(team[0], broken)  # team member and meister: one copy
    meister(member("Olga Old", membership_status="inactive"), broken)
    member("Ian Inactive", maintenance_team=True, is_active=False)
    member("Nora Nomail", maintenance_team=True, email="")

    result = run_command(COMMAND)

    assert result.code == 0
    assert smtp_settings.recipients() == [
        "max.mechanic@example.org",
        "mia.meister@example.org",
        "tina.tools@example.org",
    ]
    assert "⚠️ [send_maintenance_digest] Nora Nomail has no email address: not sent the digest" in result.out
    assert "📊 [send_maintenance_digest] 1 open issue and 1 deadline due by 2026-12-22; 3 recipients" in (
        result.out
    )
    assert "no_email=1" in result.out


def test_a_meister_is_told_which_listed_aircraft_are_theirs(
    smtp_settings: SMTPServer, team: list[Member]
) -> None:
    broken, due = glider("N101G"), glider("N202G")
    issue(broken, "Canopy latch sticks", datetime.date(2026, 11, 1))
    issue(glider("N909G"), "Someone else's", datetime.date(2026, 11, 2))
    deadline(due, datetime.date(2026, 12, 1))
    mia = member("Mia Meister")
    meister(mia, broken)
    meister(mia, due)

    assert run_command(COMMAND).code == 0

    text = text_of(smtp_settings, "mia.meister@example.org")
    assert "You look after N101G Schleicher ASK-21, N202G Schleicher ASK-21: marked with * below." in text
    assert "- N101G Schleicher ASK-21 *: Canopy latch sticks" in text
    assert "- N909G Schleicher ASK-21: Someone else's" in text
    assert "- N202G Schleicher ASK-21 *: Annual inspection" in text
    html = next(m for m in smtp_settings.messages if "mia" in str(m["To"])).get_body(("html",)).get_content()
    assert "N101G Schleicher ASK-21 ★" in html
    assert " *:" not in text_of(smtp_settings, "max.mechanic@example.org")


# --- Nothing open, club time, dry run, reruns, bad options -----------------------------------
def test_nothing_open_sends_nothing(smtp_settings: SMTPServer, team: list[Member]) -> None:
    ask = glider("N101G")
    issue(ask, "Fixed", datetime.date(2026, 11, 1), resolved=True)
    deadline(ask, datetime.date(2027, 3, 1))
    meister(member("Mia Meister"), ask)
    result = run_command(COMMAND)
    assert result.code == 0
    assert (
        "📊 [send_maintenance_digest] Found no open issues and no deadlines due by 2026-12-22: "
        "nothing to send · 📧 sent 0" in result.out
    )
    assert smtp_settings.messages == [] and not Delivery.objects.exists()


def test_today_is_the_clubs_not_utcs(smtp_settings: SMTPServer, team: list[Member]) -> None:
    # 03:00 UTC on Sunday 22 Nov is 22:00 on Saturday 21 Nov in New York.
    deadline(glider("N101G"), datetime.date(2026, 11, 21), kind="annual")
    deadline(glider("N202G"), datetime.date(2026, 12, 21), kind="elt")  # today + 30 in New York
    with time_machine.travel(datetime.datetime(2026, 11, 22, 3, tzinfo=datetime.UTC), tick=False):
        result = run_command(COMMAND)
    assert "Found no open issues and 2 deadlines due by 2026-12-21 · 📧 sent 2" in result.out
    text = text_of(smtp_settings, "max.mechanic@example.org").replace("\r\n", "\n")
    assert "- N101G Schleicher ASK-21: Annual inspection\n  due 21 Nov 2026, today" in text
    assert "[OVERDUE]" not in text
    # Keyed by the club's week: the one that began on Sunday 15 Nov (UTC's would be the 22nd's).
    assert {d.day for d in Delivery.objects.all()} == {datetime.date(2026, 11, 15)}


def test_a_dry_run_sends_and_records_nothing(smtp_settings: SMTPServer, team: list[Member]) -> None:
    issue(glider("N101G"), "Canopy latch sticks", datetime.date(2026, 11, 1), grounded=True)
    result = run_command(COMMAND, "--dry-run")
    assert result.code == 0
    assert "🔍 [send_maintenance_digest] Would send email" in result.out and "to Max Mechanic" in result.out
    assert (
        "Found 1 open issue (1 grounding) and no deadlines due by 2026-12-22 · 📧 would send 2" in result.out
    )
    assert smtp_settings.messages == [] and not Delivery.objects.exists()


def test_a_rerun_sends_nothing_twice(smtp_settings: SMTPServer, team: list[Member]) -> None:
    issue(glider("N101G"), "Canopy latch sticks", datetime.date(2026, 11, 1))
    assert run_command(COMMAND).code == 0
    again = run_command(COMMAND)
    assert again.code == 0 and "📧 sent 0, 2 already sent" in again.out
    assert len(smtp_settings.messages) == 2
    with time_machine.travel(RUN_AT + datetime.timedelta(days=7), tick=False):
        assert "📧 sent 2" in run_command(COMMAND).out  # next week is a new digest
    assert len(smtp_settings.messages) == 4


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1.5", "3661"])
def test_bad_deadline_days_exit_2_with_one_line_and_send_nothing(
    smtp_settings: SMTPServer, team: list[Member], value: str
) -> None:
    issue(glider("N101G"), "Canopy latch sticks", datetime.date(2026, 11, 1))
    result = run_command(COMMAND, "--deadline-days", value)
    assert result.code == ExitCode.USAGE
    assert len(result.err.strip().splitlines()) == 1 and "--deadline-days" in result.err
    assert smtp_settings.messages == [] and not Delivery.objects.exists()


# --- Queries do not grow with the data --------------------------------------------------------
def build_fleet(scale: int) -> None:
    for i in range(2 * scale):
        member(f"Team{i} Member", maintenance_team=True)
    for i in range(3 * scale):
        ask = glider(f"N{i}G")
        tug = TowplaneFactory(n_number=f"N{i}T")
        reporter = member(f"Reporter{i} Member")
        issue(
            ask, "Canopy latch sticks", datetime.date(2026, 11, 1), reported_by=reporter, grounded=i % 2 == 0
        )
        issue(tug, "Oil leak", datetime.date(2026, 10, 1), reported_by=reporter)
        deadline(ask, datetime.date(2026, 12, 1))
        deadline(tug, datetime.date(2026, 11, 1))
        meister(member(f"Meister{i} Member"), ask)
        meister(member(f"Tugmeister{i} Member"), tug)


def test_the_query_count_does_not_grow_with_the_fleet() -> None:
    counts = []
    for scale in (1, 10):
        for model in (MaintenanceIssue, MaintenanceDeadline, AircraftMeister, Glider, Towplane, Member):
            model.objects.all().delete()
        build_fleet(scale)
        with CaptureQueriesContext(connection) as queries:
            result = run_command(COMMAND, "--dry-run")
        assert f"would send {8 * scale}" in result.out
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_selection_is_four_queries() -> None:
    build_fleet(2)
    with CaptureQueriesContext(connection) as queries:
        recipients = digest_recipients(build_digest(TODAY, 30))
    assert len(recipients) == 16 and len(queries) == 4


# --- Slack ---------------------------------------------------------------------------------------
def test_a_summary_is_posted_to_the_clubs_slack_channel_once(
    smtp_settings: SMTPServer, slack_settings: FakeSlack, team: list[Member]
) -> None:
    ask = glider("N321K")
    issue(ask, "Canopy cracked\nnear the hinge", datetime.date(2026, 11, 2), grounded=True)
    issue(ask, "Tire worn", datetime.date(2026, 11, 3))
    deadline(ask, datetime.date(2026, 11, 12), kind="annual")
    deadline(ask, datetime.date(2026, 12, 1), kind="elt")

    result = run_command(COMMAND)
    assert result.code == 0, result.err
    assert slack_settings.posts == [
        "*Skyline Soaring Club maintenance digest 2026-11-22*: 2 open issues (1 grounding) and 2 deadlines "
        "due by 2026-12-22 (1 overdue).\n"
        "• Grounded: N321K Schleicher ASK-21: Canopy cracked near the hinge\n"
        "• Annual inspection of N321K Schleicher ASK-21 overdue by 10 days"
    ]
    assert "📧 sent 3" in result.out
    assert "📧 sent 0, 3 already sent" in run_command(COMMAND).out
    assert len(slack_settings.posts) == 1


def test_the_slack_post_follows_the_notice_kind(
    smtp_settings: SMTPServer, slack_settings: FakeSlack, team: list[Member]
) -> None:
    NoticeKind.objects.filter(key="maintenance_digest").update(slack=False)
    issue(glider("N321K"), "Tire worn", datetime.date(2026, 11, 3))
    assert run_command(COMMAND).code == 0
    assert slack_settings.requests == [] and len(smtp_settings.messages) == 2


def test_member_text_posted_to_slack_is_inert() -> None:
    from maintenance.digest import build_digest
    from maintenance.notices.digest import maintenance_digest_slack_text

    MaintenanceIssueFactory(grounded=True, description="<!channel> see <https://evil.example|the fix> & more")
    text = maintenance_digest_slack_text(build_digest(datetime.date(2026, 11, 22), 30), "1 open issue")
    assert "<!channel>" not in text and "<https://" not in text
    assert "&lt;!channel&gt; see &lt;https://evil.example|the fix&gt; &amp; more" in text


def test_a_rerun_later_in_the_week_sends_only_what_the_weeks_digest_has_not_sent(
    smtp_settings: SMTPServer, team: list[Member]
) -> None:
    """The ledger keys the digest by its week (from Sunday, its day), not by the day it ran."""
    issue(glider("N101G"), "Tail wheel worn", datetime.date(2026, 10, 1))
    smtp_settings.reject_recipients.add("tina.tools@example.org")
    assert run_command(COMMAND).code == ExitCode.FAILED  # Sunday: Tina's copy is refused
    smtp_settings.reject_recipients.clear()
    with time_machine.travel(RUN_AT + datetime.timedelta(days=1), tick=False):  # Monday
        monday = run_command(COMMAND)
    assert monday.code == 0, monday.err
    assert "📧 sent 1, 1 already sent" in monday.out
    assert smtp_settings.recipients() == ["max.mechanic@example.org", "tina.tools@example.org"]
    with time_machine.travel(RUN_AT + datetime.timedelta(days=6), tick=False):  # Saturday
        assert "📧 sent 0, 2 already sent" in run_command(COMMAND).out
    assert set(Delivery.objects.values_list("day", flat=True)) == {TODAY}
    with time_machine.travel(RUN_AT + datetime.timedelta(days=7), tick=False):  # the next Sunday
        assert "📧 sent 2" in run_command(COMMAND).out
