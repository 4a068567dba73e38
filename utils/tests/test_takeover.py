"""A run that finds its own occurrence holding the lock waits for it, in-process (the same with
real processes and a SIGKILL is in tests/test_faults_runs.py)."""

from __future__ import annotations

import datetime
import time
from typing import Any

import pytest
from django.db.models.functions import Now

from testsupport.commands import run_command
from utils.exitcodes import ExitCode
from utils.models import CronJobLock, CronJobRun

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def short_lease(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.CRONJOB_LEASE_SECONDS = 3
    monkeypatch.setattr("utils.takeover.TAKEOVER_MARGIN_SECONDS", 0.5)


def held_by_a_run_of(occurrence: str, lease_left: float) -> CronJobLock:
    assert CronJobLock.objects.acquire("test_cronjob", "dead-pod", 60, occurrence=occurrence)
    CronJobLock.objects.update(expires_at=Now() + datetime.timedelta(seconds=lease_left))
    CronJobRun.objects.create(job_name="test_cronjob", occurrence=occurrence, pod="dead-pod")
    return CronJobLock.objects.get()


def test_a_run_of_the_same_occurrence_waits_for_the_lease_then_takes_over() -> None:
    held_by_a_run_of("slot-1", lease_left=1.0)
    started = time.monotonic()
    result = run_command("test_cronjob", "--occurrence=slot-1", "--units=1", "--unit-seconds=0")
    assert result.code == ExitCode.OK, result.err
    assert 0.9 <= time.monotonic() - started < 3
    waiting = "⏳ [test_cronjob] dead-pod holds the lock for this occurrence (slot-1)"
    assert result.lines[0].startswith(waiting)
    replaced = "🔄 [test_cronjob] Replaced expired lock for test_cronjob after waiting "
    assert result.lines[1].startswith(replaced) and result.lines[1].endswith("s for dead-pod")
    runs = list(CronJobRun.objects.order_by("pk").values_list("pod", "status", "error"))
    assert runs[0][:2] == ("dead-pod", "failed") and runs[0][2].startswith("abandoned")
    assert runs[1][1] == "succeeded" and not CronJobLock.objects.exists()


def test_a_run_of_another_occurrence_skips_at_once() -> None:
    held_by_a_run_of("slot-1", lease_left=30)
    started = time.monotonic()
    result = run_command("test_cronjob", "--occurrence=slot-2", "--units=1")
    assert result.code == ExitCode.OK and time.monotonic() - started < 1
    assert result.lines == ["⏸️ [test_cronjob] Job test_cronjob is already running on dead-pod"]


def test_a_waiting_run_whose_occurrence_succeeds_meanwhile_skips_without_the_lock() -> None:
    lock = held_by_a_run_of("slot-1", lease_left=30)
    CronJobRun.objects.filter(occurrence="slot-1").update(status="succeeded")  # e.g. a holder still releasing
    result = run_command("test_cronjob", "--occurrence=slot-1", "--units=1")
    assert result.code == ExitCode.OK
    done = "⏸️ [test_cronjob] test_cronjob already succeeded for slot-1 (--force runs it again)"
    assert result.lines == [done]
    assert CronJobLock.objects.get().token == lock.token


def test_a_live_holder_of_the_same_occurrence_means_exit_75_after_the_wait() -> None:
    lock = held_by_a_run_of("slot-1", lease_left=3600)
    started = time.monotonic()
    result = run_command("test_cronjob", "--occurrence=slot-1", "--units=1")
    assert result.code == ExitCode.TEMPFAIL
    assert 3.5 <= time.monotonic() - started < 6  # one lease (3 s) and the margin (0.5 s here)
    assert result.err == (
        "❌ [test_cronjob] test_cronjob is still running slot-1 on dead-pod: its lease stayed live "
        "through 4s of waiting; a later retry takes over if that run dies (exit 75)\n"
    )
    assert CronJobLock.objects.get().token == lock.token
    assert list(CronJobRun.objects.values_list("status", flat=True)) == ["running"]  # nothing written
