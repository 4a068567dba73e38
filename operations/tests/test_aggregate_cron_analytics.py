"""aggregate_cron_analytics: hourly and daily rollups of a run history made by running commands."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from operations.analytics import Plan, percentile, scheduled_plan
from operations.models import CronJobDailyStats, CronJobHourlyStats
from testsupport.commands import CommandResult, run_command
from utils.exitcodes import ExitCode
from utils.models import CronJobLock, CronJobRun

pytestmark = pytest.mark.django_db
UTC = datetime.UTC


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def demo_at(moment: datetime.datetime, *args: str) -> CommandResult:
    with time_machine.travel(moment):
        return run_command("test_cronjob", "--unit-seconds=0", *args)


def aggregate_at(moment: datetime.datetime, *args: str) -> CommandResult:
    with time_machine.travel(moment):
        return run_command("aggregate_cron_analytics", *args)


def daily(job: str = "test_cronjob") -> dict[datetime.date, CronJobDailyStats]:
    return {row.day: row for row in CronJobDailyStats.objects.filter(job_name=job)}


def values(model: Any) -> list[dict[str, Any]]:
    return list(
        model.objects.order_by("job_name", "pk").values(
            *[f.name for f in model._meta.fields if f.name not in ("id", "aggregated_at")]
        )
    )


def test_percentile_interpolates_like_percentile_cont() -> None:
    assert percentile([], 0.5) is None
    assert percentile([4.0], 0.95) == 4.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([float(i) for i in range(1, 11)], 0.95) == 9.55


def test_a_day_of_runs_rolls_up_per_job_and_per_hour() -> None:
    demo_at(at(20, 8, 0), "--units=3")
    demo_at(at(20, 8, 30), "--units=2", "--unit-seconds=0.2")
    demo_at(at(20, 9, 0), "--units=2", "--fail-at=2")
    CronJobLock.objects.acquire("test_cronjob", "other-pod", 60)
    demo_at(at(20, 9, 10))  # skipped: the lock is held elsewhere
    CronJobLock.objects.all().delete()
    demo_at(at(21, 9, 0))  # another day
    result = aggregate_at(at(22, 12), "--date=2026-11-20")
    assert result.code == 0, result.err
    assert "Rolled up 24 hour(s) and 1 day(s) (3 rows)" in result.out
    day = daily()[datetime.date(2026, 11, 20)]
    assert (day.runs, day.succeeded, day.failed, day.skipped, day.skipped_lock_held) == (4, 2, 1, 1, 1)
    assert day.success_rate == pytest.approx(2 / 3, abs=1e-4)
    assert day.items_processed == 3 + 2 + 1
    assert day.counts == {"processed": 6}
    durations = sorted(
        duration
        for duration in CronJobRun.objects.filter(started_at__date="2026-11-20")
        .exclude(status="skipped")
        .values_list("duration_seconds", flat=True)
        if duration is not None
    )
    assert day.duration_max == durations[-1] >= 0.4
    assert day.duration_p50 == percentile(durations, 0.5)
    assert day.duration_p95 == percentile(durations, 0.95)
    hours = {row.hour: row for row in CronJobHourlyStats.objects.all()}
    assert set(hours) == {at(20, 8), at(20, 9)}
    assert (hours[at(20, 8)].runs, hours[at(20, 8)].success_rate) == (2, 1.0)
    assert (hours[at(20, 9)].failed, hours[at(20, 9)].skipped_lock_held) == (1, 1)
    assert datetime.date(2026, 11, 21) not in daily()


@pytest.mark.postgres
def test_the_percentiles_match_postgresqls_percentile_cont() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("runs on the PostgreSQL pass")
    for seconds in ("0", "0.05", "0.1", "0.02", "0.15"):
        demo_at(at(20, 8), "--units=1", f"--unit-seconds={seconds}")
    aggregate_at(at(22, 12), "--date=2026-11-20")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_seconds), "
            "percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_seconds) FROM utils_cronjobrun "
            "WHERE job_name = 'test_cronjob'"
        )
        p50, p95 = cursor.fetchone()
    day = daily()[datetime.date(2026, 11, 20)]
    assert (day.duration_p50, day.duration_p95) == (
        pytest.approx(p50, abs=1e-3),
        pytest.approx(p95, abs=1e-3),
    )


def test_aggregating_again_gives_the_same_rows() -> None:
    demo_at(at(20, 8, 0))
    demo_at(at(20, 9, 0), "--fail-at=1")
    aggregate_at(at(22, 12), "--date=2026-11-20")
    first_daily, first_hourly = values(CronJobDailyStats), values(CronJobHourlyStats)
    ids = set(CronJobDailyStats.objects.values_list("pk", flat=True))
    aggregate_at(at(22, 13), "--date=2026-11-20")
    aggregate_at(at(22, 14), "--backfill=3")
    assert values(CronJobDailyStats) == first_daily and values(CronJobHourlyStats) == first_hourly
    assert set(CronJobDailyStats.objects.values_list("pk", flat=True)) == ids  # upserted, not replaced


def test_the_hourly_run_rolls_up_the_previous_hour_and_the_midnight_run_the_day() -> None:
    demo_at(at(20, 8, 10))
    demo_at(at(20, 9, 10))
    demo_at(at(20, 23, 30))
    result = aggregate_at(at(20, 10, 5))
    assert "Rolled up 1 hour(s) and 0 day(s) (1 rows)" in result.out
    assert list(CronJobHourlyStats.objects.values_list("hour", flat=True)) == [at(20, 9)]
    assert not CronJobDailyStats.objects.exists()
    result = aggregate_at(at(21, 0, 5))
    assert "Rolled up 24 hour(s) and 1 day(s)" in result.out
    assert daily()[datetime.date(2026, 11, 20)].runs == 3
    assert CronJobHourlyStats.objects.filter(job_name="test_cronjob").count() == 3


def test_a_missed_midnight_run_is_caught_up_by_the_next_one() -> None:
    demo_at(at(20, 22))
    demo_at(at(21, 0, 30))
    assert scheduled_plan(at(21, 1, 5)) == Plan(hours=[at(21, 0)], days=[datetime.date(2026, 11, 20)])
    result = aggregate_at(at(21, 1, 5))
    assert "Rolled up 25 hour(s) and 1 day(s) (3 rows)" in result.out
    # Once rolled up, later runs are back to single hours.
    assert scheduled_plan(at(21, 2, 5)) == Plan(hours=[at(21, 1)], days=[])


def test_backfill_rolls_up_the_last_n_whole_days() -> None:
    for day in (17, 18, 19, 20):
        demo_at(at(day, 12))
    result = aggregate_at(at(21, 12), "--backfill=3")
    assert result.code == 0 and "Rolled up 72 hour(s) and 3 day(s)" in result.out
    assert sorted(daily()) == [datetime.date(2026, 11, d) for d in (18, 19, 20)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--date=2026-11-31"], "'2026-11-31' is not a date (YYYY-MM-DD)"),
        (["--date=2026-11-21"], "--date 2026-11-21 is not over yet (UTC); the latest is 2026-11-20"),
        (["--backfill=0"], "'0' must be at least 1"),
        (["--backfill=many"], "'many' is not a whole number"),
        (["--backfill=100000"], "--backfill 100000 is more than 3660 days"),
        (["--backfill=2", "--date=2026-11-01"], "not allowed with argument"),
    ],
)
def test_bad_values_exit_2_with_one_line_and_change_nothing(args: list[str], message: str) -> None:
    demo_at(at(20, 12))
    result = aggregate_at(at(21, 12), *args)
    assert result.code == ExitCode.USAGE
    assert message in result.err and len(result.err.strip().splitlines()) == 1
    assert not CronJobDailyStats.objects.exists() and not CronJobHourlyStats.objects.exists()


def test_a_dry_run_writes_nothing() -> None:
    demo_at(at(20, 12))
    result = aggregate_at(at(21, 12), "--date=2026-11-20", "--dry-run")
    assert result.code == 0 and "Rolled up 24 hour(s) and 1 day(s) (2 rows); would prune 0" in result.out
    assert not CronJobDailyStats.objects.exists() and not CronJobHourlyStats.objects.exists()


def test_old_runs_are_pruned_once_rolled_up_keeping_each_jobs_latest(settings: Any) -> None:
    settings.CRONJOB_RUN_RETENTION_DAYS = 3
    demo_at(at(10, 8), "--units=1")  # pruned
    demo_at(at(10, 9), "--units=1")  # test_cronjob's latest success: kept
    demo_at(at(10, 10), "--units=1", "--fail-at=1")  # test_cronjob's latest run: kept
    aggregate_at(at(12, 12), "--date=2026-11-10")  # its own run on the 12th: never rolled up, kept
    before = daily()[datetime.date(2026, 11, 10)]
    result = aggregate_at(at(19, 0, 5))  # rolls up the 18th, prunes what is older than the 16th
    assert "pruned 1 run(s) older than 3 days" in result.out
    kept = {(r.job_name, r.started_at.day, r.started_at.hour) for r in CronJobRun.objects.all()}
    assert kept == {
        ("test_cronjob", 10, 9),
        ("test_cronjob", 10, 10),
        ("aggregate_cron_analytics", 12, 12),
        ("aggregate_cron_analytics", 19, 0),
    }
    # The pruned day's rollup stays, and is never rewritten from what is left of its runs.
    result = aggregate_at(at(19, 1), "--backfill=9")
    assert "Kept the rollup of 2026-11-10: past the retention period" in result.out
    after = daily()[datetime.date(2026, 11, 10)]
    assert (after.runs, after.succeeded, after.failed) == (3, 2, 1)
    assert after.aggregated_at == before.aggregated_at
    # An old day that was never rolled up still can be; then its runs go too.
    assert daily("aggregate_cron_analytics")[datetime.date(2026, 11, 12)].succeeded == 1
    assert "pruned 1 run(s)" in result.out


def test_queries_do_not_grow_with_the_runs_of_the_day() -> None:
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert aggregate_at(at(22, 12), "--date=2026-11-20").code == 0
        return len(queries)

    # The rows written depend on the jobs and hours that had runs, never on how many runs.
    demo_at(at(20, 8))
    demo_at(at(20, 9))
    small = count_queries()
    statuses = ["succeeded", "failed", "skipped", "timed_out"]
    CronJobRun.objects.bulk_create(
        CronJobRun(
            job_name="test_cronjob",
            occurrence=str(i),
            pod="p",
            status=statuses[i % 4],
            started_at=at(20, 8 + i % 2) + datetime.timedelta(seconds=i),
            duration_seconds=float(i % 13),
            summary={"sent": 1},
        )
        for i in range(500)
    )
    assert count_queries() == small
    assert daily()[datetime.date(2026, 11, 20)].runs == 502
