"""CronJobLock leases: one conditional statement, the database's clock, token-matched."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db.models.functions import Now
from django.utils import timezone

from utils.models import CronJobLock

pytestmark = pytest.mark.django_db


def expire(job_name: str) -> None:
    CronJobLock.objects.filter(job_name=job_name).update(expires_at=Now() - datetime.timedelta(seconds=1))


def test_acquire_writes_one_row_with_the_holder_and_a_fresh_token() -> None:
    lease = CronJobLock.objects.acquire("job", "pod-a", 60)
    assert lease is not None
    row = CronJobLock.objects.get(job_name="job")
    assert (row.locked_by, row.token) == ("pod-a", lease.token)
    assert datetime.timedelta(seconds=59) < row.expires_at - row.locked_at <= datetime.timedelta(seconds=60)


def test_a_live_lease_cannot_be_taken() -> None:
    first = CronJobLock.objects.acquire("job", "pod-a", 60)
    assert first is not None
    assert CronJobLock.objects.acquire("job", "pod-b", 60) is None
    assert CronJobLock.objects.get(job_name="job").token == first.token


def test_other_jobs_are_independent() -> None:
    assert CronJobLock.objects.acquire("job-1", "pod-a", 60) is not None
    assert CronJobLock.objects.acquire("job-2", "pod-a", 60) is not None


def test_an_expired_lease_is_taken_over_with_a_new_token() -> None:
    first = CronJobLock.objects.acquire("job", "pod-a", 60)
    assert first is not None
    expire("job")
    second = CronJobLock.objects.acquire("job", "pod-b", 60)
    assert second is not None and second.token != first.token
    row = CronJobLock.objects.get(job_name="job")
    assert (row.locked_by, row.token) == ("pod-b", second.token)
    assert CronJobLock.objects.count() == 1


def test_renew_extends_a_live_lease() -> None:
    lease = CronJobLock.objects.acquire("job", "pod-a", 60)
    assert lease is not None
    CronJobLock.objects.filter(job_name="job").update(expires_at=Now() + datetime.timedelta(seconds=5))
    assert CronJobLock.objects.renew(lease)
    row = CronJobLock.objects.get(job_name="job")
    assert row.expires_at - timezone.now() > datetime.timedelta(seconds=55)


def test_renew_fails_once_the_lease_ran_out_even_if_nobody_took_it() -> None:
    lease = CronJobLock.objects.acquire("job", "pod-a", 60)
    assert lease is not None
    expire("job")
    assert not CronJobLock.objects.renew(lease)


def test_a_lost_lease_cannot_renew_or_release_the_new_holders_lock() -> None:
    stale = CronJobLock.objects.acquire("job", "pod-a", 60)
    assert stale is not None
    expire("job")
    current = CronJobLock.objects.acquire("job", "pod-b", 60)
    assert current is not None
    before = CronJobLock.objects.get(job_name="job")
    assert not CronJobLock.objects.renew(stale)
    assert not CronJobLock.objects.release(stale)
    after = CronJobLock.objects.get(job_name="job")
    assert (after.token, after.expires_at) == (before.token, before.expires_at)
    assert CronJobLock.objects.release(current)
    assert not CronJobLock.objects.exists()


def test_a_pod_whose_clock_runs_ahead_cannot_take_a_live_lock() -> None:
    holder = CronJobLock.objects.acquire("job", "pod-a", 60)
    assert holder is not None
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5), tick=True):
        # By its own clock the lease looks expired...
        assert CronJobLock.objects.get(job_name="job").is_expired()
        # ...but the database's clock decides.
        assert CronJobLock.objects.acquire("job", "pod-fast-clock", 60) is None
        assert CronJobLock.cleanup_expired_locks() == 0
    assert CronJobLock.objects.get(job_name="job").token == holder.token


def test_cleanup_expired_locks_removes_only_expired_ones_and_counts_them() -> None:
    for name in ("a", "b", "c"):
        CronJobLock.objects.acquire(name, "pod", 60)
    expire("a")
    expire("b")
    assert CronJobLock.cleanup_expired_locks() == 2
    assert list(CronJobLock.objects.values_list("job_name", flat=True)) == ["c"]
    assert CronJobLock.cleanup_expired_locks() == 0


def test_is_expired_compares_with_the_given_time() -> None:
    CronJobLock.objects.acquire("job", "pod", 60)
    row = CronJobLock.objects.get(job_name="job")
    assert not row.is_expired()
    assert row.is_expired(now=row.expires_at)
    assert row.is_expired(now=row.expires_at + datetime.timedelta(seconds=1))


@pytest.mark.postgres
@pytest.mark.processes
def test_an_acquire_does_not_wait_for_a_holder_stuck_in_a_transaction() -> None:
    """A holder whose node died mid-unit keeps the row locked until PostgreSQL notices; a
    contender calls the lock held after the lock timeout instead of hanging behind it."""
    import time

    import psycopg2

    from testsupport.databases import ScratchDatabase, manage_env, run_manage

    database = ScratchDatabase("postgres").create()
    try:
        stuck = psycopg2.connect(database.url)  # not autocommit: a transaction stays open
        with stuck.cursor() as cursor:
            cursor.execute(
                "INSERT INTO utils_cronjoblock (job_name, locked_by, token, locked_at, expires_at) "
                "VALUES ('test_cronjob', 'dead-node', 't', now(), now() - interval '1 hour')"
            )
        started = time.monotonic()
        environment = manage_env(database.url, DATABASE_LOCK_TIMEOUT="2s")
        result = run_manage("test_cronjob", "--units=1", env=environment)
        assert time.monotonic() - started < 20
        assert result.returncode == 0 and "is already running on" in result.stdout
        stuck.rollback()
        stuck.close()
    finally:
        database.drop()
