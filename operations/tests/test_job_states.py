"""The one list of job states: a fresh install waits, a first failure is told apart from a streak,
and cron_status, --check, /metrics and the alerts read the same states."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path
from typing import Any

import pytest
import time_machine

from operations.models import KnownJob
from operations.states import JobState
from operations.tests.pinned import at, demo_at, demo_json, status_at
from testsupport.databases import ScratchDatabase, manage_env, run_manage
from testsupport.smtp import SMTPServer
from utils.exitcodes import ExitCode
from utils.registry import scheduled_jobs

UTC = datetime.UTC
DOCS = Path(__file__).resolve().parents[2] / "docs" / "monitoring.md"


def test_each_state_has_its_check_exit_and_whether_it_alerts() -> None:
    table = {state.value: (state.check_exit, state.alerts) for state in JobState}
    assert table == {
        "failing": (1, True),
        "overdue": (1, True),
        "in_doubt": (1, True),
        "failed": (0, False),
        "slow": (0, True),
        "running": (0, False),
        "waiting": (0, False),
        "ok": (0, False),
    }
    assert JobState.ranked(set()) == [JobState.OK]
    assert JobState.ranked({JobState.RUNNING, JobState.OVERDUE}) == [JobState.OVERDUE, JobState.RUNNING]


def test_docs_list_every_state_with_its_check_exit_and_alert() -> None:
    """docs/monitoring.md's table of states says what the enum says."""
    rows = re.findall(r"^\| `(\w+)` \| (\d) \| (yes|no) \|", DOCS.read_text(), flags=re.MULTILINE)
    documented = {name: (int(code), alerts == "yes") for name, code, alerts in rows}
    assert documented == {state.value: (state.check_exit, state.alerts) for state in JobState}


@pytest.mark.django_db
def test_migrate_records_every_scheduled_job_as_known() -> None:
    # The test database was built by migrate: its post_migrate recorded the registry's jobs.
    assert set(KnownJob.objects.values_list("job_name", flat=True)) >= set(scheduled_jobs())


@pytest.mark.django_db
def test_a_job_that_never_ran_waits_for_its_first_slot_since_it_was_first_seen(scheduled_demo: Any) -> None:
    # Hourly at :00, due 30 minutes after its slot; first seen at 10:10, after the 10:00 slot.
    KnownJob.objects.create(job_name="test_cronjob", first_seen_at=at(23, 10, 10))
    job = demo_json(at(23, 10, 50))  # 10:00 is due, but came before the job was known
    assert (job["state"], job["states"], job["problems"]) == ("waiting", ["waiting"], [])
    assert job["overdue"] is False
    assert job["first_seen_at"] == "2026-11-23T10:10:00+00:00"
    assert job["waiting_until"] == "2026-11-23T11:30:00+00:00"  # its 11:00 slot, due by 11:30
    assert status_at(at(23, 11, 29), "--check", "test_cronjob").code == 0
    row = next(line for line in status_at(at(23, 11, 29)).out.splitlines() if line.startswith("test_cronjob"))
    assert "never" in row and " waiting " in row
    result = status_at(at(23, 11, 31), "--check", "test_cronjob")
    assert result.code == ExitCode.FAILED
    assert "❌ test_cronjob is overdue: no run for its slot at 2026-11-23 06:00" in result.out
    assert demo_json(at(23, 11, 31))["state"] == "overdue"


@pytest.mark.django_db
def test_a_status_read_records_a_job_missing_from_the_known_jobs(scheduled_demo: Any) -> None:
    # test_cronjob has a schedule only in these tests: migrate did not see it as scheduled.
    KnownJob.objects.filter(job_name="test_cronjob").delete()
    assert demo_json(at(23, 10, 5))["state"] == "waiting"
    assert KnownJob.objects.get(job_name="test_cronjob").first_seen_at == at(23, 10, 5)
    # Read again later: it was first seen at the first read, not now.
    assert demo_json(at(23, 12, 0))["first_seen_at"] == "2026-11-23T10:05:00+00:00"


@pytest.mark.django_db
def test_a_job_that_has_run_is_judged_on_every_slot(scheduled_demo: Any) -> None:
    KnownJob.objects.create(job_name="test_cronjob", first_seen_at=at(23, 10, 10))
    demo_at(at(23, 8, 0))  # a run before it was known (a restored database): not waiting any more
    job = demo_json(at(23, 10, 50))
    assert job["state"] == "overdue" and job["overdue_slot"] == "2026-11-23T10:00:00+00:00"


@pytest.mark.django_db
def test_a_job_that_failed_once_is_failed_not_ok_and_not_alerted(
    scheduled_demo: Any, smtp_settings: SMTPServer, settings: Any
) -> None:
    settings.ADMINS = [("ops", "ops@example.org")]
    demo_at(at(23, 9, 0))
    demo_at(at(23, 10, 0), "--fail-at=1")
    job = demo_json(at(23, 10, 10))  # the 10:00 slot is not due yet
    assert (job["state"], job["states"], job["problems"]) == ("failed", ["failed"], [])
    result = status_at(at(23, 10, 10), "--check", "--notify", "test_cronjob")
    assert result.code == 0, result.out + result.err
    assert "⚠️ test_cronjob failed 1 time(s) in a row (an alert at 2)" in result.out
    assert "RuntimeError: unit 1 failed as requested by --fail-at" in result.out
    assert smtp_settings.messages == []
    row = next(line for line in status_at(at(23, 10, 10)).out.splitlines() if line.startswith("test_cronjob"))
    assert " failed " in row and " ok " not in row
    # Once its slot is due it is overdue too (the failure did not run the slot), overdue first.
    assert demo_json(at(23, 10, 31))["states"] == ["overdue", "failed"]
    # A second failure in a row: failing, which alerts.
    demo_at(at(23, 11, 0), "--fail-at=1")
    assert demo_json(at(23, 11, 10))["states"] == ["failing", "overdue"]


@pytest.mark.django_db
def test_metrics_carry_the_same_states(client: Any, settings: Any, scheduled_demo: Any) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    settings.METRICS_TOKEN = "t"
    KnownJob.objects.update(first_seen_at=at(23, 10, 0))
    demo_at(at(23, 9, 0))
    demo_at(at(23, 10, 0), "--fail-at=1")
    with time_machine.travel(at(23, 10, 10), tick=False):
        body = client.get("/metrics", HTTP_AUTHORIZATION="Bearer t").content.decode()
    states = {
        (sample.labels["job_name"], sample.labels["state"]): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
        if sample.name == "manage2soar_cronjob_state"
    }
    assert {state for (job, state), value in states.items() if job == "test_cronjob" and value} == {"failed"}
    assert states["notify_late_sprs", "waiting"] == 1 and states["notify_late_sprs", "overdue"] == 0
    assert len([key for key in states if key[0] == "test_cronjob"]) == len(JobState)


# --- A fresh install, in real processes ----------------------------------------------------------


@pytest.mark.processes
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_cron_status_check_passes_right_after_a_fresh_migrate(backend: str) -> None:
    database = ScratchDatabase(backend).create()  # a real `manage.py migrate` on an empty database
    try:
        env = manage_env(database.url)
        result = run_manage("cron_status", "--check", env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "✅ No scheduled job needs attention: 0 ran on time" in result.stdout
        as_json = run_manage("cron_status", "--json", env=env)
        jobs = json.loads(as_json.stdout)
        scheduled = [job for job in jobs if job["schedule"]]
        assert scheduled and {job["state"] for job in scheduled} == {"waiting"}
        assert all(job["waiting_until"] and not job["overdue"] for job in scheduled)
        known = database.query("SELECT COUNT(*) FROM operations_knownjob")
        assert known == [(len(scheduled),)]
    finally:
        database.drop()
