"""healthchecks.io-style pings and Sentry Crons check-ins, against loopback HTTP servers; a
monitor that is down never fails the job."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from operations.monitors import run_uuid
from testsupport.commands import run_command
from testsupport.http import HTTPRecorder, Request
from testsupport.smtp import free_port
from utils.exitcodes import ExitCode
from utils.models import CronJobRun

pytestmark = pytest.mark.django_db


def demo(*args: str) -> Any:
    return run_command("test_cronjob", "--units=2", "--unit-seconds=0", *args)


# --- Ping URLs -----------------------------------------------------------------------------


@pytest.fixture
def pings(http_recorder: HTTPRecorder, settings: Any) -> HTTPRecorder:
    settings.CRONJOB_PING_URL_TEMPLATE = f"{http_recorder.url}/ping/PING_KEY/{{cronjob}}"
    return http_recorder


def test_a_run_pings_start_then_success_with_its_run_id(pings: HTTPRecorder) -> None:
    assert demo().code == 0
    run = CronJobRun.objects.get()
    rid = run_uuid("test_cronjob", run.pk)
    start, end = pings.requests
    assert (start.method, start.path, start.query) == (
        "POST",
        "/ping/PING_KEY/test-cronjob/start",
        {"rid": [rid]},
    )
    assert (end.path, end.query) == ("/ping/PING_KEY/test-cronjob", {"rid": [rid]})
    assert f"run {run.pk}" in start.body.decode()
    assert end.body.decode().startswith("test_cronjob succeeded after ")


def test_a_failed_run_pings_fail_with_its_error(pings: HTTPRecorder) -> None:
    assert demo("--fail-at=2").code == ExitCode.FAILED
    start, end = pings.requests
    assert end.path == "/ping/PING_KEY/test-cronjob/fail"
    assert end.query["rid"] == start.query["rid"]
    assert "RuntimeError: unit 2 failed as requested by --fail-at" in end.body.decode()


def test_no_template_no_ping_and_no_ping_for_a_dry_run(http_recorder: HTTPRecorder, settings: Any) -> None:
    assert demo().code == 0
    settings.CRONJOB_PING_URL_TEMPLATE = f"{http_recorder.url}/{{job}}"
    assert demo("--dry-run").code == 0
    assert http_recorder.requests == []


@pytest.mark.parametrize("failure", ["refused", "500", "timeout"])
def test_a_ping_monitor_that_is_down_never_fails_the_job(failure: str, settings: Any) -> None:
    server = HTTPRecorder(status=500 if failure == "500" else 200, delay=2.0 if failure == "timeout" else 0)
    server.start()
    try:
        port = free_port() if failure == "refused" else server.port
        settings.CRONJOB_PING_URL_TEMPLATE = f"http://127.0.0.1:{port}/{{job}}"
        settings.CRONJOB_MONITOR_TIMEOUT = 0.3
        started = time.monotonic()
        result = demo()
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    assert result.code == 0
    assert CronJobRun.objects.get().status == "succeeded"
    expected = {
        "refused": "Ping monitor unreachable (start): ConnectionError",
        "500": "Ping monitor answered 500 to start",
        "timeout": "Ping monitor unreachable (start): ReadTimeout",
    }[failure]
    assert expected in result.out
    assert elapsed < 1.5  # two pings, each cut off at the monitor timeout


# --- Sentry Crons --------------------------------------------------------------------------


@pytest.fixture
def sentry_reset() -> Iterator[None]:
    yield
    import sentry_sdk

    sentry_sdk.get_client().close(timeout=0)
    sentry_sdk.get_global_scope().set_client(None)


def check_ins(requests: list[Request]) -> list[dict[str, Any]]:
    """The check_in items of the Sentry envelopes received."""
    found = []
    for request in requests:
        lines = request.body.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "check_in":
                found.append(json.loads(payload))
    return found


@pytest.fixture
def sentry(
    http_recorder: HTTPRecorder, settings: Any, scheduled_demo: Any, sentry_reset: None
) -> HTTPRecorder:
    settings.SENTRY_DSN = f"http://public@127.0.0.1:{http_recorder.port}/1"
    settings.SENTRY_ENVIRONMENT = "test"
    return http_recorder


def test_sentry_gets_an_in_progress_and_an_ok_check_in_with_the_registry_schedule(
    sentry: HTTPRecorder,
) -> None:
    assert demo().code == 0
    requests = sentry.wait_for(2)
    assert {r.path for r in requests} == {"/api/1/envelope/"}
    assert "sentry_key=public" in requests[0].headers.get("X-Sentry-Auth", "")
    started, ended = check_ins(requests)
    assert (started["monitor_slug"], started["status"]) == ("test-cronjob", "in_progress")
    assert (ended["status"], ended["check_in_id"]) == ("ok", started["check_in_id"])
    assert ended["duration"] >= 0 and ended["environment"] == "test"
    assert started["monitor_config"] == {
        "schedule": {"type": "crontab", "value": "0 * * * *"},
        "timezone": "Etc/UTC",
        "checkin_margin": 15,
        "failure_issue_threshold": 2,
        "max_runtime": 5,
    }


def test_a_failed_run_is_an_error_check_in(sentry: HTTPRecorder) -> None:
    assert demo("--fail-at=1").code == ExitCode.FAILED
    assert [c["status"] for c in check_ins(sentry.wait_for(2))] == ["in_progress", "error"]


def test_a_job_without_a_schedule_has_no_monitor(
    http_recorder: HTTPRecorder, settings: Any, sentry_reset: None
) -> None:
    settings.SENTRY_DSN = f"http://public@127.0.0.1:{http_recorder.port}/1"
    assert demo().code == 0  # test_cronjob is not scheduled here
    assert http_recorder.wait_for(1, timeout=0.5) == []


@pytest.mark.parametrize("failure", ["refused", "500", "timeout"])
def test_a_sentry_that_is_down_never_fails_the_job(
    failure: str, settings: Any, scheduled_demo: Any, sentry_reset: None
) -> None:
    server = HTTPRecorder(status=500 if failure == "500" else 200, delay=3.0 if failure == "timeout" else 0)
    server.start()
    try:
        port = free_port() if failure == "refused" else server.port
        settings.SENTRY_DSN = f"http://public@127.0.0.1:{port}/1"
        settings.CRONJOB_MONITOR_TIMEOUT = 0.5
        started = time.monotonic()
        result = demo()
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    assert result.code == 0 and CronJobRun.objects.get().status == "succeeded"
    assert elapsed < 2.0  # the flush waits at most the monitor timeout
