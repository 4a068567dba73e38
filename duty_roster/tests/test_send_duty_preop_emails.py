"""send_duty_preop_emails: the next operations day's crew is briefed once, with a calendar file."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import icalendar
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from duty_roster.models import DutyAssignment
from duty_roster.tests.factories import DutyAssignmentFactory
from logsheet.tests.factories import AirfieldFactory, GliderFactory, TowplaneFactory
from maintenance.tests.factories import MaintenanceDeadlineFactory, MaintenanceIssueFactory
from members.models import Member
from members.tests.factories import MemberFactory
from notifications.models import Delivery
from testsupport.commands import run_command
from testsupport.notifications import FakeTwilio
from testsupport.smtp import ReceivedMessage, SMTPServer

pytestmark = pytest.mark.django_db

COMMAND = "send_duty_preop_emails"
OPS_DAY = datetime.date(2026, 11, 23)
# The scheduled run: 06:00 UTC is 01:00 on the 22nd in New York, so "tomorrow" is the 23rd.
SCHEDULED_RUN = datetime.datetime(2026, 11, 22, 6, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def scheduled_run() -> Iterator[None]:
    with time_machine.travel(SCHEDULED_RUN):
        yield


def member(first: str, last: str = "Pilot", **kwargs: object) -> Member:
    return MemberFactory(username=first.lower(), first_name=first, last_name=last, **kwargs)


def ops_day(
    day: datetime.date = OPS_DAY, identifier: str = "KFRR", name: str = "Front Royal", **kwargs: object
):
    return DutyAssignmentFactory(
        date=day, location=AirfieldFactory(identifier=identifier, name=name), **kwargs
    )


def by_recipient(smtp: SMTPServer) -> dict[str, ReceivedMessage]:
    return {str(message["To"]): message for message in smtp.messages}


def calendar_of(message: ReceivedMessage) -> tuple[str | None, icalendar.Calendar]:
    (attachment,) = [
        part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"
    ]
    return attachment.get_filename(), icalendar.Calendar.from_ical(attachment.get_content())


def events_of(message: ReceivedMessage) -> list[icalendar.Component]:
    return calendar_of(message)[1].walk("VEVENT")


def plain(message: ReceivedMessage) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def test_each_crew_member_is_briefed_with_the_crew_maintenance_and_a_calendar_event(
    smtp_settings: SMTPServer,
) -> None:
    ann, bob, cy = member("Ann"), member("Bob"), member("Cy")
    day = ops_day(duty_officer=ann, duty_instructor=bob, tow_pilot=cy)
    glider = GliderFactory(n_number="N321K", make="Schleicher", model="ASK-21")
    MaintenanceIssueFactory(glider=glider, description="Canopy latch broken", grounded=True)
    MaintenanceDeadlineFactory(
        towplane=TowplaneFactory(n_number="N55T"), glider=None, due_date=OPS_DAY.replace(day=20)
    )

    result = run_command(COMMAND)

    assert result.code == 0, result.err
    assert smtp_settings.recipients() == sorted([ann.email, bob.email, cy.email])
    assert (
        "📊 [send_duty_preop_emails] Found 1 operating assignment(s) on 2026-11-23 (KFRR): "
        "3 crew member(s) to brief · 📧 sent 3" in result.out
    )
    message = by_recipient(smtp_settings)[ann.email]
    assert message["Subject"] == "Duty briefing for Monday 23 November 2026: Duty officer"
    text = plain(message)
    assert "You are on duty on Monday 23 November 2026 as Duty officer." in text
    assert "KFRR Front Royal" in text
    assert "Duty officer: Ann Pilot (you)" in text
    assert "Duty instructor: Bob Pilot" in text and "Tow pilot: Cy Pilot" in text
    assert "N321K Schleicher ASK-21: Canopy latch broken" in text
    assert "N55T Piper PA-25 Pawnee: Annual inspection due 2026-11-20 — OVERDUE" in text
    assert "OVERDUE" in message.get_body(("html",)).get_content()

    filename, calendar = calendar_of(message)
    assert filename == "duty-2026-11-23.ics"
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Duty officer — KFRR Front Royal"
    assert event.decoded("DTSTART") == OPS_DAY  # an all-day event: a date, not a datetime
    assert event.decoded("DTEND") == OPS_DAY + datetime.timedelta(days=1)
    assert str(event["UID"]) == f"duty-{day.pk}-{ann.pk}-duty_officer@localhost"
    assert SCHEDULED_RUN <= event.decoded("DTSTAMP") < SCHEDULED_RUN + datetime.timedelta(seconds=5)
    assert "Tow pilot: Cy Pilot" in str(event["DESCRIPTION"])
    cy_event = events_of(by_recipient(smtp_settings)[cy.email])[0]
    assert str(cy_event["SUMMARY"]) == "Tow pilot — KFRR Front Royal"
    sent = Delivery.objects.filter(kind="duty_preop", day=datetime.date(2026, 11, 23), status="sent")
    assert sent.count() == 3


def test_a_member_with_two_roles_gets_one_email_and_one_event_per_role(smtp_settings: SMTPServer) -> None:
    ann, bob = member("Ann"), member("Bob")
    day = ops_day(duty_officer=ann, tow_pilot=ann, duty_instructor=bob)

    assert run_command(COMMAND).code == 0

    assert smtp_settings.recipients() == sorted([ann.email, bob.email])
    message = by_recipient(smtp_settings)[ann.email]
    assert message["Subject"] == "Duty briefing for Monday 23 November 2026: Duty officer, Tow pilot"
    assert "as Duty officer and Tow pilot." in plain(message)
    events = events_of(message)
    assert [str(e["SUMMARY"]) for e in events] == [
        "Duty officer — KFRR Front Royal",
        "Tow pilot — KFRR Front Royal",
    ]
    assert [str(e["UID"]) for e in events] == [
        f"duty-{day.pk}-{ann.pk}-duty_officer@localhost",
        f"duty-{day.pk}-{ann.pk}-tow_pilot@localhost",
    ]


def test_each_airfield_operating_that_day_is_briefed_with_its_own_crew(smtp_settings: SMTPServer) -> None:
    ann, bob = member("Ann"), member("Bob")
    ops_day(duty_officer=ann)
    ops_day(identifier="KLUA", name="Luray", duty_officer=bob, is_scheduled=False, is_confirmed=True)

    result = run_command(COMMAND)

    assert "Found 2 operating assignment(s) on 2026-11-23 (KFRR, KLUA)" in result.out
    bob_text = plain(by_recipient(smtp_settings)[bob.email])
    assert "KLUA Luray (ad-hoc day)" in bob_text and "Duty officer: Bob Pilot (you)" in bob_text
    assert "Ann Pilot" not in bob_text
    assert str(events_of(by_recipient(smtp_settings)[bob.email])[0]["SUMMARY"]) == "Duty officer — KLUA Luray"


def test_a_member_crewing_two_airfields_is_briefed_once_with_both(smtp_settings: SMTPServer) -> None:
    ann = member("Ann")
    ops_day(duty_officer=ann)
    ops_day(identifier="KLUA", name="Luray", tow_pilot=ann)

    assert run_command(COMMAND).code == 0

    (message,) = smtp_settings.messages
    assert "KFRR Front Royal" in plain(message) and "KLUA Luray" in plain(message)
    assert [str(e["SUMMARY"]) for e in events_of(message)] == [
        "Duty officer — KFRR Front Royal",
        "Tow pilot — KLUA Luray",
    ]


@pytest.mark.parametrize(
    ("kind", "fields", "briefed"),
    [
        ("scheduled", {"is_scheduled": True}, True),
        ("confirmed ad hoc", {"is_scheduled": False, "is_confirmed": True}, True),
        ("unconfirmed ad hoc", {"is_scheduled": False, "is_confirmed": False}, False),
        ("cancelled", {"status": DutyAssignment.Status.CANCELLED}, False),
        ("expired ad hoc", {"is_scheduled": False, "status": DutyAssignment.Status.EXPIRED}, False),
    ],
)
def test_only_days_that_will_fly_are_briefed(
    smtp_settings: SMTPServer, kind: str, fields: dict[str, Any], briefed: bool
) -> None:
    ann = member("Ann")
    ops_day(duty_officer=ann, **fields)

    result = run_command(COMMAND)

    assert result.code == 0
    assert smtp_settings.recipients() == ([ann.email] if briefed else [])


def test_grounded_aircraft_and_deadlines_up_to_thirty_days_after_the_operations_day(
    smtp_settings: SMTPServer,
) -> None:
    ops_day(duty_officer=member("Ann"))
    MaintenanceIssueFactory(description="Grounded and open", grounded=True)
    MaintenanceIssueFactory(description="Open, still flying", grounded=False)
    MaintenanceIssueFactory(description="Grounded but fixed", grounded=True, resolved=True)
    for due, what in [
        (OPS_DAY - datetime.timedelta(days=1), "day before"),
        (OPS_DAY, "on the day"),
        (OPS_DAY + datetime.timedelta(days=30), "thirty days after"),
        (OPS_DAY + datetime.timedelta(days=31), "thirty-one days after"),
    ]:
        MaintenanceDeadlineFactory(due_date=due, description=what)

    assert run_command(COMMAND).code == 0

    text = plain(smtp_settings.messages[0])
    assert "Grounded and open" in text
    assert "Open, still flying" not in text and "Grounded but fixed" not in text
    assert "overdue or due by 2026-12-23" in text
    assert "(day before) due 2026-11-22 — OVERDUE" in text
    assert "(on the day) due 2026-11-23\n" in text  # due on the day is not yet overdue
    assert "(thirty days after) due 2026-12-23\n" in text
    assert "thirty-one days after" not in text


def test_without_operations_nothing_is_sent(smtp_settings: SMTPServer) -> None:
    ops_day(day=OPS_DAY + datetime.timedelta(days=1), duty_officer=member("Ann"))

    result = run_command(COMMAND)

    assert result.code == 0
    assert (
        "📊 [send_duty_preop_emails] No operations on 2026-11-23: nothing to send · 📧 sent 0" in result.out
    )
    assert smtp_settings.messages == [] and not Delivery.objects.exists()


def test_tomorrow_is_the_clubs_tomorrow_not_utcs(smtp_settings: SMTPServer) -> None:
    ann, bob = member("Ann"), member("Bob")
    ops_day(day=datetime.date(2026, 11, 23), duty_officer=ann)
    ops_day(day=datetime.date(2026, 11, 24), duty_officer=bob)

    # 03:00 UTC on the 23rd is the evening of the 22nd in New York: tomorrow is the 23rd.
    with time_machine.travel(datetime.datetime(2026, 11, 23, 3, tzinfo=datetime.UTC)):
        result = run_command(COMMAND)

    assert "on 2026-11-23" in result.out
    assert smtp_settings.recipients() == [ann.email]
    # The ledger keys a briefing on its operations date, not on the day the run happened.
    assert Delivery.objects.get().day == datetime.date(2026, 11, 23)


def test_date_option_briefs_that_day(smtp_settings: SMTPServer) -> None:
    ann, bob = member("Ann"), member("Bob")
    ops_day(duty_officer=ann)
    ops_day(day=datetime.date(2026, 12, 5), duty_officer=bob)

    result = run_command(COMMAND, "--date", "2026-12-05")

    assert result.code == 0 and "on 2026-12-05" in result.out
    assert smtp_settings.recipients() == [bob.email]
    delivery = Delivery.objects.get()
    assert (delivery.kind, delivery.day) == ("duty_preop", datetime.date(2026, 12, 5))


@pytest.mark.parametrize("value", ["2026-13-01", "tomorrow", "23/11/2026"])
def test_a_bad_date_exits_2_with_one_line_and_changes_nothing(smtp_settings: SMTPServer, value: str) -> None:
    ops_day(duty_officer=member("Ann"))

    result = run_command(COMMAND, "--date", value)

    assert result.code == 2
    assert len(result.lines) == 1 and "is not a date (YYYY-MM-DD)" in result.lines[0]
    assert smtp_settings.messages == [] and not Delivery.objects.exists()


def test_a_dry_run_writes_nothing_and_sends_nothing(smtp_settings: SMTPServer) -> None:
    ann = member("Ann")
    ops_day(duty_officer=ann, tow_pilot=member("Bob"))

    result = run_command(COMMAND, "--dry-run")

    assert result.code == 0
    assert (
        "🔍 [send_duty_preop_emails] Would send email "
        "'Duty briefing for Monday 23 November 2026: Duty officer' to Ann Pilot" in result.out
    )
    assert "📧 would send 2" in result.out
    assert smtp_settings.messages == [] and not Delivery.objects.exists()


def test_a_rerun_sends_nothing_twice_and_resend_updates_the_same_events(smtp_settings: SMTPServer) -> None:
    ann, bob = member("Ann"), member("Bob")
    ops_day(duty_officer=ann, tow_pilot=bob)
    assert run_command(COMMAND).code == 0

    again = run_command(COMMAND)
    assert again.code == 0 and "📧 sent 0, 2 already sent" in again.out
    assert len(smtp_settings.messages) == 2

    resent = run_command(COMMAND, "--resend")
    assert "📧 sent 2" in resent.out and len(smtp_settings.messages) == 4
    first = {str(e["UID"]) for m in smtp_settings.messages[:2] for e in events_of(m)}
    second = {str(e["UID"]) for m in smtp_settings.messages[2:] for e in events_of(m)}
    assert first == second  # the same events, updated in the calendar rather than added


def test_a_manual_rerun_for_the_same_date_on_a_later_day_sends_nothing(smtp_settings: SMTPServer) -> None:
    ops_day(duty_officer=member("Ann"))
    assert run_command(COMMAND).code == 0

    # The next club day (the operations day itself), someone reruns it for that date.
    with time_machine.travel(datetime.datetime(2026, 11, 23, 12, tzinfo=datetime.UTC)):
        rerun = run_command(COMMAND, "--date", "2026-11-23")

    assert rerun.code == 0 and "📧 sent 0, 1 already sent" in rerun.out
    assert len(smtp_settings.messages) == 1


def test_a_member_without_an_email_address_is_skipped_with_a_warning(smtp_settings: SMTPServer) -> None:
    ann = member("Ann")
    ops_day(duty_officer=ann, tow_pilot=member("Bob", email=""))

    result = run_command(COMMAND)

    assert result.code == 0
    assert "⚠️ [send_duty_preop_emails] Bob Pilot has no email address: not briefed" in result.out
    assert "no_email=1" in result.out
    assert smtp_settings.recipients() == [ann.email]


def _operations(first: int, airfields: int, maintenance_items: int) -> None:
    for n in range(first, first + airfields):
        crew: dict[str, Any] = {
            role: MemberFactory()
            for role in ("duty_officer", "assistant_duty_officer", "duty_instructor", "tow_pilot")
        }
        ops_day(identifier=f"K{n:03d}", name=f"Field {n}", **crew)
    for _ in range(maintenance_items):
        MaintenanceIssueFactory(grounded=True, towplane=TowplaneFactory(), glider=None)
        MaintenanceDeadlineFactory(due_date=OPS_DAY)


def _dry_run_queries() -> int:
    with CaptureQueriesContext(connection) as queries:
        result = run_command(COMMAND, "--dry-run")
    assert result.code == 0
    return len(queries)


def test_queries_do_not_grow_with_the_data() -> None:
    _operations(0, airfields=1, maintenance_items=2)
    small = _dry_run_queries()
    _operations(1, airfields=9, maintenance_items=18)  # now 10 airfields, 40 crew, 20 + 20 items
    assert _dry_run_queries() == small


# --- By SMS, for members who opted in ------------------------------------------------------
def test_a_crew_member_who_opted_in_gets_the_briefing_by_sms_after_quiet_hours(
    smtp_settings: SMTPServer, twilio_settings: FakeTwilio
) -> None:
    ann = member("Ann", phone="+15405550101", sms_opt_in=True)
    bob = member("Bob", phone="+15405550102")  # no opt-in: email only
    ken = member("Ken", phone="+815012345678", sms_opt_in=True, timezone="Asia/Tokyo")
    ops_day(duty_officer=ann, tow_pilot=bob, duty_instructor=ken)
    MaintenanceIssueFactory(grounded=True, towplane=TowplaneFactory(n_number="N500T"), glider=None)

    # 06:00 UTC: 01:00 in New York (quiet hours), 15:00 in Tokyo.
    result = run_command(COMMAND)

    assert result.code == 0, result.err
    assert "📧 sent 4, 1 deferred past quiet hours" in result.out
    assert len(smtp_settings.messages) == 3
    assert twilio_settings.bodies_to("+815012345678") == [
        "Skyline Soaring Club: Mon 23 Nov you are Duty instructor at KFRR. 1 aircraft grounded. "
        "Full briefing by email."
    ]
    # At 08:00 in New York the deferred one goes; the rerun of the briefing sends nothing again.
    with time_machine.travel(datetime.datetime(2026, 11, 22, 13, 5, tzinfo=datetime.UTC)):
        assert run_command("send_deferred_notices").code == 0
        rerun = run_command(COMMAND)
    assert "📧 sent 0, 5 already sent" in rerun.out
    assert twilio_settings.bodies_to("+15405550101") == [
        "Skyline Soaring Club: Mon 23 Nov you are Duty officer at KFRR. 1 aircraft grounded. "
        "Full briefing by email."
    ]
    assert twilio_settings.bodies_to("+15405550102") == [] and len(twilio_settings.messages) == 2
    assert len(smtp_settings.messages) == 3
    sms_rows = Delivery.objects.filter(channel="sms", kind="duty_preop", day=OPS_DAY, status="sent")
    assert sms_rows.count() == 2


def test_a_member_without_email_who_opted_in_gets_the_sms_only(
    smtp_settings: SMTPServer, twilio_settings: FakeTwilio
) -> None:
    ops_day(duty_officer=member("Ann"), tow_pilot=member("Ken", email="", phone="+815012345678",
                                                        sms_opt_in=True, timezone="Asia/Tokyo"))  # fmt: skip
    result = run_command(COMMAND)
    assert "Ken Pilot has no email address: briefed by text message only" in result.out
    assert len(smtp_settings.messages) == 1 and len(twilio_settings.messages) == 1
    assert "📧 sent 2" in result.out
