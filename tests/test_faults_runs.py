"""Fault injection on the run and the lock (make faults): real manage.py processes on the real
PostgreSQL server, a real SMTP server and a real HTTP server on loopback.

- a Job's retried pod after its first pod was killed with SIGKILL finishes the occurrence;
- a retried pod whose occurrence is held by a live run exits 75, never 0;
- a heartbeat that keeps failing stops the job before its lease can lapse;
- a renewal that waited behind a row lock doesn't revive a lease that ran out meanwhile;
- a connection left closed ("connection already closed") is one line, never a traceback.

The sending job is report_duty_delinquents on the demo club (15 reports at scale 1).
"""

from __future__ import annotations

import asyncio
import re
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testsupport.databases import ScratchDatabase, manage_env, run_manage
from testsupport.http import HTTPRecorder
from testsupport.processes import ManageProcess
from testsupport.smtp import SMTPServer
from utils.exitcodes import ExitCode

pytestmark = [pytest.mark.faults, pytest.mark.processes, pytest.mark.postgres]

JOB = "report_duty_delinquents"
SLOT = "report-duty-delinquents-29414400"  # a CronJob's Job name: <cronjob>-<minutes since the epoch>
LEASE = 3
LOCK_WAIT = "2s"  # DATABASE_LOCK_TIMEOUT: shorter than the lease, as the settings demand
TABLES = ("notifications_delivery", "notifications_notification", "utils_cronjobrun", "utils_cronjoblock")


@pytest.fixture(scope="module")
def club() -> Iterator[ScratchDatabase]:
    """The demo club (scale 1) on a PostgreSQL database of this module's own."""
    database = ScratchDatabase("postgres").create()
    try:
        seeded = run_manage("seed_demo", "--scale", "1", env=manage_env(database.url))
        assert seeded.returncode == 0, seeded.stderr
        yield database
    finally:
        database.drop()


@pytest.fixture
def db(club: ScratchDatabase) -> ScratchDatabase:
    club.empty(TABLES)
    return club


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    server = SMTPServer()
    yield server.start()
    server.stop()


def env(
    db: ScratchDatabase, smtp: SMTPServer, media: Path, lease: int = LEASE, **extra: str
) -> dict[str, str]:
    return manage_env(
        db.url,
        EMAIL_URL=smtp.url,
        CRONJOB_LEASE_SECONDS=str(lease),
        DATABASE_LOCK_TIMEOUT=LOCK_WAIT,
        MEDIA_ROOT=str(media),
        **extra,
    )


def expected_recipients(db: ScratchDatabase, smtp: SMTPServer, media: Path) -> int:
    dry = run_manage(JOB, "--dry-run", env=env(db, smtp, media))
    assert dry.returncode == 0, dry.stderr
    would_send = re.search(r"📧 would send (\d+)", dry.stdout)
    assert would_send, dry.stdout
    return int(would_send.group(1))


def started(processes: list[ManageProcess], *args: str, env: dict[str, str]) -> ManageProcess:
    process = ManageProcess(*args, env=env)
    processes.append(process)
    return process


def ledger(db: ScratchDatabase) -> Counter[str]:
    return Counter(str(status) for (status,) in db.query("SELECT status FROM notifications_delivery"))


def runs(db: ScratchDatabase) -> list[tuple[Any, ...]]:
    return db.query("SELECT status, exit_code, error FROM utils_cronjobrun ORDER BY id")


def lock_rows(db: ScratchDatabase) -> list[tuple[Any, ...]]:
    return db.query("SELECT locked_by, token FROM utils_cronjoblock")


# --- A retried pod of the same occurrence ----------------------------------------------------
def test_a_pod_retried_at_once_after_a_sigkill_waits_out_the_lease_and_finishes_the_occurrence(
    db: ScratchDatabase, smtp: SMTPServer, tmp_path: Path, processes: list[ManageProcess]
) -> None:
    """The Job's next pod starts while the killed pod's lease is still live: it waits for the
    lease, takes over, closes the dead run and sends the rest; every member gets one copy."""
    total = expected_recipients(db, smtp, tmp_path)
    # A lease long enough to be live still when the next pod has started, even on a busy machine.
    job = env(db, smtp, tmp_path, lease=6, JOB_NAME=SLOT)
    smtp.hold_after = 4  # the fifth report waits at MAIL FROM: not handed over
    first = started(processes, JOB, env=job)
    assert smtp.holding.wait(30), first.stderr_lines
    first.send(signal.SIGKILL)
    assert first.wait() == -signal.SIGKILL
    smtp.release()
    assert len(smtp.messages) == 4
    assert db.query("SELECT count(*) FROM utils_cronjoblock WHERE expires_at > now()") == [(1,)]

    retry = run_manage(JOB, env=job)

    rows = ledger(db)
    in_doubt = total - rows["sent"]  # at most the one in flight when the pod died
    assert sum(rows.values()) == total and in_doubt <= 1, rows
    if in_doubt:
        assert retry.returncode == ExitCode.FAILED, (retry.stdout, retry.stderr)
    else:
        assert retry.returncode == ExitCode.OK, (retry.stdout, retry.stderr)
        assert f"📧 sent {total - 4}, 4 already sent" in retry.stdout
    copies = Counter(smtp.recipients())
    assert len(copies) >= total - in_doubt and set(copies.values()) == {1}, copies
    assert "⏳" in retry.stdout and "🔄 [report_duty_delinquents] Replaced expired lock" in retry.stdout, (
        retry.stdout
    )
    statuses = [status for status, *_ in runs(db)]
    assert statuses == ["failed", "failed" if in_doubt else "succeeded"], runs(db)
    assert str(runs(db)[0][2]).startswith("abandoned")
    assert lock_rows(db) == []


def test_a_pod_of_an_occurrence_whose_live_run_holds_the_lock_exits_75_after_its_wait(
    db: ScratchDatabase, smtp: SMTPServer, tmp_path: Path, processes: list[ManageProcess]
) -> None:
    """Never 0 while the occurrence is unfinished: the holder is alive (renewing), so after one
    lease and the margin the second pod exits 75 and the Job retries later. A run of another
    occurrence skips at once with 0, as before."""
    environment = env(db, smtp, tmp_path)
    holder = started(
        processes,
        "test_cronjob",
        "--occurrence=slot-1",
        "--units=400",
        "--unit-seconds=0.05",
        env=environment,
    )
    holder.wait_for_line("🔒")

    other = run_manage("test_cronjob", "--occurrence=slot-2", "--units=1", env=environment)
    assert other.returncode == 0 and "is already running on" in other.stdout, other.stdout

    began = time.monotonic()
    same = run_manage("test_cronjob", "--occurrence=slot-1", "--units=1", env=environment)
    waited = time.monotonic() - began
    assert same.returncode == ExitCode.TEMPFAIL, (same.stdout, same.stderr)
    [line] = same.stderr.splitlines()
    assert "still running slot-1" in line and line.endswith("(exit 75)"), line
    assert LEASE <= waited < LEASE + 10, waited
    assert holder.wait() == 0
    assert [s for s, *_ in runs(db)] == ["succeeded", "skipped"]  # the exit 75 wrote no run


def test_a_waiting_pod_stops_at_once_on_sigterm(
    db: ScratchDatabase, smtp: SMTPServer, tmp_path: Path, processes: list[ManageProcess]
) -> None:
    environment = env(db, smtp, tmp_path)
    holder = started(
        processes,
        "test_cronjob",
        "--occurrence=slot-1",
        "--units=400",
        "--unit-seconds=0.05",
        env=environment,
    )
    holder.wait_for_line("🔒")
    waiter = started(processes, "test_cronjob", "--occurrence=slot-1", env=environment)
    waiter.wait_for_line("⏳")
    sent_at = time.monotonic()
    waiter.send(signal.SIGTERM)
    assert waiter.wait() == ExitCode.SIGTERM
    assert time.monotonic() - sent_at < 2
    assert len(waiter.stderr_lines) == 1 and "interrupted by SIGTERM" in waiter.stderr_lines[0]
    holder.send(signal.SIGTERM)
    assert holder.wait() == ExitCode.SIGTERM


# --- The heartbeat ---------------------------------------------------------------------------
# The heartbeat renews in autocommit, so its UPDATE is the first statement of its transaction;
# a unit of work renews after BEGIN. This trigger kills every connection that renews on its own
# (pg_terminate_backend on itself), before the renewal is written: the heartbeat's connections
# die on every beat while the main connection works on.
KILL_THE_HEARTBEAT = """
CREATE FUNCTION kill_the_heartbeat() RETURNS trigger AS $$
BEGIN
    IF statement_timestamp() = transaction_timestamp() THEN
        PERFORM pg_terminate_backend(pg_backend_pid());
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER kill_the_heartbeat BEFORE UPDATE ON utils_cronjoblock
    FOR EACH ROW EXECUTE FUNCTION kill_the_heartbeat();
"""
SPARE_THE_HEARTBEAT = """
DROP TRIGGER IF EXISTS kill_the_heartbeat ON utils_cronjoblock;
DROP FUNCTION IF EXISTS kill_the_heartbeat();
"""


class SlowSMTPServer(SMTPServer):
    """Takes ``delay`` seconds over each message, so a run outlasts its lease."""

    delay = 0.4

    async def _receive(self, smtp: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)
        return await super()._receive(smtp, envelope)


@pytest.fixture
def heartbeat_killer(db: ScratchDatabase) -> Iterator[None]:
    db.query(KILL_THE_HEARTBEAT)
    try:
        yield
    finally:
        db.query(SPARE_THE_HEARTBEAT)


def test_a_heartbeat_whose_connections_keep_dying_stops_the_job_before_its_lease_can_lapse(
    db: ScratchDatabase, tmp_path: Path, processes: list[ManageProcess], heartbeat_killer: None
) -> None:
    slow = SlowSMTPServer().start()
    try:
        job = started(processes, JOB, env=env(db, slow, tmp_path))
        assert job.wait() == ExitCode.TEMPFAIL, (job.stdout_lines, job.stderr_lines)
        stopped_at = len(slow.messages)
    finally:
        slow.stop()
    [line] = job.stderr_lines
    assert "heartbeat could not renew" in line and line.endswith("(exit 75)"), line
    # Stopped after about two thirds of a lease: a few reports out of fifteen, each once.
    assert stopped_at < 15, stopped_at
    assert set(Counter(slow.recipients()).values()) == {1}
    assert ledger(db)["sent"] == stopped_at and not ledger(db)["pending"], ledger(db)
    assert [(status, code) for status, code, _ in runs(db)] == [("failed", 75)]
    assert lock_rows(db) == []  # released on the main connection
    warnings = [line for line in job.stdout_lines if "Heartbeat could not renew" in line]
    assert warnings, job.stdout_lines


# --- A renewal that waited behind a row lock -------------------------------------------------
def test_a_renewal_that_waited_behind_a_row_lock_does_not_revive_a_lease_that_ran_out(
    db: ScratchDatabase, smtp: SMTPServer, tmp_path: Path, processes: list[ManageProcess]
) -> None:
    """Another transaction holds the lock row while the lease runs out (here it shortens the
    lease to one second and keeps the row locked for 1.4 s). The job's renewals queue behind it;
    when they get the row the lease is over, so the job stops as having lost it (exit 75)."""
    job = started(
        processes, "test_cronjob", "--units=400", "--unit-seconds=0.1", "-v2", env=env(db, smtp, tmp_path)
    )
    job.wait_for_line("Unit 2 done")
    blocker = db.connect()
    try:
        cursor = blocker.cursor()
        cursor.execute("BEGIN", ())
        cursor.execute(
            "UPDATE utils_cronjoblock SET expires_at = clock_timestamp() + interval '1 second'", ()
        )
        time.sleep(1.4)  # past the lease, well inside the lock wait (2 s)
        cursor.execute("COMMIT", ())
    finally:
        blocker.close()
    assert job.wait() == ExitCode.TEMPFAIL, (job.stdout_lines, job.stderr_lines)
    [line] = job.stderr_lines
    assert "lost the lock of test_cronjob" in line and line.endswith("(exit 75)"), line
    [(status, code, _)] = runs(db)
    assert (status, code) == ("failed", 75)


# --- A connection left closed ----------------------------------------------------------------
def wait_for_ping(monitor: HTTPRecorder, suffix: str) -> None:
    deadline = time.monotonic() + 30
    while not any(r.path.endswith(suffix) for r in monitor.requests):
        assert time.monotonic() < deadline, f"no {suffix} ping"
        time.sleep(0.02)


def test_a_connection_left_closed_by_a_failed_alert_is_replaced_and_the_lock_released(
    db: ScratchDatabase, smtp: SMTPServer, tmp_path: Path, processes: list[ManageProcess]
) -> None:
    """The run failed; while its fail ping is out, its database connections are killed. The
    failure alert's query then fails (a warning), which leaves the connection closed: the
    release after it gets "connection already closed" (InterfaceError). That is one more
    database error, retried on a new connection: the lock is released, one line, exit 1."""
    monitor = HTTPRecorder(delay=2).start()  # each ping is answered 2 s late
    try:
        environment = env(
            db,
            smtp,
            tmp_path,
            CRONJOB_PING_URL_TEMPLATE=monitor.url + "/{job}",
            CRONJOB_MONITOR_TIMEOUT="20",
            CRONJOB_ALERT_AFTER_FAILURES="1",
            ADMIN_EMAILS="admin@example.org",
        )
        job = started(
            processes, "test_cronjob", "--units=3", "--unit-seconds=0", "--fail-at=2", env=environment
        )
        wait_for_ping(monitor, "/fail")
        killed = db.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND datname = current_database()",  # this test's database only
            ("manage2soar:test_cronjob",),
        )
        assert killed and all(ok for (ok,) in killed)
        code = job.wait()
    finally:
        monitor.stop()
    assert code == ExitCode.FAILED, (job.stdout_lines, job.stderr_lines)
    assert len(job.stderr_lines) == 1, "\n".join(job.stderr_lines)
    [line] = job.stderr_lines
    assert "unit 2 failed as requested" in line and line.endswith("(exit 1)"), line
    assert not any("Traceback" in line for line in job.stdout_lines)
    assert [(status, exit_code) for status, exit_code, _ in runs(db)] == [("failed", 1)]
    assert lock_rows(db) == []
