"""BaseCronJobCommand in-process: lock, run record, dry run, outcomes and exit codes."""

from __future__ import annotations

import datetime
import json
import os
import signal
import threading
import time
from typing import Any

import pytest
from django.db.models.functions import Now

from testsupport.commands import run_command
from utils.cronjob import BaseCronJobCommand
from utils.errors import UsageError
from utils.exitcodes import ExitCode
from utils.models import CronJobLock, CronJobRun

pytestmark = pytest.mark.django_db


def run_demo(*args: str) -> Any:
    return run_command("test_cronjob", "--unit-seconds=0", *args)


def test_a_run_takes_the_lock_records_success_and_releases() -> None:
    result = run_demo("--units=3", "--occurrence=slot-1")
    assert result.code == ExitCode.OK
    run = CronJobRun.objects.get()
    assert (run.job_name, run.occurrence, run.status) == ("test_cronjob", "slot-1", "succeeded")
    assert run.summary == {"processed": 3}
    assert run.exit_code == 0 and run.finished_at is not None and run.duration_seconds is not None
    assert not CronJobLock.objects.exists()
    emoji = [line.split()[0] for line in result.lines]
    assert emoji == ["🔒", "🚀", "📊", "ℹ️", "🔓", "✅"]
    assert result.lines[-1].startswith("✅ [test_cronjob] Completed test_cronjob in ")


def test_a_held_lock_means_skip_with_exit_0_and_a_skipped_run() -> None:
    CronJobLock.objects.acquire("test_cronjob", "web-7d9f-abc", 60)
    result = run_demo()
    assert result.code == ExitCode.OK
    assert result.lines == ["⏸️ [test_cronjob] Job test_cronjob is already running on web-7d9f-abc"]
    run = CronJobRun.objects.get()
    assert run.status == "skipped" and run.summary == {"held_by": "web-7d9f-abc"}
    assert CronJobLock.objects.get().locked_by == "web-7d9f-abc"


def test_an_occurrence_that_succeeded_is_skipped_unless_forced() -> None:
    assert run_demo("--occurrence=slot-1").code == 0
    second = run_demo("--occurrence=slot-1")
    assert second.code == 0
    assert "already succeeded for slot-1" in second.out
    forced = run_demo("--occurrence=slot-1", "--force")
    assert forced.code == 0
    statuses = list(CronJobRun.objects.order_by("pk").values_list("status", "forced"))
    assert statuses == [("succeeded", False), ("skipped", False), ("succeeded", True)]


def test_an_occurrence_that_failed_runs_again() -> None:
    assert run_demo("--occurrence=slot-1", "--fail-at=1").code == ExitCode.FAILED
    assert run_demo("--occurrence=slot-1").code == ExitCode.OK
    assert list(CronJobRun.objects.order_by("pk").values_list("status", flat=True)) == ["failed", "succeeded"]


class WritingJob(BaseCronJobCommand):
    """Writes even in a dry run, as a careless job might."""

    job_name = "writing_job"

    def execute_job(self, *args: Any, **options: Any) -> None:
        CronJobLock.objects.create(
            job_name="written-by-job", locked_by="x", token="t", locked_at=Now(), expires_at=Now()
        )
        self.count("wrote")


def test_dry_run_writes_nothing_even_when_the_job_tries() -> None:
    result = run_command(WritingJob(), "--dry-run")
    assert result.code == 0
    assert result.lines[0] == "🔍 [writing_job] DRY RUN: writing_job (no changes will be made)"
    assert "(wrote=1)" in result.lines[-1]
    assert not CronJobLock.objects.exists()
    assert not CronJobRun.objects.exists()


def test_dry_run_runs_even_while_the_lock_is_held() -> None:
    CronJobLock.objects.acquire("test_cronjob", "other", 60)
    result = run_demo("--dry-run", "--units=2")
    assert result.code == 0 and "(processed=2)" in result.out
    assert not CronJobRun.objects.exists()


def test_a_failing_job_exits_1_with_one_line_and_a_failed_run() -> None:
    result = run_demo("--units=3", "--fail-at=2")
    assert result.code == ExitCode.FAILED
    assert result.err.splitlines() == [
        "❌ [test_cronjob] Job test_cronjob failed: RuntimeError: unit 2 failed as requested by --fail-at "
        f"after {result.err.split('after ')[1].split('s ')[0]}s (processed=1) (exit 1)"
    ]
    run = CronJobRun.objects.get()
    assert (run.status, run.exit_code, run.summary) == ("failed", 1, {"processed": 1})
    assert run.error == "failed: RuntimeError: unit 2 failed as requested by --fail-at"
    assert not CronJobLock.objects.exists()


def test_the_traceback_is_shown_only_at_verbosity_2() -> None:
    assert "Traceback" not in run_demo("--fail-at=1").err
    assert "Traceback" in run_demo("--fail-at=1", "--verbosity=2").err


def test_max_execution_time_stops_the_job_at_a_checkpoint() -> None:
    result = run_command("test_cronjob", "--units=100", "--unit-seconds=0.02", "--max-seconds=0.2")
    assert result.code == ExitCode.FAILED
    run = CronJobRun.objects.get()
    assert run.status == "timed_out"
    assert 0 < run.summary["processed"] < 100
    assert "timed out: exceeded its max_execution_time of 0.2s" in result.err


class StubbornJob(BaseCronJobCommand):
    """Never reaches a checkpoint: only the hard stop can end it."""

    job_name = "stubborn_job"
    max_execution_time = datetime.timedelta(seconds=0.2)

    def execute_job(self, *args: Any, **options: Any) -> None:
        time.sleep(30)


def test_a_job_that_ignores_checkpoints_is_stopped_after_the_grace_period(settings: Any) -> None:
    settings.CRONJOB_STOP_GRACE_SECONDS = 0.3
    started = time.monotonic()
    result = run_command(StubbornJob())
    assert time.monotonic() - started < 5
    assert result.code == ExitCode.FAILED
    assert CronJobRun.objects.get().status == "timed_out"


def test_sigterm_stops_at_the_next_checkpoint_and_records_interrupted() -> None:
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    result = run_command("test_cronjob", "--units=200", "--unit-seconds=0.01")
    timer.join()
    assert result.code == ExitCode.SIGTERM
    run = CronJobRun.objects.get()
    assert (run.status, run.exit_code) == ("interrupted", 143)
    assert "interrupted by SIGTERM" in result.err
    assert not CronJobLock.objects.exists()
    # The command restored the handlers it replaced.
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_sigint_exits_130() -> None:
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    result = run_command("test_cronjob", "--units=200", "--unit-seconds=0.01")
    timer.join()
    assert result.code == ExitCode.SIGINT
    assert CronJobRun.objects.get().status == "interrupted"


class TakenOverJob(BaseCronJobCommand):
    """Loses its lease half-way: another pod takes the lock while it works."""

    job_name = "taken_over_job"

    def execute_job(self, *args: Any, **options: Any) -> None:
        with self.unit_of_work():
            self.count("units")
        CronJobLock.objects.filter(job_name=self.job_name).update(
            locked_by="pod-b", token="b" * 32, expires_at=Now() + datetime.timedelta(seconds=60)
        )
        with self.unit_of_work():
            self.count("units")  # never reached: the fence fails first


def test_a_run_that_lost_its_lease_stops_and_leaves_the_new_holder_alone() -> None:
    result = run_command(TakenOverJob())
    assert result.code == ExitCode.TEMPFAIL
    assert "lost the lock of taken_over_job" in result.err
    lock = CronJobLock.objects.get()
    assert (lock.locked_by, lock.token) == ("pod-b", "b" * 32)
    run = CronJobRun.objects.get()
    assert (run.status, run.summary) == ("failed", {"units": 1})
    assert "⚠️ [taken_over_job] Lock for taken_over_job was not found during release" in result.out


class ValidatingJob(BaseCronJobCommand):
    job_name = "validating_job"

    def validate_options(self, options: dict[str, Any]) -> None:
        raise UsageError("--lookback-months must be at least 1")

    def execute_job(self, *args: Any, **options: Any) -> None:
        raise AssertionError("must not run")


def test_a_usage_error_exits_2_and_changes_nothing() -> None:
    result = run_command(ValidatingJob())
    assert result.code == ExitCode.USAGE
    assert result.err == "❌ [validating_job] bad arguments: --lookback-months must be at least 1 (exit 2)\n"
    assert not CronJobRun.objects.exists() and not CronJobLock.objects.exists()


def test_argument_errors_exit_2() -> None:
    assert run_demo("--units=0").code == ExitCode.USAGE
    assert not CronJobRun.objects.exists()


def test_runs_left_running_by_a_dead_pod_are_closed_by_the_next_holder() -> None:
    dead = CronJobRun.objects.create(job_name="test_cronjob", occurrence="x", pod="dead-pod")
    assert run_demo().code == 0
    dead.refresh_from_db()
    assert dead.status == "failed" and dead.error.startswith("abandoned")


def test_json_log_lines_are_one_object_each_with_context() -> None:
    result = run_demo("--log-format=json", "--occurrence=slot-9")
    records = [json.loads(line) for line in result.lines]
    assert [r["event"] for r in records] == [
        "lock_acquired",
        "starting",
        "findings",
        "info",
        "released",
        "completed",
    ]
    for record in records:
        assert record["job"] == "test_cronjob" and record["occurrence"] == "slot-9"
        assert record["level"] == "info" and "time" in record and "pod" in record
    assert records[-1]["run_id"] == CronJobRun.objects.get().pk


def test_kubernetes_job_names_give_the_scheduled_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    slot = datetime.datetime(2026, 11, 23, 8, 0, tzinfo=datetime.UTC)
    monkeypatch.setenv("JOB_NAME", f"test-cronjob-{int(slot.timestamp()) // 60}")
    monkeypatch.setenv("POD_NAME", "test-cronjob-29391840-x7k2p")
    assert run_demo().code == 0
    run = CronJobRun.objects.get()
    assert (run.trigger, run.scheduled_for, run.pod) == ("scheduled", slot, "test-cronjob-29391840-x7k2p")
    assert run.occurrence == f"test-cronjob-{int(slot.timestamp()) // 60}"


def test_a_manual_kubectl_job_counts_as_manual(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOB_NAME", "manual-test-1763800000")
    assert run_demo().code == 0
    run = CronJobRun.objects.get()
    assert (run.trigger, run.scheduled_for, run.occurrence) == ("manual", None, "manual-test-1763800000")


def test_profile_reports_time_queries_and_peak_memory() -> None:
    def profile(units: int) -> dict[str, Any]:
        result = run_demo(f"--units={units}", "--profile", "--log-format=json")
        [record] = [r for r in map(json.loads, result.lines) if r["event"] == "profile"]
        return record

    three, six = profile(3), profile(6)
    assert three["queries"] > 0 and six["queries"] == 2 * three["queries"]  # a fixed cost per unit
    assert 0 <= three["seconds"] < 5 and three["peak_rss_mib"] > 10
    assert three["message"].startswith("execute_job took ")


class LeakyJob(BaseCronJobCommand):
    """Fails with an error whose text carries credentials."""

    job_name = "leaky_job"

    def execute_job(self, *args: Any, **options: Any) -> None:
        raise RuntimeError("could not reach https://svc:hunter2@api.example.org token=abc123")


def test_secrets_in_an_error_are_masked_in_the_run_record_and_the_line() -> None:
    result = run_command(LeakyJob(), "--verbosity=2")
    assert result.code == ExitCode.FAILED
    run = CronJobRun.objects.get()
    assert "hunter2" not in run.error and "abc123" not in run.error
    assert run.error == "failed: RuntimeError: could not reach https://svc:***@api.example.org token=***"
    assert "hunter2" not in result.err and "abc123" not in result.err  # the traceback too


def test_a_malformed_scheduled_time_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRONJOB_OCCURRENCE", "slot-1")
    monkeypatch.setenv("CRONJOB_SCHEDULED_FOR", "2026-01-01T10:00")
    result = run_demo()
    assert result.code == ExitCode.USAGE
    assert "CRONJOB_SCHEDULED_FOR='2026-01-01T10:00' has no time zone" in result.err
    assert not CronJobRun.objects.exists() and not CronJobLock.objects.exists()


class FlakyReleaseJob(BaseCronJobCommand):
    """Its first release attempt hits a broken connection."""

    job_name = "flaky_release_job"

    def execute_job(self, *args: Any, **options: Any) -> None:
        self.count("done")


@pytest.mark.django_db(transaction=True)  # the retry closes the broken connection
def test_a_release_that_fails_once_is_retried_with_the_same_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.db import OperationalError

    from utils.locking import CronJobLockManager

    real_release = CronJobLockManager.release
    calls: list[str] = []

    def release_once_broken(self: CronJobLockManager, lease: Any) -> bool:
        calls.append(lease.token)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real_release(self, lease)

    monkeypatch.setattr(CronJobLockManager, "release", release_once_broken)
    assert run_command(FlakyReleaseJob()).code == 0
    assert len(calls) == 2 and calls[0] == calls[1]
    assert not CronJobLock.objects.exists()
