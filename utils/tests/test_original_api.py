"""The original Manage2Soar API of the base class and the lock, as commands and tests ported
from it use it: the import path, a fresh instance's helpers, handle() with partial options,
the lock row's defaults, and the log lines its operators search for."""

from __future__ import annotations

import datetime
import json
import os
import socket
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, OutputWrapper
from django.utils import timezone

from testsupport.commands import run_command
from utils.exitcodes import CronJobExit, ExitCode
from utils.management.commands.base_cronjob import BaseCronJobCommand
from utils.models import CronJobLock, CronJobRun

pytestmark = pytest.mark.django_db


class ReportJob(BaseCronJobCommand):
    job_name = "report_job"

    def execute_job(self, *args: Any, **options: Any) -> str:
        self.log_info("Looking")
        return "Report done"


class BrokenJob(BaseCronJobCommand):
    job_name = "broken_job"

    def execute_job(self, *args: Any, **options: Any) -> None:
        raise LookupError("no such glider")


def test_the_original_import_path_is_the_base_class() -> None:
    from utils.cronjob import BaseCronJobCommand as base

    assert BaseCronJobCommand is base


def test_a_command_without_job_name_is_a_value_error() -> None:
    class Nameless(BaseCronJobCommand):
        pass

    with pytest.raises(ValueError, match="Nameless must define job_name"):
        Nameless()


def test_a_fresh_instance_has_the_original_attributes_and_defaults() -> None:
    job = ReportJob()
    assert (job.lock_acquired, job.verbosity, job.dry_run) == (False, 1, False)
    assert socket.gethostname() in job.pod_id and str(os.getpid()) in job.pod_id
    assert ReportJob.max_execution_time == datetime.timedelta(hours=1)


def test_helpers_work_on_a_fresh_instance_and_follow_a_swapped_stdout() -> None:
    job = ReportJob()
    job.stdout, job.stderr = OutputWrapper(out := StringIO()), OutputWrapper(err := StringIO())
    job.log_info("info")
    job.log_success("success")
    job.log_warning("warning")
    job.log_error("error")
    assert job.acquire_lock() is True and job.lock_acquired is True
    assert CronJobLock.objects.get().locked_by == job.pod_id
    job.release_lock()
    assert job.lock_acquired is False and not CronJobLock.objects.exists()
    lines = out.getvalue().splitlines()
    assert lines[:3] == ["ℹ️ [report_job] info", "✅ [report_job] success", "⚠️ [report_job] warning"]
    assert err.getvalue() == "❌ [report_job] error\n"
    assert lines[-1] == "🔓 [report_job] Released lock"


def test_verbosity_set_on_the_instance_is_what_the_helpers_obey() -> None:
    job = ReportJob()
    job.stdout = OutputWrapper(out := StringIO())
    job.verbosity = 0
    job.log_info("hidden")
    job.verbosity = 1
    job.log_info("shown")
    assert out.getvalue() == "ℹ️ [report_job] shown\n"


def test_handle_takes_partial_options_and_a_stdout_in_them() -> None:
    out = StringIO()
    result = ReportJob().handle(verbosity=1, dry_run=True, stdout=OutputWrapper(out))
    assert result == "Report done"
    lines = out.getvalue().splitlines()
    assert lines[0] == "🔍 [report_job] DRY RUN: report_job (no changes will be made)"
    assert lines[1] == "📝 [report_job] Skipping lock acquisition for dry run"
    assert lines[2].startswith("🚀 [report_job] Starting report_job on pod ")
    assert lines[3] == "ℹ️ [report_job] Looking"
    assert lines[4].startswith("✅ [report_job] Completed report_job in ") and lines[4].endswith("s")
    assert not CronJobLock.objects.exists() and not CronJobRun.objects.exists()


def test_handle_without_dry_run_holds_the_lock_and_returns_the_jobs_text() -> None:
    out = StringIO()
    assert ReportJob().handle(verbosity=1, stdout=out) == "Report done"
    assert CronJobRun.objects.get().status == "succeeded"
    assert "🚀 [report_job] Starting report_job on pod " in out.getvalue()


def test_call_command_returns_and_prints_the_text_a_job_returns() -> None:
    out = StringIO()
    assert call_command(ReportJob(), stdout=out) == "Report done"
    assert out.getvalue().splitlines()[-1] == "Report done"


def test_a_live_lock_is_the_original_skip_line() -> None:
    now = timezone.now()
    CronJobLock.objects.create(
        job_name="report_job", locked_by="other-pod", expires_at=now + datetime.timedelta(hours=1)
    )
    result = run_command(ReportJob())
    assert result.code == 0
    assert result.lines == ["⏸️ [report_job] Job report_job is already running on other-pod"]


def test_an_expired_lock_is_replaced_with_the_original_line_at_verbosity_2() -> None:
    now = timezone.now()
    CronJobLock.objects.create(
        job_name="report_job", locked_by="dead-pod", expires_at=now - datetime.timedelta(hours=1)
    )
    quiet = ReportJob()
    quiet.stdout = OutputWrapper(out := StringIO())
    assert quiet.acquire_lock() and out.getvalue() == ""
    quiet.release_lock()
    CronJobLock.objects.create(
        job_name="report_job", locked_by="dead-pod", expires_at=now - datetime.timedelta(hours=1)
    )
    result = run_command(ReportJob(), verbosity=2)
    assert "🔄 [report_job] Replaced expired lock for report_job" in result.lines


def test_a_failure_is_one_original_line_and_call_command_sees_the_exit_code() -> None:
    with pytest.raises(CronJobExit) as raised:
        call_command(BrokenJob(), stdout=StringIO(), stderr=(err := StringIO()))
    assert raised.value.returncode == ExitCode.FAILED
    assert isinstance(raised.value.__cause__, LookupError)
    [line] = err.getvalue().splitlines()
    assert line.startswith("❌ [broken_job] Job broken_job failed: LookupError: no such glider after ")
    assert line.endswith("(exit 1)")


def test_a_failure_line_is_shown_even_at_verbosity_0() -> None:
    result = run_command(BrokenJob(), verbosity=0)
    assert result.code == ExitCode.FAILED
    # As in the original, the start line shows at every verbosity, and so does the failure.
    assert result.out.startswith("🚀 [broken_job] Starting broken_job on pod ")
    [line] = result.err.splitlines()
    assert line.startswith("❌ [broken_job] Job broken_job failed: LookupError: no such glider")


def test_the_lock_row_defaults_locked_at_and_reads_as_the_original() -> None:
    before = timezone.now()
    lock = CronJobLock.objects.create(
        job_name="job", locked_by="pod-1", expires_at=before + datetime.timedelta(minutes=5)
    )
    assert before <= lock.locked_at <= timezone.now()
    assert str(lock) == "job (pod-1)"
    assert not lock.is_expired()
    CronJobLock.objects.create(
        job_name="old", locked_by="pod-2", expires_at=before - datetime.timedelta(minutes=5)
    )
    assert CronJobLock.cleanup_expired_locks() == 1


def test_cron_locks_cleanup_prints_the_original_line() -> None:
    past = timezone.now() - datetime.timedelta(minutes=5)
    CronJobLock.objects.create(job_name="a", locked_by="pod", expires_at=past)
    CronJobLock.objects.create(job_name="b", locked_by="pod", expires_at=past)
    result = run_command("cron_locks", "--cleanup")
    assert result.out == "🧹 Cleaned up 2 expired locks\n"


def test_the_base_class_module_refuses_to_run_as_a_command() -> None:
    with pytest.raises(CommandError, match="base_cronjob is the base class of scheduled commands") as raised:
        call_command("base_cronjob")
    assert raised.value.returncode == ExitCode.USAGE


@pytest.mark.processes
def test_manage_py_base_cronjob_is_one_line_and_exit_2(tmp_path: Any) -> None:
    from testsupport.databases import manage_env, run_manage

    for args in ((), ("--dry-run",), ("--help",)):
        result = run_manage("base_cronjob", *args, env=manage_env(f"sqlite:///{tmp_path}/db.sqlite3"))
        assert result.returncode == ExitCode.USAGE and result.stdout == ""
        [line] = result.stderr.splitlines()
        assert line.startswith("❌ [base_cronjob] base_cronjob is the base class of scheduled commands")


def test_the_plain_format_prints_the_original_lines_exactly() -> None:
    out = StringIO()
    call_command(ReportJob(), "--log-format=plain", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[1].startswith("🚀 Starting report_job on pod ")
    assert lines[2] == "ℹ️ Looking"
    assert lines[4].startswith("✅ Completed report_job in ")


def test_json_lines_carry_the_same_messages() -> None:
    out = StringIO()
    assert call_command(ReportJob(), "--log-format=json", stdout=out) is None
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    messages = {record["event"]: record["message"] for record in records}
    assert messages["starting"].startswith("Starting report_job on pod ")
    assert messages["completed"].startswith("Completed report_job in ")
    assert messages["result"] == "Report done"  # the returned text, as a line of its own


def test_the_pod_id_is_fixed_when_the_command_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    hosts = iter(["host1", "host2"])
    monkeypatch.setattr(socket, "gethostname", lambda: next(hosts))
    first, second = ReportJob(), ReportJob()  # as the original's tests make two "pods"
    assert first.pod_id.startswith("host1-") and second.pod_id.startswith("host2-")
    assert first.acquire_lock() and not second.acquire_lock()
    first.release_lock()
    assert second.acquire_lock()
