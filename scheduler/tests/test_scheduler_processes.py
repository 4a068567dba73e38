"""The scheduler with real processes on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime
import signal
import socket
import time

import pytest

from scheduler.children import ProcessLauncher
from scheduler.scheduler import Scheduler
from testsupport.databases import ScratchDatabase, manage_env, run_manage
from testsupport.processes import ManageProcess
from testsupport.scheduling import OffsetClock, captured_logger, spec
from utils.exitcodes import ExitCode

pytestmark = pytest.mark.processes

UTC = datetime.UTC
EVERY_MINUTE = ["--job=test_cronjob", "--schedule=* * * * *"]


def runs(db: ScratchDatabase) -> list[tuple[object, ...]]:
    return db.query(
        "SELECT occurrence, status, exit_code, trigger, pod, error FROM utils_cronjobrun ORDER BY id"
    )


def lock_rows(db: ScratchDatabase) -> list[tuple[object, ...]]:
    return db.query("SELECT locked_by FROM utils_cronjoblock")


def ran_two_minutes_ago(db: ScratchDatabase) -> None:
    """A scheduled run of test_cronjob in the history, so a scheduler catches up this minute's slot."""
    slot = datetime.datetime.now(UTC).replace(second=0, microsecond=0) - datetime.timedelta(minutes=2)
    db.query(
        "INSERT INTO utils_cronjobrun (job_name, occurrence, trigger, scheduled_for, pod, started_at, "
        "status, summary, error, forced) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        ("test_cronjob", "earlier", "scheduled", slot, "pod", slot, "succeeded", "{}", "", False),
    )


def avoid_a_minute_boundary() -> None:
    """Start well inside a minute, so every scheduler in the test sees the same latest slot."""
    second = datetime.datetime.now(UTC).second
    if second > 48:
        time.sleep(61 - second)


def scheduler_process(
    processes: list[ManageProcess], db: ScratchDatabase, *args: str, **env: str
) -> ManageProcess:
    process = ManageProcess("run_scheduler", *args, env=manage_env(db.url, **env))
    processes.append(process)
    return process


def test_once_runs_the_job_now_as_a_manual_run(scratch_db: ScratchDatabase) -> None:
    result = run_manage(
        "run_scheduler",
        "--once=test_cronjob",
        "--",
        "--units=2",
        "--unit-seconds=0",
        env=manage_env(scratch_db.url),
    )
    assert result.returncode == 0, result.stderr
    assert "⏰ [scheduler] Started test_cronjob now (a manual run), pid" in result.stdout
    assert "✅ [test_cronjob] Completed test_cronjob in " in result.stdout
    [(occurrence, status, exit_code, trigger, pod, _)] = runs(scratch_db)
    assert (status, exit_code, trigger) == ("succeeded", 0, "manual")
    assert str(occurrence).startswith("manual-")
    assert str(pod).startswith(f"{socket.gethostname()}-test-cronjob-")


def test_a_child_overrunning_its_deadline_is_stopped_and_recorded_timed_out(
    scratch_db: ScratchDatabase,
) -> None:
    started = time.monotonic()
    result = run_manage(
        "run_scheduler",
        "--once=test_cronjob",
        "--deadline=1",  # the scheduler's deadline; the job's own timer says 5 minutes
        "--",
        "--units=1000",
        "--unit-seconds=0.05",
        env=manage_env(scratch_db.url, CRONJOB_STOP_GRACE_SECONDS="0.5"),
    )
    assert result.returncode == ExitCode.FAILED, result.stdout + result.stderr
    assert time.monotonic() - started < 10  # 1 s deadline + 0.5 s grace + 2 s slack, then SIGTERM
    assert (
        "⏱️ [scheduler] test_cronjob" in result.stdout
        and "overran its max_execution_time of 1s" in result.stdout
    )
    [(_, status, exit_code, _, _, error)] = runs(scratch_db)
    assert (status, exit_code) == ("timed_out", 1)
    assert error == "timed out: ran past its max_execution_time of 1s; stopped by the scheduler"
    assert lock_rows(scratch_db) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_is_passed_on_to_the_running_job_and_the_scheduler_exits_0(
    scratch_db: ScratchDatabase, processes: list[ManageProcess], signum: int
) -> None:
    ran_two_minutes_ago(scratch_db)
    scheduler = scheduler_process(
        processes, scratch_db, *EVERY_MINUTE, "--", "--units=1000", "--unit-seconds=0.05"
    )
    scheduler.wait_for_line(r"^🔒 \[test_cronjob\]")
    sent = time.monotonic()
    scheduler.send(signum)
    assert scheduler.wait(timeout=30) == 0
    assert time.monotonic() - sent < 5
    assert scheduler.stdout_lines[-1] == "⏰ [scheduler] Scheduler stopped"
    code = ExitCode.SIGINT if signum == signal.SIGINT else ExitCode.SIGTERM
    assert runs(scratch_db)[-1][1:3] == ("interrupted", code)
    assert lock_rows(scratch_db) == []


def test_a_job_that_outlasts_the_grace_period_is_killed_and_recorded(
    scratch_db: ScratchDatabase, processes: list[ManageProcess]
) -> None:
    ran_two_minutes_ago(scratch_db)
    scheduler = scheduler_process(
        processes,
        scratch_db,
        *EVERY_MINUTE,
        "--",
        "--units=3",
        "--unit-seconds=30",  # a long unit: no checkpoint for 30 s
        CRONJOB_SCHEDULER_GRACE_SECONDS="1",
        CRONJOB_STOP_GRACE_SECONDS="20",
    )
    scheduler.wait_for_line(r"^📊 \[test_cronjob\]")
    time.sleep(0.5)  # past its first checkpoint (where a SIGTERM would stop it), into the unit
    scheduler.send(signal.SIGTERM)
    assert scheduler.wait(timeout=30) == 0
    assert any("still running 1s after SIGTERM: SIGKILL" in line for line in scheduler.stdout_lines), (
        scheduler.stdout_lines,
        scheduler.stderr_lines,
    )
    [_, (_, status, exit_code, _, _, error)] = runs(scratch_db)
    assert (status, exit_code, error) == (
        "interrupted",
        143,
        "interrupted: killed by the scheduler 1s after SIGTERM",
    )
    assert lock_rows(scratch_db) == []


def test_two_schedulers_racing_for_one_slot_run_it_once(
    scratch_db: ScratchDatabase, processes: list[ManageProcess]
) -> None:
    ran_two_minutes_ago(scratch_db)
    avoid_a_minute_boundary()
    args = (*EVERY_MINUTE, "--for=4s", "--", "--units=3", "--unit-seconds=0.3")
    first = scheduler_process(processes, scratch_db, *args)
    second = scheduler_process(processes, scratch_db, *args)
    assert first.wait() == 0 and second.wait() == 0
    attempts = [(occurrence, status) for occurrence, status, *_ in runs(scratch_db)[1:]]
    assert len({occurrence for occurrence, _ in attempts}) == 1, attempts
    statuses = sorted(str(status) for _, status in attempts)
    started = [
        line
        for scheduler in (first, second)
        for line in scheduler.stdout_lines
        if line.startswith("⏰ [scheduler] Started test_cronjob")
    ]
    # Both schedulers started a child (the loser's child skips), or, on a busy machine, the
    # later scheduler read the slot as already started by the other and started none.
    assert statuses in (["skipped", "succeeded"], ["succeeded"]), attempts
    assert len(started) == len(statuses), started
    (occurrence,) = {occurrence for occurrence, _ in attempts}
    minutes = int(datetime.datetime.now(UTC).replace(second=0, microsecond=0).timestamp()) // 60
    assert occurrence in (f"test-cronjob-{minutes}", f"test-cronjob-{minutes - 1}")


def test_specs_given_in_code_start_real_children_on_their_slot(scratch_db: ScratchDatabase) -> None:
    slot = datetime.datetime(2026, 6, 1, 6, tzinfo=UTC)
    clock = OffsetClock(slot - datetime.timedelta(seconds=1.5))
    logger, out = captured_logger()
    launcher = ProcessLauncher(base_env=manage_env(scratch_db.url))
    job = spec("0 6 * * *", command="test_cronjob")
    scheduler = Scheduler([job], clock=clock, launcher=launcher, logger=logger, job_args=["--units=1"])

    scheduler.run(until=slot + datetime.timedelta(seconds=8))

    assert scheduler.exit_codes == {"test_cronjob": 0}, out.getvalue()
    row = scratch_db.query("SELECT occurrence, trigger, status, scheduled_for FROM utils_cronjobrun")
    [(occurrence, trigger, status, scheduled_for)] = row
    assert (occurrence, trigger, status) == (
        f"test-cronjob-{int(slot.timestamp()) // 60}",
        "scheduled",
        "succeeded",
    )
    assert str(scheduled_for).startswith("2026-06-01 06:00:00")
