"""The lock and the run record with real OS processes on a real database (SQLite and PostgreSQL).

The race of 20 processes and the lease lost in a stall are in test_faults.py, on every backend.
"""

from __future__ import annotations

import signal
import time

import pytest

from testsupport.databases import ScratchDatabase, manage_env, run_manage
from testsupport.processes import ManageProcess
from utils.exitcodes import ExitCode

pytestmark = pytest.mark.processes

LEASE = 3  # seconds: the shortest lease the settings accept
LOCK_WAIT = "2s"  # PostgreSQL's lock_timeout, shorter than the lease as the settings demand


def start(processes: list[ManageProcess], db: ScratchDatabase, *args: str, **env: str) -> ManageProcess:
    process = ManageProcess(
        *args,
        env=manage_env(db.url, CRONJOB_LEASE_SECONDS=str(LEASE), DATABASE_LOCK_TIMEOUT=LOCK_WAIT, **env),
    )
    processes.append(process)
    return process


def runs(db: ScratchDatabase) -> list[tuple[object, ...]]:
    return db.query("SELECT occurrence, status, pod, exit_code, summary FROM utils_cronjobrun ORDER BY id")


def lock_rows(db: ScratchDatabase) -> list[tuple[object, ...]]:
    return db.query("SELECT locked_by, token FROM utils_cronjoblock")


def test_a_holder_killed_with_sigkill_blocks_the_job_for_at_most_one_lease(
    scratch_db: ScratchDatabase, processes: list[ManageProcess]
) -> None:
    holder = start(processes, scratch_db, "test_cronjob", "--units=1000", "--unit-seconds=0.05")
    holder.wait_for_line("🔒")
    holder.send(signal.SIGKILL)
    killed_at = time.monotonic()
    assert holder.wait() == -signal.SIGKILL

    blocked = run_manage("test_cronjob", "--units=1", env=manage_env(scratch_db.url))
    assert blocked.returncode == 0 and "is already running on" in blocked.stdout

    time.sleep(max(0.0, killed_at + LEASE + 0.2 - time.monotonic()))
    successor = run_manage("test_cronjob", "--units=1", "--unit-seconds=0", env=manage_env(scratch_db.url))
    assert successor.returncode == 0, successor.stderr
    assert "🔒" in successor.stdout
    statuses = [(status, error) for _, status, *_ in runs(scratch_db) for error in [None]]
    assert [s for s, _ in statuses] == ["failed", "skipped", "succeeded"]  # the dead run is closed
    assert lock_rows(scratch_db) == []


def test_sigterm_releases_the_lock_records_interrupted_and_exits_143(
    scratch_db: ScratchDatabase, processes: list[ManageProcess]
) -> None:
    job = start(processes, scratch_db, "test_cronjob", "--units=1000", "--unit-seconds=0.05")
    job.wait_for_line("🔒")
    sent_at = time.monotonic()
    job.send(signal.SIGTERM)
    assert job.wait() == ExitCode.SIGTERM
    assert time.monotonic() - sent_at < 5  # well inside Kubernetes' 30 s grace period
    assert lock_rows(scratch_db) == []
    [(_, status, _, exit_code, _)] = runs(scratch_db)
    assert (status, exit_code) == ("interrupted", 143)
    assert job.stderr_lines == [line for line in job.stderr_lines if line.startswith("❌")]
    assert len(job.stderr_lines) == 1 and "interrupted by SIGTERM" in job.stderr_lines[0]


def test_an_unreachable_database_exits_75_with_one_line(tmp_path) -> None:
    for url in (
        "postgres://postgres@127.0.0.1:1/nowhere",
        f"sqlite:///{tmp_path}/missing-dir/db.sqlite3",
    ):
        result = run_manage("test_cronjob", env=manage_env(url))
        assert result.returncode == ExitCode.TEMPFAIL, (url, result.stderr)
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("❌ [test_cronjob] database unreachable: ")
        assert lines[0].endswith("(exit 75)")


def test_bad_arguments_exit_2_with_one_line(scratch_db: ScratchDatabase) -> None:
    result = run_manage("test_cronjob", "--units=-3", env=manage_env(scratch_db.url))
    assert result.returncode == ExitCode.USAGE
    assert result.stderr.splitlines() == [
        "❌ [test_cronjob] bad arguments: argument --units: '-3' must be at least 1 (see --help)"
    ]
    assert runs(scratch_db) == []
