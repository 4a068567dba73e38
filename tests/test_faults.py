"""Fault injection (make faults): real manage.py processes, the real PostgreSQL server, a real
SMTP server on loopback. Each scenario breaks a run the way production breaks it and asserts
what was sent and what the database holds afterwards.

The job under test is report_duty_delinquents on the demo club: one report to each of the
board members and duty officers (15 at scale 1), each through the delivery ledger.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from testsupport.databases import ScratchDatabase, manage_env, run_manage
from testsupport.processes import ManageProcess
from testsupport.smtp import SMTPServer
from utils.exitcodes import ExitCode

pytestmark = [pytest.mark.faults, pytest.mark.processes]

JOB = "report_duty_delinquents"
LEASE = 3
TABLES = ("notifications_delivery", "notifications_notification", "utils_cronjobrun", "utils_cronjoblock")


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", id="mariadb", marks=pytest.mark.mariadb),
]
_clubs: dict[str, ScratchDatabase] = {}


@pytest.fixture(scope="module", autouse=True)
def _drop_clubs() -> Iterator[None]:
    yield
    while _clubs:
        _clubs.popitem()[1].drop()


def club_on(backend: str) -> ScratchDatabase:
    """A migrated database of ``backend`` holding the demo club (scale 1), emptied of runs."""
    if backend not in _clubs:
        database = ScratchDatabase(backend).create()
        seeded = run_manage("seed_demo", "--scale", "1", env=manage_env(database.url))
        assert seeded.returncode == 0, seeded.stderr
        _clubs[backend] = database
    _clubs[backend].empty(TABLES)
    return _clubs[backend]


@pytest.fixture
def db() -> ScratchDatabase:
    """The demo club on PostgreSQL."""
    return club_on("postgres")


@pytest.fixture(params=BACKENDS)
def any_db(request: pytest.FixtureRequest) -> ScratchDatabase:
    """The demo club on each database the settings accept."""
    return club_on(request.param)


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    server = SMTPServer()
    yield server.start()
    server.stop()


def env(db: ScratchDatabase, smtp: SMTPServer, media: Path, **extra: str) -> dict[str, str]:
    return manage_env(
        db.url,
        EMAIL_URL=smtp.url,
        CRONJOB_LEASE_SECONDS=str(LEASE),
        DATABASE_LOCK_TIMEOUT="2s",  # shorter than the lease, as the settings demand
        MEDIA_ROOT=str(media),
        **extra,
    )


def expected_recipients(db: ScratchDatabase, smtp: SMTPServer, media: Path) -> int:
    dry = run_manage(JOB, "--dry-run", env=env(db, smtp, media))
    assert dry.returncode == 0, dry.stderr
    would_send = re.search(r"📧 would send (\d+)", dry.stdout)
    assert would_send, dry.stdout
    return int(would_send.group(1))


def start(processes: list[ManageProcess], environment: dict[str, str], *args: str) -> ManageProcess:
    process = ManageProcess(JOB, *args, env=environment)
    processes.append(process)
    return process


def ledger(db: ScratchDatabase) -> Counter[str]:
    return Counter(str(status) for (status,) in db.query("SELECT status FROM notifications_delivery"))


def runs(db: ScratchDatabase) -> list[tuple[object, ...]]:
    return db.query("SELECT status, exit_code, error FROM utils_cronjobrun ORDER BY id")


def wait_for_lease_to_run_out() -> None:
    time.sleep(LEASE + 0.5)


def assert_each_recipient_once(smtp: SMTPServer, count: int) -> None:
    recipients = Counter(smtp.recipients())
    assert len(recipients) == count, recipients
    assert set(recipients.values()) == {1}, recipients


@pytest.mark.postgres
def test_sigkill_in_the_middle_of_sending_the_next_run_sends_only_the_rest(
    db: ScratchDatabase, smtp: SMTPServer, tmp_path: Path, processes: list[ManageProcess]
) -> None:
    total = expected_recipients(db, smtp, tmp_path)
    smtp.hold_after = 5  # the sixth message waits at MAIL FROM: not handed over yet
    first = start(processes, env(db, smtp, tmp_path))
    assert smtp.holding.wait(30), first.stderr_lines
    first.send(signal.SIGKILL)
    assert first.wait() == -signal.SIGKILL
    smtp.release()
    assert len(smtp.messages) == 5
    assert ledger(db) == {"sent": 5, "pending": 1}  # the one in flight when the pod died

    wait_for_lease_to_run_out()
    second = run_manage(JOB, env=env(db, smtp, tmp_path))
    assert second.returncode == 0, second.stderr
    assert f"📧 sent {total - 5}, 5 already sent" in second.stdout
    assert_each_recipient_once(smtp, total)
    assert ledger(db) == {"sent": total}
    assert [status for status, *_ in runs(db)] == ["failed", "succeeded"]  # the dead run closed
    assert str(runs(db)[0][2]).startswith("abandoned")


@pytest.mark.postgres
def test_sigterm_mid_run_releases_the_lock_records_interrupted_and_writes_nothing_half(
    db: ScratchDatabase, smtp: SMTPServer, tmp_path: Path, processes: list[ManageProcess]
) -> None:
    total = expected_recipients(db, smtp, tmp_path)
    smtp.stall_data_after = 5  # the sixth message is handed over; the server's reply is held
    job = start(processes, env(db, smtp, tmp_path))
    assert smtp.holding.wait(30)
    job.send(signal.SIGTERM)
    time.sleep(0.3)
    smtp.release()  # the message in flight completes, then the job stops at its checkpoint
    assert job.wait() == ExitCode.SIGTERM
    assert len(job.stderr_lines) == 1 and "interrupted by SIGTERM" in job.stderr_lines[0]
    assert db.query("SELECT count(*) FROM utils_cronjoblock") == [(0,)]
    assert [(status, code) for status, code, _ in runs(db)] == [("interrupted", 143)]
    # Nothing half-written: every claimed notice was sent and recorded, none left pending.
    assert ledger(db) == {"sent": 6}
    assert len(smtp.messages) == 6

    rerun = run_manage(JOB, env=env(db, smtp, tmp_path))
    assert rerun.returncode == 0, rerun.stderr
    assert_each_recipient_once(smtp, total)


@pytest.mark.postgres
def test_the_database_connection_killed_mid_run_exits_75_and_the_next_run_completes(
    db: ScratchDatabase, smtp: SMTPServer, tmp_path: Path, processes: list[ManageProcess]
) -> None:
    total = expected_recipients(db, smtp, tmp_path)
    smtp.stall_data_after = 5  # the sixth message is handed over; the server's reply is held
    job = start(processes, env(db, smtp, tmp_path))
    assert smtp.holding.wait(30)
    killed = db.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = %s AND datname = current_database()",  # this test's database only
        (f"manage2soar:{JOB}",),
    )
    assert killed and all(ok for (ok,) in killed)
    smtp.release()
    assert job.wait() == ExitCode.TEMPFAIL
    [line] = job.stderr_lines
    assert line.startswith(f"❌ [{JOB}] Job {JOB} failed: database unreachable: ") and line.endswith(
        "(exit 75)"
    )
    # The message that was out when the connection died is recorded as sent, not in doubt.
    assert ledger(db) == {"sent": 6}

    rerun = run_manage(JOB, env=env(db, smtp, tmp_path))
    assert rerun.returncode == 0, rerun.stderr
    assert_each_recipient_once(smtp, total)
    assert ledger(db) == {"sent": total}


def test_two_jobs_for_the_same_slot_together_and_one_after_the_other(
    any_db: ScratchDatabase, smtp: SMTPServer, tmp_path: Path, processes: list[ManageProcess]
) -> None:
    total = expected_recipients(any_db, smtp, tmp_path)
    slot = env(any_db, smtp, tmp_path, JOB_NAME="report-duty-delinquents-29414400")
    together = [start(processes, slot), start(processes, slot)]
    assert [p.wait() for p in together] == [0, 0]
    later = run_manage(JOB, env=slot)
    assert later.returncode == 0 and "already succeeded for report-duty-delinquents-29414400" in later.stdout
    assert_each_recipient_once(smtp, total)
    statuses = Counter(status for status, *_ in runs(any_db))
    assert statuses == {"succeeded": 1, "skipped": 2}


def test_a_pod_whose_clock_runs_five_minutes_ahead_cannot_take_a_live_lock(
    any_db: ScratchDatabase, smtp: SMTPServer, tmp_path: Path, processes: list[ManageProcess]
) -> None:
    if any_db.backend == "sqlite":
        pytest.skip(
            "SQLite is embedded: its 'database clock' is each process's own clock, so it is for "
            "one machine whose processes share that clock (docs/architecture.md)"
        )
    holder = ManageProcess(
        "test_cronjob", "--units=200", "--unit-seconds=0.05", env=env(any_db, smtp, tmp_path)
    )
    processes.append(holder)
    holder.wait_for_line("🔒")
    [(token,)] = any_db.query("SELECT token FROM utils_cronjoblock")
    ahead = subprocess.run(
        ["faketime", "-f", "+5m", *_manage("test_cronjob", "--units=1")],
        env=env(any_db, smtp, tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "is already running on" in ahead.stdout, ahead.stdout + ahead.stderr
    assert ahead.returncode == 0
    cleanup = subprocess.run(
        ["faketime", "-f", "+5m", *_manage("cron_locks", "--cleanup")],
        env=env(any_db, smtp, tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Cleaned up 0 expired locks" in cleanup.stdout
    assert any_db.query("SELECT token FROM utils_cronjoblock") == [(token,)]
    assert holder.wait() == 0


def test_a_lease_that_expires_during_a_stall_leaves_the_new_holder_alone_and_the_stale_run_writes_nothing(
    any_db: ScratchDatabase, smtp: SMTPServer, tmp_path: Path, processes: list[ManageProcess]
) -> None:
    environment = env(any_db, smtp, tmp_path)
    stale = ManageProcess("test_cronjob", "--units=1000", "--unit-seconds=0.3", "-v2", env=environment)
    processes.append(stale)
    stale.wait_for_line("Unit 2 done")
    stale.send(signal.SIGSTOP)
    wait_for_lease_to_run_out()
    successor = ManageProcess("test_cronjob", "--units=10", "--unit-seconds=0.2", env=environment)
    processes.append(successor)
    successor.wait_for_line("🔒")
    [holder] = any_db.query("SELECT locked_by, token, expires_at FROM utils_cronjoblock")
    stale.send(signal.SIGCONT)
    assert stale.wait() == ExitCode.TEMPFAIL
    assert any_db.query("SELECT locked_by, token FROM utils_cronjoblock") == [holder[:2]]
    assert successor.wait() == 0
    stale_run = any_db.query("SELECT status, summary FROM utils_cronjobrun ORDER BY id LIMIT 1")[0]
    assert stale_run[0] == "failed"
    assert "2" in str(stale_run[1]) and "3" not in str(stale_run[1])  # no unit after the stall


def _manage(*args: str) -> list[str]:
    import sys

    from testsupport.databases import REPO

    return [sys.executable, str(REPO / "manage.py"), *args]


@pytest.mark.parametrize("backend", BACKENDS)
def test_twenty_processes_race_for_one_job_and_exactly_one_runs_each_round(backend: str) -> None:
    from testsupport.race import race

    database = club_on(backend)
    rounds = 30
    attempts = race(database.url, processes=20, rounds=rounds)
    assert all(a.code == 0 for a in attempts), Counter(a.code for a in attempts)
    assert Counter(a.round for a in attempts if not a.skipped) == dict.fromkeys(range(rounds), 1)
    succeeded = Counter(
        occurrence
        for occurrence, status in database.query("SELECT occurrence, status FROM utils_cronjobrun")
        if status == "succeeded"
    )
    assert succeeded == {f"round-{r}": 1 for r in range(rounds)}
