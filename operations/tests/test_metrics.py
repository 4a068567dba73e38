"""/metrics: the token, and what Prometheus reads after real runs."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.db.models.functions import Now
from django.test import Client
from django.test.utils import CaptureQueriesContext
from prometheus_client.parser import text_string_to_metric_families

from testsupport.commands import CommandResult, run_command
from utils.models import CronJobLock, CronJobRun

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
TOKEN = "s3cret-metrics-token"


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def token(settings: Any) -> str:
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def demo_at(moment: datetime.datetime, *args: str) -> CommandResult:
    with time_machine.travel(moment):
        return run_command("test_cronjob", "--units=1", "--unit-seconds=0", *args)


def scrape(
    client: Client, moment: datetime.datetime | None = None
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Sample name and labels -> value, as Prometheus would read them."""
    if moment is None:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    else:
        with time_machine.travel(moment, tick=False):
            response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict[Any, float], name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def test_without_a_token_configured_the_endpoint_does_not_exist(client: Client) -> None:
    assert client.get("/metrics").status_code == 404


def test_a_wrong_or_missing_token_is_401(client: Client, token: str) -> None:
    missing = client.get("/metrics")
    assert missing.status_code == 401 and missing["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=TOKEN).status_code == 401


def test_prometheus_can_scrape_a_pod_by_its_ip(client: Client, token: str) -> None:
    # Not in ALLOWED_HOSTS: answered before the host check, like the probes.
    response = client.get("/metrics", HTTP_HOST="10.4.2.17:8000", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200


def test_a_job_that_stops_fails_or_slows_shows_in_the_metrics(
    client: Client, token: str, scheduled_demo: Any
) -> None:
    demo_at(at(23, 8, 0))
    demo_at(at(23, 9, 0), "--fail-at=1")
    demo_at(at(23, 9, 5), "--fail-at=1")
    demo_at(at(23, 9, 6), "--fail-at=1")
    CronJobLock.objects.acquire("test_cronjob", "other-pod", 60)
    demo_at(at(23, 9, 7))  # skipped: lock held
    samples = scrape(client, at(23, 10, 40))
    job = {"job_name": "test_cronjob"}
    assert value(samples, "manage2soar_cronjob_consecutive_failures", **job) == 3
    assert value(samples, "manage2soar_cronjob_failing", **job) == 1
    assert value(samples, "manage2soar_cronjob_overdue", **job) == 1  # 10:00 did not run
    assert value(samples, "manage2soar_cronjob_runs_total", status="failed", **job) == 3
    assert value(samples, "manage2soar_cronjob_runs_total", status="succeeded", **job) == 1
    assert value(samples, "manage2soar_cronjob_runs_total", status="skipped", **job) == 1
    assert value(samples, "manage2soar_cronjob_lock_skips_total", **job) == 1
    assert value(samples, "manage2soar_cronjob_lock_held", **job) == 1
    assert value(samples, "manage2soar_cronjob_last_success_timestamp_seconds", **job) == pytest.approx(
        at(23, 8).timestamp(), abs=5
    )
    assert value(samples, "manage2soar_cronjob_deadline_seconds", **job) == 300
    assert value(samples, "manage2soar_cronjob_next_run_timestamp_seconds", **job) == at(23, 11).timestamp()
    assert value(samples, "manage2soar_cronjob_info", schedule="0 * * * *", timezone="Etc/UTC", **job) == 1
    # The held lock has been held long: close to the deadline.
    CronJobLock.objects.update(locked_at=Now() - datetime.timedelta(minutes=4.5))
    samples = scrape(client, at(23, 10, 40))
    assert value(samples, "manage2soar_cronjob_lock_held_seconds", **job) == pytest.approx(270, abs=5)
    assert value(samples, "manage2soar_cronjob_slow", **job) == 1
    # It recovers.
    CronJobLock.objects.all().delete()
    demo_at(at(23, 11, 0))
    samples = scrape(client, at(23, 11, 10))
    assert value(samples, "manage2soar_cronjob_consecutive_failures", **job) == 0
    assert value(samples, "manage2soar_cronjob_overdue", **job) == 0
    assert value(samples, "manage2soar_cronjob_lock_held", **job) == 0
    assert value(samples, "manage2soar_cronjob_slow", **job) == 0


def test_a_slow_run_shows_its_duration_against_the_deadline(
    client: Client, token: str, scheduled_demo: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(scheduled_demo, "max_execution_time", datetime.timedelta(seconds=1))
    run_command("test_cronjob", "--units=1", "--unit-seconds=0.85")
    samples = scrape(client)
    duration = value(samples, "manage2soar_cronjob_last_duration_seconds", job_name="test_cronjob")
    assert duration is not None and duration >= 0.85
    assert value(samples, "manage2soar_cronjob_deadline_seconds", job_name="test_cronjob") == 1
    assert value(samples, "manage2soar_cronjob_slow", job_name="test_cronjob") == 1


def test_run_counters_never_go_down_when_runs_are_rolled_up_and_pruned(
    client: Client, token: str, settings: Any
) -> None:
    settings.CRONJOB_RUN_RETENTION_DAYS = 2
    for day in (10, 11, 12):
        demo_at(at(day, 8))
        demo_at(at(day, 9), "--fail-at=1")
    before = scrape(client, at(13, 0, 1))
    with time_machine.travel(at(13, 0, 5)):
        run_command("aggregate_cron_analytics", "--backfill=3")
    assert CronJobRun.objects.filter(job_name="test_cronjob").count() < 6  # some were pruned
    after = scrape(client, at(13, 0, 6))
    for status in ("succeeded", "failed"):
        key = ("manage2soar_cronjob_runs_total", (("job_name", "test_cronjob"), ("status", status)))
        assert before[key] == after[key] == 3
    demo_at(at(13, 1))
    later = scrape(client, at(13, 1, 5))
    key = ("manage2soar_cronjob_runs_total", (("job_name", "test_cronjob"), ("status", "succeeded")))
    assert later[key] == 4
    aggregate = (
        "manage2soar_cronjob_runs_total",
        (("job_name", "aggregate_cron_analytics"), ("status", "succeeded")),
    )
    assert later[aggregate] == 1


def test_run_counters_keep_a_day_that_was_rolled_up_after_a_later_one(client: Client, token: str) -> None:
    for day in (10, 11):
        demo_at(at(day, 8))
    with time_machine.travel(at(12, 0, 5)):
        run_command("aggregate_cron_analytics", "--date=2026-11-11")  # the 10th is not rolled up
    key = ("manage2soar_cronjob_runs_total", (("job_name", "test_cronjob"), ("status", "succeeded")))
    assert scrape(client, at(12, 0, 6))[key] == 2


def test_scrape_queries_do_not_grow_with_the_history(client: Client, token: str) -> None:
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            scrape(client)
        return len(queries)

    demo_at(at(20, 9))
    run_command("aggregate_cron_analytics", "--backfill=3")
    small = count_queries()
    statuses = ["succeeded", "failed", "skipped", "timed_out", "running"]
    CronJobRun.objects.bulk_create(
        CronJobRun(
            job_name=f"job{i % 7}", occurrence=str(i), pod="p", status=statuses[i % 5], duration_seconds=1.0
        )
        for i in range(300)
    )
    assert count_queries() == small


def test_openmetrics_when_the_scraper_asks_for_it(client: Client, token: str) -> None:
    response = client.get(
        "/metrics",
        HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
        HTTP_ACCEPT="application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
    )
    assert response["Content-Type"].startswith("application/openmetrics-text; version=1.0.0")
    assert response.content.endswith(b"# EOF\n")
