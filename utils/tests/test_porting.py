"""A command written for the original Manage2Soar base class runs here unchanged and prints
the lines its operators know (utils/tests/ported_cronjob.py). In-process on the suite's
database (SQLite, or PostgreSQL with TEST_DB=postgres), and as a real process on both."""

from __future__ import annotations

import re
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import OutputWrapper

from testsupport.databases import REPO, ScratchDatabase, manage_env
from utils.models import CronJobLock, CronJobRun
from utils.tests.ported_cronjob import Command, ExampleCommand

DURATION = r"\d+\.\d\ds"


def assert_original_lines(lines: list[str], pod: str = r"\S+") -> None:
    patterns = [
        r"🔒 \[ported_cronjob\] Acquired lock for pod: " + pod,
        r"🚀 \[ported_cronjob\] Starting ported_cronjob on pod " + pod,
        r"ℹ️ \[ported_cronjob\] Porting check starting\.\.\.",
        r"✅ \[ported_cronjob\] The base class answered every call",
        r"⚠️ \[ported_cronjob\] This is a warning line",
        r"ℹ️ \[ported_cronjob\] Porting check finished",
        r"🔓 \[ported_cronjob\] Released lock",
        rf"✅ \[ported_cronjob\] Completed ported_cronjob in {DURATION}",
        r"Porting check completed",
    ]
    assert len(lines) == len(patterns), lines
    for line, pattern in zip(lines, patterns, strict=True):
        assert re.fullmatch(pattern, line), (line, pattern)


@pytest.mark.django_db
def test_the_ported_command_runs_unchanged_and_prints_the_original_lines() -> None:
    out = StringIO()
    assert call_command(Command(), stdout=out) == "Porting check completed"
    assert_original_lines(out.getvalue().splitlines())
    run = CronJobRun.objects.get()
    assert (run.job_name, run.status) == ("ported_cronjob", "succeeded")
    assert not CronJobLock.objects.exists()


@pytest.mark.django_db
def test_the_ported_commands_own_lock_calls_work_as_in_the_original() -> None:
    first, second = Command(), Command()
    assert first.acquire_lock() is True and first.lock_acquired is True
    assert second.acquire_lock() is False and second.lock_acquired is False
    assert CronJobLock.objects.get(job_name="ported_cronjob").locked_by == first.pod_id
    first.release_lock()
    assert first.lock_acquired is False
    assert second.acquire_lock() is True
    second.release_lock()
    assert not CronJobLock.objects.exists()


@pytest.mark.django_db
def test_a_dry_run_called_as_the_originals_tests_call_it() -> None:
    command = Command()
    command.stdout = OutputWrapper(out := StringIO())
    assert command.handle(verbosity=1, dry_run=True) == "Porting check completed"
    lines = out.getvalue().splitlines()
    assert lines[:2] == [
        "🔍 [ported_cronjob] DRY RUN: ported_cronjob (no changes will be made)",
        "📝 [ported_cronjob] Skipping lock acquisition for dry run",
    ]
    assert lines[2].startswith("🚀 [ported_cronjob] Starting ported_cronjob on pod ")
    assert re.fullmatch(rf"✅ \[ported_cronjob\] Completed ported_cronjob in {DURATION}", lines[-1])
    assert not CronJobRun.objects.exists() and not CronJobLock.objects.exists()
    assert Command.max_execution_time is not None and Command.max_execution_time.total_seconds() == 300


@pytest.mark.django_db
def test_the_documented_example_writes_to_its_stdout() -> None:
    out = StringIO()
    call_command(ExampleCommand(), stdout=out)
    lines = out.getvalue().splitlines()
    assert "Job executed successfully" in lines
    assert lines.index("Job executed successfully") == 2  # after the lock and start lines


RUN_PORTED = (
    "import sys, django; django.setup(); "
    "from utils.tests.ported_cronjob import Command; "
    "Command().run_from_argv(['manage.py', 'ported_cronjob', *sys.argv[1:]])"
)


@pytest.mark.processes
def test_the_ported_command_as_a_process_on_each_backend(scratch_db: ScratchDatabase) -> None:
    env = manage_env(scratch_db.url, POD_NAME="ported-cronjob-29414400-x7k2p")
    result = subprocess.run(
        [sys.executable, "-c", RUN_PORTED], env=env, cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert_original_lines(result.stdout.splitlines(), pod="ported-cronjob-29414400-x7k2p")
    assert scratch_db.query("SELECT status FROM utils_cronjobrun WHERE job_name = 'ported_cronjob'") == [
        ("succeeded",)
    ]
