"""The lock and the run record with real OS processes on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import signal
import time
from collections import Counter, defaultdict

import pytest

from utils.exitcodes import ExitCode
from utils.testing.databases import ScratchDatabase, manage_env, run_manage
from utils.testing.processes import ManageProcess
from utils.testing.race import race

pytestmark = pytest.mark.processes

LEASE = 3  # seconds: the shortest lease the settings accept


def start(processes: list[ManageProcess], db: ScratchDatabase, *args: str, **env: str) -> ManageProcess:
    process = ManageProcess(*args, env=manage_env(db.url, CRONJOB_LEASE_SECONDS=str(LEASE), **env))
    processes.append(process)
    return process


def runs(db: ScratchDatabase) -> list[tuple[object, ...]]:
    return db.query("SELECT occurrence, status, pod, exit_code, summary FROM utils_cronjobrun ORDER BY id")


def lock_rows(db: ScratchDatabase) -> list[tuple[object, ...]]:
    return db.query("SELECT locked_by, token FROM utils_cronjoblock")


def test_twenty_processes_racing_run_the_job_exactly_once_a_round(scratch_db: ScratchDatabase) -> None:
    rounds = 25
    attempts = race(scratch_db.url, processes=20, rounds=rounds)
    assert len(attempts) == 20 * rounds
    assert all(a.code == 0 for a in attempts), Counter(a.code for a in attempts)
    ran_per_round = Counter(a.round for a in attempts if not a.skipped)
    assert ran_per_round == dict.fromkeys(range(rounds), 1)
    succeeded = defaultdict(int)
    for occurrence, status, *_ in runs(scratch_db):
        assert status in ("succeeded", "skipped")
        succeeded[occurrence] += status == "succeeded"
    assert succeeded == {f"round-{r}": 1 for r in range(rounds)}
    assert lock_rows(scratch_db) == []


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


def test_a_run_whose_lease_expired_during_a_stall_stops_and_leaves_the_new_holder_alone(
    scratch_db: ScratchDatabase, processes: list[ManageProcess]
) -> None:
    stale = start(processes, scratch_db, "test_cronjob", "--units=1000", "--unit-seconds=0.3", "-v2")
    stale.wait_for_line("Unit 2 done")  # it is now sleeping between units, outside a transaction
    stale.send(signal.SIGSTOP)
    time.sleep(LEASE + 0.5)
    successor = start(processes, scratch_db, "test_cronjob", "--units=15", "--unit-seconds=0.2")
    successor.wait_for_line("🔒")
    [(holder, token)] = lock_rows(scratch_db)
    stale.send(signal.SIGCONT)

    assert stale.wait() == ExitCode.TEMPFAIL
    assert any("lost the lock of test_cronjob" in line for line in stale.stderr_lines)
    assert lock_rows(scratch_db) == [(holder, token)]  # untouched by the stale run
    assert successor.wait() == ExitCode.OK
    assert "🔓 [test_cronjob] Released lock" in successor.stdout_lines
    stale_run, successor_run = runs(scratch_db)
    assert stale_run[1] == "failed" and successor_run[1] == "succeeded"
    assert '"processed": 2' in str(stale_run[4]) or "'processed': 2" in str(stale_run[4])


def test_an_unreachable_database_exits_75_with_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
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
