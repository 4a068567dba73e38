"""A connection that broke earlier gives InterfaceError ("connection already closed"), which in
Django is not a DatabaseError: it is handled wherever a DatabaseError is (exit 75, one line, the
lock released or left to lapse). The fault itself, with a real connection killed on PostgreSQL,
is in tests/test_faults_runs.py."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import InterfaceError, OperationalError

from testsupport.commands import run_command
from utils.cronjob import BaseCronJobCommand
from utils.exitcodes import ExitCode
from utils.heartbeat import DatabaseFailure, Heartbeat
from utils.locking import CronJobLockManager, Lease
from utils.models import CronJobLock, CronJobRun

CLOSED = "connection already closed"


class ClosedConnectionJob(BaseCronJobCommand):
    job_name = "closed_connection_job"

    def execute_job(self, *args: Any, **options: Any) -> None:
        self.count("done")
        raise InterfaceError(CLOSED)


@pytest.mark.django_db(transaction=True)  # the run closes the broken connection
def test_a_job_that_meets_a_closed_connection_exits_75_with_one_line() -> None:
    result = run_command(ClosedConnectionJob())
    assert result.code == ExitCode.TEMPFAIL
    [line] = result.err.splitlines()
    assert line.startswith(
        f"❌ [closed_connection_job] Job closed_connection_job failed: database unreachable: {CLOSED} after "
    )
    assert line.endswith("(done=1) (exit 75)")
    run = CronJobRun.objects.get()
    assert (run.status, run.exit_code, run.error) == ("failed", 75, f"database unreachable: {CLOSED}")
    assert not CronJobLock.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_closed_connection_at_the_lock_exits_75_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def closed(*args: Any, **kwargs: Any) -> None:
        raise InterfaceError(CLOSED)

    monkeypatch.setattr(CronJobLockManager, "acquire", closed)
    result = run_command("test_cronjob", "--units=1")
    assert result.code == ExitCode.TEMPFAIL
    assert result.err == f"❌ [test_cronjob] database unreachable: {CLOSED} (exit 75)\n"
    assert not CronJobRun.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_release_that_meets_a_closed_connection_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    real_release = CronJobLockManager.release
    calls: list[str] = []

    def release_on_a_closed_connection_first(self: CronJobLockManager, lease: Lease) -> bool:
        calls.append(lease.token)
        if len(calls) == 1:
            raise InterfaceError(CLOSED)
        return real_release(self, lease)

    monkeypatch.setattr(CronJobLockManager, "release", release_on_a_closed_connection_first)
    result = run_command("test_cronjob", "--units=1", "--unit-seconds=0")
    assert result.code == 0, result.err
    assert len(calls) == 2 and calls[0] == calls[1]
    assert not CronJobLock.objects.exists()


class FailingHeartbeat(Heartbeat):
    """Every renewal meets ``error``; the calls the job would get are recorded."""

    def __init__(self, error: Exception, seconds: float) -> None:
        self.error = error
        self.beats = 0
        self.errors: list[DatabaseFailure] = []
        self.given_up = threading.Event()
        self.gave_up_after = 0.0
        lease = Lease(job_name="job", holder="pod", token="t", seconds=seconds)
        super().__init__(lease, on_lost=self.lost, on_error=self.errors.append, on_unrenewable=self.gave_up)

    def lost(self) -> None:
        raise AssertionError("a failing renewal is not a lost lease")

    def gave_up(self, seconds: float, exc: DatabaseFailure) -> None:
        self.gave_up_after = seconds
        self.given_up.set()

    def beat(self) -> bool:
        self.beats += 1
        raise self.error


class RenewingHeartbeat(Heartbeat):
    def beat(self) -> bool:
        return True


@pytest.mark.parametrize("error", [InterfaceError(CLOSED), OperationalError("server closed the connection")])
def test_a_heartbeat_that_keeps_failing_gives_up_after_two_thirds_of_the_lease(error: Exception) -> None:
    heartbeat = FailingHeartbeat(error, seconds=1.5)  # a beat every 0.5 s, giving up after 1 s
    started = time.monotonic()
    heartbeat.start()
    assert heartbeat.given_up.wait(5)
    heartbeat.join(5)
    assert not heartbeat.is_alive()
    assert 1.0 <= heartbeat.gave_up_after < 1.5  # before the lease can run out
    assert time.monotonic() - started < 1.5
    assert heartbeat.beats == len(heartbeat.errors) >= 2  # each failure reported, none a crash
    assert all(exc is error for exc in heartbeat.errors)


def test_a_heartbeat_that_renews_never_gives_up() -> None:
    lease = Lease(job_name="job", holder="pod", token="t", seconds=1.5)
    gave_up = threading.Event()
    heartbeat = RenewingHeartbeat(lease, on_lost=gave_up.set, on_unrenewable=lambda *_: gave_up.set())
    heartbeat.start()
    assert not gave_up.wait(2.5)
    assert not heartbeat.overdue()
    heartbeat.stop()
