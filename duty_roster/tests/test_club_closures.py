"""Club closures: the calendar, and the two duty jobs that do nothing on a closed day."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from duty_roster.closures import closure_on
from duty_roster.models import ClubClosure, DutyAssignment
from duty_roster.tests.factories import DutyAssignmentFactory
from logsheet.tests.factories import AirfieldFactory
from members.tests.factories import MemberFactory
from notifications.models import Delivery
from testsupport.commands import run_command
from testsupport.smtp import SMTPServer
from utils.management.commands import test_cronjob as demo_job
from utils.models import CronJobLock, CronJobRun

pytestmark = pytest.mark.django_db

RUN_DAY = datetime.date(2026, 12, 24)
OPS_DAY = datetime.date(2026, 12, 25)  # "tomorrow" for both jobs' runs on the 24th
# 06:00 and 18:00 UTC on the 24th are 01:00 and 13:00 on the 24th in New York.
PREOP_RUN = datetime.datetime(2026, 12, 24, 6, tzinfo=datetime.UTC)
EXPIRE_RUN = datetime.datetime(2026, 12, 24, 18, tzinfo=datetime.UTC)


def closed(start: datetime.date, end: datetime.date | None = None, reason: str = "Christmas") -> ClubClosure:
    return ClubClosure.objects.create(start=start, end=end or start, reason=reason)


def crewed_day(day: datetime.date = OPS_DAY, **fields: object) -> DutyAssignment:
    ann = MemberFactory(username="ann", first_name="Ann", last_name="Pilot")
    return DutyAssignmentFactory(date=day, location=AirfieldFactory(), duty_officer=ann, **fields)


@pytest.fixture
def at_preop_run() -> Iterator[None]:
    with time_machine.travel(PREOP_RUN):
        yield


@pytest.fixture
def at_expire_run() -> Iterator[None]:
    with time_machine.travel(EXPIRE_RUN):
        yield


# --- The calendar --------------------------------------------------------------------------


def test_a_closure_covers_its_first_and_last_day_inclusive() -> None:
    winter = closed(datetime.date(2027, 1, 4), datetime.date(2027, 2, 28), "Winter break")
    assert closure_on(datetime.date(2027, 1, 3)) is None
    assert closure_on(datetime.date(2027, 1, 4)) == winter
    assert closure_on(datetime.date(2027, 2, 1)) == winter
    assert closure_on(datetime.date(2027, 2, 28)) == winter
    assert closure_on(datetime.date(2027, 3, 1)) is None
    assert str(winter) == "2027-01-04 to 2027-02-28: Winter break"
    assert str(closed(OPS_DAY)) == "2026-12-25: Christmas"


def test_overlapping_closures_answer_with_the_earliest() -> None:
    winter = closed(datetime.date(2026, 12, 20), datetime.date(2027, 1, 10), "Winter break")
    closed(OPS_DAY)
    assert closure_on(OPS_DAY) == winter


def test_a_closure_cannot_end_before_it_starts() -> None:
    backwards = ClubClosure(start=OPS_DAY, end=RUN_DAY, reason="typo")
    with pytest.raises(ValidationError, match="cannot be before"):
        backwards.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        backwards.save()


def test_the_admin_edits_closures(admin_client) -> None:
    response = admin_client.post(
        "/admin/duty_roster/clubclosure/add/",
        {"start": "2027-01-04", "end": "2027-02-28", "reason": "Winter break"},
    )
    assert response.status_code == 302, response.content[:500]
    assert str(ClubClosure.objects.get()) == "2027-01-04 to 2027-02-28: Winter break"
    assert admin_client.get("/admin/duty_roster/clubclosure/").status_code == 200


# --- send_duty_preop_emails: the operations date counts ------------------------------------


def test_no_briefing_for_a_closed_operations_day(at_preop_run: None, smtp_settings: SMTPServer) -> None:
    crewed_day()
    closed(OPS_DAY, reason="Christmas Day")

    result = run_command("send_duty_preop_emails")

    assert result.code == 0, result.err
    assert result.lines == [
        "⏸️ [send_duty_preop_emails] Club closed on 2026-12-25 (Christmas Day): nothing done "
        "(--ignore-closures runs it anyway)",
        "🔓 [send_duty_preop_emails] Released lock",
    ]
    run = CronJobRun.objects.get()
    assert (run.status, run.exit_code, run.summary) == ("skipped", 0, {"closed": True})
    assert run.error.startswith("Club closed on 2026-12-25 (Christmas Day)")
    assert smtp_settings.messages == [] and not Delivery.objects.exists()
    assert not CronJobLock.objects.exists()


def test_the_eve_of_reopening_still_briefs_the_next_day(
    at_preop_run: None, smtp_settings: SMTPServer
) -> None:
    crewed_day()
    closed(datetime.date(2026, 12, 1), RUN_DAY, "Winter break")  # closed today, open tomorrow

    result = run_command("send_duty_preop_emails")

    assert result.code == 0, result.err
    assert smtp_settings.recipients() == ["ann@example.org"]
    assert CronJobRun.objects.get().status == "succeeded"


def test_date_chooses_the_day_checked(at_preop_run: None, smtp_settings: SMTPServer) -> None:
    crewed_day(datetime.date(2026, 12, 27))
    closed(OPS_DAY)
    assert run_command("send_duty_preop_emails", "--date=2026-12-27").code == 0
    assert len(smtp_settings.messages) == 1
    skipped = run_command("send_duty_preop_emails", "--date=2026-12-25")
    assert "Club closed on 2026-12-25 (Christmas)" in skipped.out


def test_ignore_closures_briefs_anyway(at_preop_run: None, smtp_settings: SMTPServer) -> None:
    crewed_day()
    closed(OPS_DAY)
    result = run_command("send_duty_preop_emails", "--ignore-closures")
    assert result.code == 0, result.err
    assert len(smtp_settings.messages) == 1
    assert CronJobRun.objects.get().status == "succeeded"


def test_a_dry_run_on_a_closed_day_says_so_and_records_nothing(
    at_preop_run: None, smtp_settings: SMTPServer
) -> None:
    crewed_day()
    closed(OPS_DAY)
    result = run_command("send_duty_preop_emails", "--dry-run")
    assert result.code == 0
    assert result.lines[0].startswith("🔍")
    assert result.lines[1].startswith("⏸️ [send_duty_preop_emails] Club closed on 2026-12-25 (Christmas)")
    assert len(result.lines) == 2
    assert not CronJobRun.objects.exists() and smtp_settings.messages == []


def test_the_closure_is_checked_after_the_lock(at_preop_run: None, smtp_settings: SMTPServer) -> None:
    crewed_day()
    closed(OPS_DAY)
    CronJobLock.objects.acquire("send_duty_preop_emails", "other-pod", 60)
    result = run_command("send_duty_preop_emails")
    assert result.lines == [
        "⏸️ [send_duty_preop_emails] Job send_duty_preop_emails is already running on other-pod"
    ]
    assert CronJobRun.objects.get().summary == {"held_by": "other-pod"}  # one record, not two


# --- expire_ad_hoc_days: the day whose ad-hoc days would expire counts ---------------------


def test_no_ad_hoc_day_expires_on_a_closed_day(at_expire_run: None, smtp_settings: SMTPServer) -> None:
    day = crewed_day(is_scheduled=False, is_confirmed=False)
    closed(OPS_DAY)

    result = run_command("expire_ad_hoc_days")

    assert result.code == 0, result.err
    assert result.lines == [
        "⏸️ [expire_ad_hoc_days] Club closed on 2026-12-25 (Christmas): nothing done "
        "(--ignore-closures runs it anyway)",
        "🔓 [expire_ad_hoc_days] Released lock",
    ]
    day.refresh_from_db()
    assert day.status == DutyAssignment.Status.ACTIVE
    assert CronJobRun.objects.get().status == "skipped"
    assert smtp_settings.messages == []


def test_the_day_before_reopening_still_expires_tomorrows_ad_hoc_days(
    at_expire_run: None, smtp_settings: SMTPServer
) -> None:
    day = crewed_day(is_scheduled=False, is_confirmed=False)
    closed(datetime.date(2026, 12, 1), RUN_DAY, "Winter break")

    assert run_command("expire_ad_hoc_days").code == 0
    day.refresh_from_db()
    assert day.status == DutyAssignment.Status.EXPIRED
    assert len(smtp_settings.messages) == 1


def test_jobs_that_do_not_declare_it_ignore_closures() -> None:
    closed(datetime.date(2000, 1, 1), datetime.date(2100, 1, 1), "Forever")
    result = run_command("test_cronjob", "--units=1", "--unit-seconds=0")
    assert result.code == 0 and CronJobRun.objects.get().status == "succeeded"
    help_text = demo_job.Command().create_parser("manage.py", "test_cronjob").format_help()
    assert "--ignore-closures" not in help_text
