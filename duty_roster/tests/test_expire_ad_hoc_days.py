"""expire_ad_hoc_days: tomorrow's unconfirmed ad-hoc days expire and their people are told once."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from duty_roster.models import DutyAssignment
from duty_roster.tests.factories import DutyAssignmentFactory
from logsheet.tests.factories import AirfieldFactory
from members.models import Member
from members.tests.factories import MemberFactory
from notifications.models import Delivery, Notification
from testsupport.commands import run_command
from testsupport.smtp import SMTPServer

pytestmark = pytest.mark.django_db

COMMAND = "expire_ad_hoc_days"
DAY = datetime.date(2026, 11, 23)
KEY = "ad_hoc_expired:2026-11-23"
# The scheduled run: 18:00 UTC is 13:00 on the 22nd in New York, so "tomorrow" is the 23rd.
SCHEDULED_RUN = datetime.datetime(2026, 11, 22, 18, tzinfo=datetime.UTC)
ACTIVE, EXPIRED, CANCELLED = (
    DutyAssignment.Status.ACTIVE,
    DutyAssignment.Status.EXPIRED,
    DutyAssignment.Status.CANCELLED,
)


@pytest.fixture(autouse=True)
def scheduled_run() -> Iterator[None]:
    with time_machine.travel(SCHEDULED_RUN):
        yield


def member(first: str, last: str = "Pilot", **kwargs: object) -> Member:
    return MemberFactory(username=first.lower(), first_name=first, last_name=last, **kwargs)


def ad_hoc_day(
    day: datetime.date = DAY, identifier: str = "KFRR", name: str = "Front Royal", **kwargs: object
) -> DutyAssignment:
    fields = {"is_scheduled": False, "is_confirmed": False, **kwargs}
    return DutyAssignmentFactory(
        date=day, location=AirfieldFactory(identifier=identifier, name=name), **fields
    )


def status_of(assignment: DutyAssignment) -> str:
    assignment.refresh_from_db()
    return assignment.status


def plain(smtp: SMTPServer, address: str) -> str:
    (message,) = [m for m in smtp.messages if str(m["To"]) == address]
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def test_tomorrows_unconfirmed_ad_hoc_day_expires_and_everyone_involved_is_told_once(
    smtp_settings: SMTPServer,
) -> None:
    ann, bob, cy = member("Ann"), member("Bob"), member("Cy")
    day = ad_hoc_day(proposed_by=ann, duty_officer=ann, tow_pilot=bob, duty_instructor=cy)

    result = run_command(COMMAND)

    assert result.code == 0, result.err
    day.refresh_from_db()
    assert day.status == EXPIRED  # kept, marked expired when the run did it
    assert day.expired_at is not None
    assert SCHEDULED_RUN <= day.expired_at < SCHEDULED_RUN + datetime.timedelta(seconds=5)
    assert (
        "📊 [expire_ad_hoc_days] Expired 1 unconfirmed ad-hoc day(s) for 2026-11-23 "
        "(3 member(s) to tell) · 📧 sent 3" in result.out
    )
    assert smtp_settings.recipients() == sorted([ann.email, bob.email, cy.email])
    assert set(smtp_settings.subjects()) == {
        "Ad-hoc day on Monday 23 November 2026 called off: not confirmed in time"
    }
    assert "KFRR Front Royal: you proposed it and you signed up as Duty officer." in plain(
        smtp_settings, ann.email
    )
    bob_text = plain(smtp_settings, bob.email)
    assert "The ad-hoc flying day below was not confirmed by the day before, so it has expired" in bob_text
    assert "KFRR Front Royal: you signed up as Tow pilot." in bob_text
    notes = Notification.objects.filter(key=KEY).order_by("user__first_name")
    assert [n.user_id for n in notes] == [ann.pk, bob.pk, cy.pk]
    assert notes[0].message == (
        "The ad-hoc flying day at KFRR Front Royal on Monday 23 November 2026 was not confirmed in "
        "time and has expired."
    )
    assert "in_app=3" in result.out
    assert Delivery.objects.filter(kind="ad_hoc_expired", day=DAY, status="sent").count() == 3


@pytest.mark.parametrize(
    ("case", "fields"),
    [
        ("scheduled", {"is_scheduled": True}),
        ("confirmed ad hoc", {"is_confirmed": True}),
        ("cancelled ad hoc", {"status": CANCELLED}),
        ("ad hoc today", {"day": DAY - datetime.timedelta(days=1)}),
        ("ad hoc the day after tomorrow", {"day": DAY + datetime.timedelta(days=1)}),
    ],
)
def test_other_days_are_left_alone(smtp_settings: SMTPServer, case: str, fields: dict[str, Any]) -> None:
    before = ad_hoc_day(proposed_by=member("Ann"), **fields)
    status = before.status

    result = run_command(COMMAND)

    assert result.code == 0
    assert (
        "Expired 0 unconfirmed ad-hoc day(s) for 2026-11-23 (0 member(s) to tell) · 📧 sent 0" in result.out
    )
    assert status_of(before) == status and DutyAssignment.objects.get().expired_at is None
    assert smtp_settings.messages == [] and not Notification.objects.exists()


def test_a_day_expired_by_a_run_that_died_before_telling_is_told_by_the_next_run(
    smtp_settings: SMTPServer,
) -> None:
    ann, bob = member("Ann"), member("Bob")
    killed_at = SCHEDULED_RUN - datetime.timedelta(minutes=5)
    ad_hoc_day(proposed_by=ann, tow_pilot=bob, status=EXPIRED, expired_at=killed_at)

    result = run_command(COMMAND)

    assert result.code == 0
    assert (
        "Expired 0 unconfirmed ad-hoc day(s) for 2026-11-23, 1 expired earlier (2 member(s) to tell)"
        in result.out
    )
    assert smtp_settings.recipients() == sorted([ann.email, bob.email])
    assert Notification.objects.filter(key=KEY).count() == 2
    assert DutyAssignment.objects.get().expired_at == killed_at  # not expired a second time


def test_a_rerun_tells_nobody_twice(smtp_settings: SMTPServer) -> None:
    ann, bob = member("Ann"), member("Bob")
    ad_hoc_day(proposed_by=ann, tow_pilot=bob)
    assert run_command(COMMAND).code == 0
    Notification.objects.filter(user=ann).update(read=True, dismissed=True)  # Ann dealt with hers

    again = run_command(COMMAND)

    assert again.code == 0
    assert "Expired 0 unconfirmed ad-hoc day(s) for 2026-11-23, 1 expired earlier" in again.out
    assert "📧 sent 0, 2 already sent" in again.out
    assert len(smtp_settings.messages) == 2
    assert Notification.objects.filter(key=KEY).count() == 2  # Ann's is not brought back
    assert Notification.objects.get(user=ann).dismissed


def test_a_member_in_two_expired_days_is_told_once_about_both(smtp_settings: SMTPServer) -> None:
    ann = member("Ann")
    ad_hoc_day(proposed_by=ann)
    ad_hoc_day(identifier="KLUA", name="Luray", tow_pilot=ann)

    result = run_command(COMMAND)

    assert "Expired 2 unconfirmed ad-hoc day(s) for 2026-11-23 (1 member(s) to tell)" in result.out
    text = plain(smtp_settings, ann.email)
    assert "The ad-hoc flying days below were not confirmed by the day before, so they have expired" in text
    assert "KFRR Front Royal: you proposed it." in text
    assert "KLUA Luray: you signed up as Tow pilot." in text
    assert "at KFRR Front Royal and KLUA Luray on" in Notification.objects.get().message


def test_a_member_without_email_is_told_in_the_app_and_counted(smtp_settings: SMTPServer) -> None:
    ann = member("Ann", email="")
    ad_hoc_day(proposed_by=ann)

    result = run_command(COMMAND)

    assert "⚠️ [expire_ad_hoc_days] Ann Pilot has no email address: told in the app only" in result.out
    assert "no_email=1" in result.out
    assert smtp_settings.messages == [] and Notification.objects.get().user_id == ann.pk


def test_tomorrow_is_the_clubs_tomorrow_not_utcs(smtp_settings: SMTPServer) -> None:
    on_23rd = ad_hoc_day(proposed_by=member("Ann"))
    on_24th = ad_hoc_day(day=datetime.date(2026, 11, 24), proposed_by=member("Bob"))

    # 03:00 UTC on the 23rd is the evening of the 22nd in New York: tomorrow is the 23rd.
    with time_machine.travel(datetime.datetime(2026, 11, 23, 3, tzinfo=datetime.UTC)):
        result = run_command(COMMAND)

    assert "for 2026-11-23" in result.out
    assert status_of(on_23rd) == EXPIRED and status_of(on_24th) == ACTIVE


def test_a_dry_run_expires_nothing_writes_nothing_and_sends_nothing(smtp_settings: SMTPServer) -> None:
    ann, bob = member("Ann"), member("Bob")
    day = ad_hoc_day(proposed_by=ann, tow_pilot=bob)

    result = run_command(COMMAND, "--dry-run")

    assert result.code == 0
    assert "📊 [expire_ad_hoc_days] Expired or expiring ad-hoc day(s) on 2026-11-23: KFRR" in result.out
    assert "🔍 [expire_ad_hoc_days] Would notify 2 member(s) in the app" in result.out
    assert "Would expire 1 unconfirmed ad-hoc day(s) for 2026-11-23 (2 member(s) to tell)" in result.out
    assert "📧 would send 2" in result.out
    assert status_of(day) == ACTIVE
    assert smtp_settings.messages == []
    assert not Notification.objects.exists() and not Delivery.objects.exists()


def test_date_today_catches_up_a_missed_run(smtp_settings: SMTPServer) -> None:
    today = ad_hoc_day(day=DAY - datetime.timedelta(days=1), proposed_by=member("Ann"))
    tomorrow = ad_hoc_day(proposed_by=member("Bob"))

    result = run_command(COMMAND, "--date", "2026-11-22")

    assert result.code == 0 and "for 2026-11-22" in result.out
    assert status_of(today) == EXPIRED and status_of(tomorrow) == ACTIVE
    assert Notification.objects.get().key == "ad_hoc_expired:2026-11-22"


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("2026-02-30", "is not a date (YYYY-MM-DD)"),
        ("next week", "is not a date (YYYY-MM-DD)"),
        ("2026-11-21", "--date 2026-11-21 is in the past (the club's today is 2026-11-22)"),
        ("2026-11-24", "--date 2026-11-24 is more than a day ahead"),
    ],
)
def test_a_bad_date_exits_2_with_one_line_and_changes_nothing(
    smtp_settings: SMTPServer, value: str, error: str
) -> None:
    day = ad_hoc_day(day=datetime.date.fromisoformat(value) if value.startswith("2026-11") else DAY)

    result = run_command(COMMAND, "--date", value)

    assert result.code == 2
    assert len(result.lines) == 1 and error in result.lines[0]
    assert status_of(day) == ACTIVE and smtp_settings.messages == []


def _ad_hoc_days(first: int, count: int) -> None:
    for n in range(first, first + count):
        crew: dict[str, Any] = {
            role: MemberFactory() for role in ("proposed_by", "duty_officer", "tow_pilot")
        }
        ad_hoc_day(identifier=f"K{n:03d}", name=f"Field {n}", **crew)
        ad_hoc_day(identifier=f"K{n:03d}", name=f"Field {n}", status=EXPIRED, day=DAY - datetime.timedelta(1))


def _dry_run_queries() -> int:
    with CaptureQueriesContext(connection) as queries:
        result = run_command(COMMAND, "--dry-run")
    assert result.code == 0
    return len(queries)


def test_queries_do_not_grow_with_the_data() -> None:
    _ad_hoc_days(0, 1)
    small = _dry_run_queries()
    _ad_hoc_days(1, 9)
    assert _dry_run_queries() == small
