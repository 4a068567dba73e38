"""seed_demo --history: a month of the scheduled jobs' runs, what cron_status, the dashboard and
/metrics show of it, and the demo's staff login."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
import time_machine
from django.test import Client

from members.models import Member
from operations.models import CronJobDailyStats, KnownJob
from testsupport.commands import CommandResult, run_command
from utils.models import CronJobLock, CronJobRun
from utils.registry import job_specs
from utils.timing import occurrences

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
NOW = datetime.datetime(2026, 11, 20, 15, 30, tzinfo=UTC)  # a Friday
START = datetime.datetime(2026, 10, 21, tzinfo=UTC)  # 30 whole UTC days before the 20th
FIELDS = ["job_name", "occurrence", "trigger", "scheduled_for", "pod", "started_at", "finished_at"]
FIELDS += ["status", "duration_seconds", "summary", "error", "exit_code"]


def seed(*args: str, moment: datetime.datetime = NOW) -> CommandResult:
    with time_machine.travel(moment, tick=False):
        return run_command("seed_demo", "--history", "30", *args)


def statuses(moment: datetime.datetime = NOW) -> dict[str, dict[str, Any]]:
    with time_machine.travel(moment, tick=False):
        result = run_command("cron_status", "--json")
    return {job["job"]: job for job in json.loads(result.out)}


def runs() -> list[tuple[Any, ...]]:
    return list(CronJobRun.objects.order_by("job_name", "started_at", "status").values_list(*FIELDS))


def test_every_slot_of_every_job_in_the_window_has_its_run() -> None:
    assert seed().code == 0
    for spec in job_specs():
        expected = []
        for slot in occurrences(spec.schedule, spec.timezone, START - datetime.timedelta(microseconds=1)):
            if slot + datetime.timedelta(seconds=60) > NOW:  # no run of this slot is over yet
                break
            expected.append(slot)
        scheduled = CronJobRun.objects.filter(job_name=spec.command, trigger="scheduled")
        slots = sorted({run.scheduled_for for run in scheduled if run.scheduled_for is not None})
        assert slots[: len(expected)] == expected, spec.command
        assert all(run.scheduled_for and run.started_at >= run.scheduled_for for run in scheduled)
    hourly = CronJobRun.objects.filter(job_name="aggregate_cron_analytics")
    assert hourly.count() == 30 * 24 + 16  # 30 days, and today's 00:05 to 15:05
    assert set(KnownJob.objects.values_list("first_seen_at", flat=True)) == {START}


def test_the_history_shows_what_an_operator_would_see() -> None:
    assert seed().code == 0
    jobs = statuses()
    states = {name: job["states"] for name, job in jobs.items() if job["schedule"]}
    assert states == {
        "aggregate_cron_analytics": ["ok"],
        "expire_ad_hoc_days": ["ok"],
        "notify_aging_logsheets": ["ok"],
        "notify_late_sprs": ["slow"],
        "notify_pilot_currency": ["failing", "overdue"],  # its 14:00 failure ran no slot
        "report_duty_delinquents": ["ok"],  # its live lock is read on the database's clock: below
        "send_deferred_notices": ["ok"],
        "send_duty_preop_emails": ["ok"],
        "send_maintenance_digest": ["failed"],
    }
    assert jobs["notify_pilot_currency"]["consecutive_failures"] == 2
    assert jobs["report_duty_delinquents"]["last_run"]["status"] == "running"
    # Nine days ago: three failures in a row (the last timed out), then a success.
    streak = CronJobRun.objects.filter(job_name="send_deferred_notices").exclude(status="succeeded")
    assert list(streak.values_list("status", flat=True).order_by("started_at")) == [
        "failed",
        "failed",
        "timed_out",
    ]
    skips = CronJobRun.objects.filter(status="skipped")
    assert sorted(run.summary.get("closed") or "held_by" in run.summary for run in skips) == [True, True]


def test_a_live_run_holds_the_lock_of_report_duty_delinquents() -> None:
    # Not pinned: a lock's lease is read on the database's clock. Nothing here depends on the hour.
    assert run_command("seed_demo", "--history", "31").code == 0  # the latest 1st of a month included
    job = statuses(datetime.datetime.now(UTC))["report_duty_delinquents"]
    assert job["state"] == "running" and job["last_run"]["status"] == "running"
    assert 150 <= job["lock"]["age_seconds"] < 150 + 60
    assert job["lock"]["holder"].startswith(job["last_run"]["occurrence"] + "-")
    row = next(line for line in run_command("cron_status").out.splitlines() if line.startswith("report_duty"))
    assert " running " in row and "held by report-duty-delinquents-manual-" in row


def test_the_days_before_today_are_rolled_up_and_the_dashboard_draws_them_and_today(
    client: Client, settings: Any
) -> None:
    settings.DEBUG = True  # the demo login
    result = seed()
    assert "30 days rolled up" in result.out
    assert "Staff login (demo only, DEBUG): demo-ops / demo-ops-password" in result.out
    daily = CronJobDailyStats.objects.filter(job_name="aggregate_cron_analytics")
    assert daily.count() == 30 and {row.runs for row in daily} == {24}
    assert client.login(username="demo-ops", password="demo-ops-password")
    with time_machine.travel(NOW, tick=False):
        page = client.get("/cron/").content.decode()
    row = page.split('id="job-send_deferred_notices"', 1)[1].split("</tr>", 1)[0]
    assert "<title>2026-11-19: 100% of 24 run(s) succeeded</title>" in row
    assert "<title>2026-11-11: 88% of 24 run(s) succeeded</title>" in row  # the streak's day
    assert "<title>2026-11-20 (today, so far): 100% of 16 run(s) succeeded</title>" in row
    assert 'data-job="send_maintenance_digest" data-status="failed once"' in page


def test_the_same_seed_and_moment_give_the_same_history() -> None:
    assert seed().code == 0
    first = runs()
    assert seed("--reset", "--confirm-reset").code == 0
    assert runs() == first
    assert seed("--reset", "--confirm-reset", "--seed", "2").code == 0
    assert runs() != first


def test_without_debug_there_is_no_demo_login() -> None:
    assert "Staff login" not in seed().out
    assert not Member.objects.filter(username="demo-ops").exists()


@pytest.mark.parametrize("value", ["0", "367", "abc"])
def test_a_bad_history_is_one_line_exit_2_and_changes_nothing(value: str) -> None:
    with time_machine.travel(NOW, tick=False):
        result = run_command("seed_demo", "--history", value)
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1, result.err
    assert (
        not CronJobRun.objects.exists() and not Member.objects.exists() and not CronJobLock.objects.exists()
    )
