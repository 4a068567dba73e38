"""A run that takes the lock and then skips its occurrence (a closed day, an occurrence already
done) still tells the monitors that the slot was handled: one success ping and one ``ok`` Sentry
check-in. A run skipped because another pod holds the lock tells them nothing: the holder's run
reports the slot."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from duty_roster.models import ClubClosure
from operations.monitors import run_uuid
from operations.tests.test_monitors import check_ins
from testsupport.commands import run_command
from testsupport.http import HTTPRecorder
from utils.management.commands.test_cronjob import Command as DemoJob
from utils.models import CronJobLock, CronJobRun

pytestmark = pytest.mark.django_db

# Midday in the club's zone (America/New_York in the tests): the club's day is 2026-11-20.
NOW = datetime.datetime(2026, 11, 20, 17, 0, tzinfo=datetime.UTC)
CLUB_DAY = datetime.date(2026, 11, 20)


@pytest.fixture(autouse=True)
def pinned_clock() -> Iterator[None]:
    with time_machine.travel(NOW):
        yield


@pytest.fixture
def closed_today(monkeypatch: pytest.MonkeyPatch, scheduled_demo: type[DemoJob]) -> ClubClosure:
    monkeypatch.setattr(DemoJob, "skip_on_closed_days", True)
    return ClubClosure.objects.create(start=CLUB_DAY, end=CLUB_DAY, reason="Thanksgiving")


@pytest.fixture
def sentry_reset() -> Iterator[None]:
    yield
    import sentry_sdk

    sentry_sdk.get_client().close(timeout=0)
    sentry_sdk.get_global_scope().set_client(None)


@pytest.fixture
def pings(http_recorder: HTTPRecorder, settings: Any) -> HTTPRecorder:
    settings.CRONJOB_PING_URL_TEMPLATE = f"{http_recorder.url}/ping/PING_KEY/{{cronjob}}"
    return http_recorder


def demo(*args: str) -> Any:
    return run_command("test_cronjob", "--units=1", "--unit-seconds=0", *args)


def skipped_run() -> CronJobRun:
    return CronJobRun.objects.get(status=CronJobRun.Status.SKIPPED)


def test_a_closed_day_skip_pings_success_with_the_skipped_run_id(
    pings: HTTPRecorder, closed_today: ClubClosure
) -> None:
    result = demo()
    assert result.code == 0, result.err
    skip = skipped_run()
    [ping] = pings.requests
    assert (ping.method, ping.path) == ("POST", "/ping/PING_KEY/test-cronjob")
    assert ping.query == {"rid": [run_uuid("test_cronjob", skip.pk)]}
    assert "skipped" in ping.body.decode() and "Thanksgiving" in ping.body.decode()


def test_an_occurrence_already_done_pings_success_again(pings: HTTPRecorder) -> None:
    assert demo("--occurrence", "slot-1").code == 0
    assert demo("--occurrence", "slot-1").code == 0
    skip = skipped_run()
    start, success, again = pings.requests
    assert (start.path, success.path) == ("/ping/PING_KEY/test-cronjob/start", "/ping/PING_KEY/test-cronjob")
    assert again.path == "/ping/PING_KEY/test-cronjob"
    assert again.query == {"rid": [run_uuid("test_cronjob", skip.pk)]}
    assert "already succeeded" in again.body.decode()


def test_a_skip_because_another_pod_holds_the_lock_pings_nothing(pings: HTTPRecorder) -> None:
    now = timezone.now()
    CronJobLock.objects.create(
        job_name="test_cronjob",
        locked_by="other-pod",
        token="t" * 32,
        locked_at=now,
        # Far ahead: on SQLite the lease is read on the real clock, not the pinned one.
        expires_at=now + datetime.timedelta(days=365),
    )
    result = demo()
    assert result.code == 0 and "already running on other-pod" in result.out
    assert skipped_run().summary == {"held_by": "other-pod"}
    assert pings.requests == []


def test_a_closed_day_skip_is_an_ok_sentry_check_in(
    http_recorder: HTTPRecorder, settings: Any, closed_today: ClubClosure, sentry_reset: None
) -> None:
    settings.SENTRY_DSN = f"http://public@127.0.0.1:{http_recorder.port}/1"
    assert demo().code == 0
    [check_in] = check_ins(http_recorder.wait_for(1))
    assert (check_in["monitor_slug"], check_in["status"]) == ("test-cronjob", "ok")
    assert check_in["monitor_config"]["schedule"] == {"type": "crontab", "value": "0 * * * *"}


def test_a_dry_run_on_a_closed_day_pings_nothing(pings: HTTPRecorder, closed_today: ClubClosure) -> None:
    assert demo("--dry-run").code == 0
    assert pings.requests == []
