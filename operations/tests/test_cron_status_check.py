"""cron_status --check: a job that stops running, fails in a row or slows down, made to happen
by running the commands at pinned times."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from operations import health
from operations.tests.pinned import at, demo_at, demo_json, status_at
from testsupport.commands import run_command
from utils.exitcodes import ExitCode
from utils.models import CronJobRun
from utils.registry import JobSpec, job_specs

pytestmark = pytest.mark.django_db
UTC = datetime.UTC


# --- The rules, on plain values ----------------------------------------------------------------


def spec(schedule: str, zone: str = "Etc/UTC", minutes: int = 5) -> JobSpec:
    return JobSpec(
        command="x",
        schedule=schedule,
        timezone=zone,
        deadline=datetime.timedelta(minutes=minutes),
        starting_deadline=datetime.timedelta(minutes=15),
        resource_class="light",
        help="",
    )


def test_a_slot_is_due_after_starting_deadline_deadline_and_grace() -> None:
    hourly = spec("0 * * * *")  # due 15 + 5 + 10 = 30 minutes after the slot
    assert health.overdue(hourly, None, at(23, 10, 29))[0] == at(23, 9)
    slot, late = health.overdue(hourly, None, at(23, 10, 30))
    assert slot == at(23, 10) and late == health.Overdue(slot=at(23, 10), due_at=at(23, 10, 30))
    # A run that started at the slot (a minute of clock skew allowed) satisfies it.
    assert (
        health.overdue(
            hourly,
            at(
                23,
                9,
                59,
            ),
            at(23, 10, 30),
        )[1]
        is None
    )
    assert health.overdue(hourly, at(23, 9, 58), at(23, 10, 30))[1] is not None


def test_previous_slot_reads_the_schedule_in_its_zone_and_finds_monthly_slots() -> None:
    # 07:00 New York on the 1st is 11:00 UTC in summer (EDT) and 12:00 UTC in winter (EST).
    monthly = spec("0 7 1 * *", zone="America/New_York")
    assert health.previous_slot(monthly, at(23, 12)) == at(1, 12)
    assert health.previous_slot(monthly, datetime.datetime(2026, 10, 20, tzinfo=UTC)) == datetime.datetime(
        2026, 10, 1, 11, tzinfo=UTC
    )
    assert health.next_slot(monthly, at(23, 12)) == datetime.datetime(2026, 12, 1, 12, tzinfo=UTC)


# --- Really running the commands --------------------------------------------------------------


def test_a_job_that_ran_at_every_slot_is_healthy(scheduled_demo: Any) -> None:
    for hour in (8, 9, 10):
        assert (
            demo_at(
                at(
                    23,
                    hour,
                    0,
                )
                + datetime.timedelta(seconds=20)
            ).code
            == 0
        )
    result = status_at(at(23, 10, 40), "--check", "test_cronjob")
    assert result.code == 0, result.out + result.err
    assert "✅ All 1 scheduled jobs ran on time" in result.out
    job = demo_json(at(23, 10, 40))
    assert job["overdue"] is False and job["consecutive_failures"] == 0 and job["problems"] == []
    assert job["schedule"] == "0 * * * *" and job["timezone"] == "Etc/UTC"
    assert job["next_run"] == "2026-11-23T11:00:00+00:00"
    assert job["last_run"]["status"] == "succeeded"


def test_a_job_that_stops_running_becomes_overdue(scheduled_demo: Any) -> None:
    demo_at(at(23, 9, 0))
    # 10:00 was missed; until 10:30 the slot is not due yet.
    assert status_at(at(23, 10, 29), "--check", "test_cronjob").code == 0
    result = status_at(at(23, 10, 31), "--check", "test_cronjob")
    assert result.code == ExitCode.FAILED
    overdue = "❌ test_cronjob is overdue: no run for its slot at 2026-11-23 05:00 (due by 2026-11-23 05:30"
    assert f"{overdue}, club time)" in result.out
    assert "1 job(s) need attention: test_cronjob" in result.err
    row = next(line for line in status_at(at(23, 10, 31)).out.splitlines() if line.startswith("test_cronjob"))
    assert "OVERDUE" in row
    # It runs again (late, by hand): healthy.
    demo_at(at(23, 10, 45))
    assert status_at(at(23, 10, 50), "--check", "test_cronjob").code == 0


def test_a_failed_run_does_not_count_as_ran(scheduled_demo: Any) -> None:
    demo_at(at(23, 10, 0), "--fail-at=1")
    job = demo_json(at(23, 10, 31))
    assert job["overdue"] is True and job["overdue_slot"] == "2026-11-23T10:00:00+00:00"
    assert job["consecutive_failures"] == 1


def test_a_skip_because_the_lock_was_held_is_not_a_run_but_an_already_done_skip_is(
    scheduled_demo: Any,
) -> None:
    from utils.models import CronJobLock

    CronJobLock.objects.acquire("test_cronjob", "other-pod", 60)
    demo_at(at(23, 10, 0))  # skipped: lock held
    CronJobLock.objects.all().delete()
    assert demo_json(at(23, 10, 31))["overdue"] is True
    demo_at(at(23, 10, 1), "--occurrence=slot-10")
    demo_at(at(23, 11, 0), "--occurrence=slot-10")  # skipped: this occurrence already succeeded
    assert CronJobRun.objects.latest("pk").summary == {"already_done": True}
    assert demo_json(at(23, 11, 31))["overdue"] is False


def test_failing_twice_in_a_row_fails_the_check_and_a_success_ends_the_streak(scheduled_demo: Any) -> None:
    demo_at(at(23, 8, 0))
    demo_at(at(23, 9, 0), "--fail-at=1")
    assert status_at(at(23, 9, 10), "--check", "test_cronjob").code == 0  # one failure is not a streak
    demo_at(at(23, 10, 0), "--fail-at=1")
    demo_at(at(23, 10, 1), "--fail-at=1")
    result = status_at(at(23, 10, 10), "--check", "test_cronjob")
    assert result.code == ExitCode.FAILED
    assert "❌ test_cronjob failed 3 times in a row (since 2026-11-23 04:00)" in result.out
    assert "❌ test_cronjob is overdue" in result.out  # the 09:00 slot only has a failed run
    # --failures raises the bar.
    assert "times in a row" not in status_at(at(23, 10, 10), "--check", "--failures=4", "test_cronjob").out
    row = next(line for line in status_at(at(23, 10, 10)).out.splitlines() if line.startswith("test_cronjob"))
    assert "FAILING" in row and " 3  " in row
    demo_at(at(23, 11, 0))
    job = demo_json(at(23, 11, 10))
    assert job["consecutive_failures"] == 0 and job["problems"] == []


def test_a_timed_out_run_is_a_failure_and_a_slow_run_is_a_warning(
    scheduled_demo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scheduled_demo, "max_execution_time", datetime.timedelta(seconds=1))
    assert run_command("test_cronjob", "--units=1", "--unit-seconds=0.85").code == 0  # 85% of 1 s
    result = run_command("cron_status", "--check", "test_cronjob")
    assert result.code == 0  # slow is a warning, not a failure
    assert "⚠️ test_cronjob is slow: its last run took 0.9s of its 1s deadline" in result.out
    assert json.loads(run_command("cron_status", "--json", "test_cronjob").out)[0]["slow"] is True
    for _ in range(2):
        timed_out = run_command("test_cronjob", "--units=3", "--unit-seconds=0.6")
        assert timed_out.code == ExitCode.FAILED and "timed out" in timed_out.err
    result = run_command("cron_status", "--check", "test_cronjob")
    assert result.code == ExitCode.FAILED and "failed 2 times in a row" in result.out


def test_every_registered_job_run_at_its_slot_passes_the_check_then_one_goes_overdue() -> None:
    """The real jobs, each run once for its latest slot: nothing to report; a day later, some are."""
    now = at(23, 20, 0)  # a Monday evening
    for spec_ in job_specs():
        slot = health.previous_slot(spec_, now - health.due_after(spec_))
        assert slot is not None
        with time_machine.travel(slot + datetime.timedelta(seconds=30)):
            result = run_command(spec_.command)
        assert result.code == 0, (spec_.command, result.err)
    result = status_at(now, "--check")
    assert result.code == 0, result.out
    assert f"✅ All {len(job_specs())} scheduled jobs ran on time" in result.out
    tomorrow = status_at(now + datetime.timedelta(days=1), "--check")
    assert tomorrow.code == ExitCode.FAILED
    assert "❌ notify_aging_logsheets is overdue" in tomorrow.out
    assert "notify_late_sprs is overdue" not in tomorrow.out  # weekly: not due again yet


def test_unknown_jobs_and_notify_without_check_are_usage_errors() -> None:
    assert run_command("cron_status", "nope").code == ExitCode.USAGE
    assert run_command("cron_status", "--notify").code == ExitCode.USAGE


def test_check_queries_do_not_grow_with_the_history(scheduled_demo: Any) -> None:
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            run_command("cron_status", "--check", "--json")
        return len(queries)

    demo_at(at(23, 9, 0))
    demo_at(at(23, 10, 0), "--fail-at=1")
    count_queries()  # the first read records the demo job as known (scheduled only in these tests)
    small = count_queries()
    statuses = ["succeeded", "failed", "skipped", "timed_out"]
    CronJobRun.objects.bulk_create(
        CronJobRun(
            job_name=f"job{i % 7}",
            occurrence=str(i),
            pod="p",
            status=statuses[i % 4],
            started_at=at(20, 0) + datetime.timedelta(minutes=i),
            duration_seconds=1.0,
        )
        for i in range(300)
    )
    assert count_queries() == small
