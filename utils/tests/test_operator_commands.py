"""cron_locks and cron_status: what an operator sees and may do."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from django.db import connection
from django.db.models.functions import Now
from django.test.utils import CaptureQueriesContext

from testsupport.commands import run_command
from utils.exitcodes import ExitCode
from utils.models import CronJobLock, CronJobRun

pytestmark = pytest.mark.django_db


def test_cron_locks_lists_holders_with_age_and_lease() -> None:
    CronJobLock.objects.acquire("notify_late_sprs", "pod-a", 60)
    CronJobLock.objects.acquire("expire_ad_hoc_days", "pod-b", 60)
    CronJobLock.objects.filter(job_name="expire_ad_hoc_days").update(
        locked_at=Now() - datetime.timedelta(minutes=10), expires_at=Now() - datetime.timedelta(minutes=9)
    )
    lines = run_command("cron_locks").out.splitlines()
    assert lines[0].split() == ["JOB", "HOLDER", "AGE", "LEASE"]
    assert lines[1].split() == ["expire_ad_hoc_days", "pod-b", "10m", "expired"]
    assert lines[2].split()[:3] == ["notify_late_sprs", "pod-a", "0s"]
    assert lines[2].endswith("left")


def test_cron_locks_says_when_nothing_is_held() -> None:
    assert run_command("cron_locks").out == "No locks held.\n"


def test_release_needs_yes_and_changes_nothing_without_it() -> None:
    CronJobLock.objects.acquire("notify_late_sprs", "pod-a", 60)
    refused = run_command("cron_locks", "--release", "notify_late_sprs")
    assert refused.code == ExitCode.USAGE and "without --yes" in refused.err
    assert CronJobLock.objects.exists()
    released = run_command("cron_locks", "--release", "notify_late_sprs", "--yes")
    assert released.code == 0 and "was held by pod-a" in released.out
    assert not CronJobLock.objects.exists()


def test_release_shows_the_holder_and_the_lease_left_and_warns_about_a_live_one() -> None:
    CronJobLock.objects.acquire("notify_late_sprs", "pod-a", 60)
    CronJobLock.objects.acquire("expire_ad_hoc_days", "pod-b", 60)
    CronJobLock.objects.filter(job_name="expire_ad_hoc_days").update(
        expires_at=Now() - datetime.timedelta(minutes=3)
    )
    live = run_command("cron_locks", "--release", "notify_late_sprs")
    assert live.code == ExitCode.USAGE
    assert re.search(
        r"\(held by pod-a for 0s, lease (59|60)s left\) without --yes: its holder may still", live.err
    )
    expired = run_command("cron_locks", "--release", "expire_ad_hoc_days", "--yes")
    assert expired.code == 0
    assert (
        expired.out
        == "🔓 Released expire_ad_hoc_days's lock (was held by pod-b for 0s, lease expired 3m ago)\n"
    )


def test_release_of_an_unknown_job_exits_2() -> None:
    result = run_command("cron_locks", "--release", "nope", "--yes")
    assert result.code == ExitCode.USAGE and "no lock is held for 'nope'" in result.err


def test_cleanup_removes_expired_locks_only() -> None:
    CronJobLock.objects.acquire("a", "pod", 60)
    CronJobLock.objects.acquire("b", "pod", 60)
    CronJobLock.objects.filter(job_name="a").update(expires_at=Now() - datetime.timedelta(seconds=1))
    assert run_command("cron_locks", "--cleanup").out == "🧹 Cleaned up 1 expired locks\n"
    assert list(CronJobLock.objects.values_list("job_name", flat=True)) == ["b"]


def test_cron_status_shows_the_last_run_result_duration_and_holder() -> None:
    assert run_command("test_cronjob", "--units=1", "--unit-seconds=0").code == 0
    assert run_command("test_cronjob", "--units=2", "--unit-seconds=0", "--fail-at=2").code == 1
    CronJobLock.objects.acquire("test_cronjob", "pod-z", 60)
    out = run_command("cron_status").out
    [row] = [line for line in out.splitlines() if line.startswith("test_cronjob")]
    assert "❌ failed" in row and "held by pod-z for 0s" in row
    data = json.loads(run_command("cron_status", "--json").out)
    [job] = [j for j in data if j["job"] == "test_cronjob"]
    assert job["last_run"]["status"] == "failed" and job["last_run"]["summary"] == {"processed": 1}
    assert job["lock"]["holder"] == "pod-z"


def test_cron_status_queries_do_not_grow_with_the_history() -> None:
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            run_command("cron_status")
        return len(queries)

    CronJobRun.objects.create(job_name="a", occurrence="1", pod="p", status="succeeded")
    small = count_queries()
    CronJobRun.objects.bulk_create(
        CronJobRun(job_name=f"job{i % 7}", occurrence=str(i), pod="p", status="succeeded") for i in range(300)
    )
    assert count_queries() == small


def test_release_leaves_a_lock_that_changed_hands_meanwhile(monkeypatch: pytest.MonkeyPatch) -> None:
    from utils.locking import CronJobLockManager, HeldLock

    CronJobLock.objects.acquire("notify_late_sprs", "pod-b", 60)
    seen = HeldLock(
        "notify_late_sprs", "pod-a", "a" * 32, datetime.timedelta(minutes=5), datetime.timedelta(0)
    )
    monkeypatch.setattr(CronJobLockManager, "held", lambda self: {"notify_late_sprs": seen})
    result = run_command("cron_locks", "--release", "notify_late_sprs", "--yes")
    assert result.code == ExitCode.FAILED and "changed hands meanwhile" in result.err
    assert CronJobLock.objects.get().locked_by == "pod-b"
