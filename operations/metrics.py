"""Prometheus metrics of the scheduled jobs, read from the run history at scrape time.

A custom collector on a private registry: every scrape asks the database (a fixed number of
queries, whatever the history's size) instead of keeping counters in the web processes, so
any replica answers the same and nothing is lost on a restart. The endpoint needs a bearer
token (``METRICS_TOKEN``); without one configured it answers 404. See docs/monitoring.md.

Run counters must never go down, yet raw runs are pruned after the retention period: a
counter adds the daily rollups of every day up to the latest rolled-up day, and the raw runs
after it. Pruning only deletes runs of rolled-up days, so a run moves from one part of the
sum to the other and is never counted twice or lost.
"""

from __future__ import annotations

import datetime
import hmac
from collections import defaultdict
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder

from operations.analytics import rolled_up_day, with_utc_day
from operations.models import CronJobDailyStats
from operations.states import JobState
from operations.status import LOCK_HELD, JobStatus, job_statuses
from utils.models import CronJobRun

PREFIX = "manage2soar_cronjob"
# The statuses counted by runs_total ("running" is a state, not an outcome: see lock_held).
COUNTED = ("succeeded", "failed", "timed_out", "interrupted", "skipped")


def _ts(moment: datetime.datetime | None) -> float | None:
    return moment.timestamp() if moment else None


def run_totals() -> tuple[dict[tuple[str, str], int], dict[str, int]]:
    """(runs per (job, status), lock skips per job) since the beginning, in two queries.

    The daily rollups count the days they cover, the raw runs every other (job, day), so the
    totals never go down when old runs are pruned, nor when a day is rolled up late.
    """
    runs: dict[tuple[str, str], int] = defaultdict(int)
    lock_skips: dict[str, int] = defaultdict(int)
    sums = {status: Sum(status) for status in COUNTED}
    for row in CronJobDailyStats.objects.values("job_name").annotate(**sums, lock=Sum("skipped_lock_held")):
        for status in COUNTED:
            runs[row["job_name"], status] += row[status] or 0
        lock_skips[row["job_name"]] += row["lock"] or 0
    raw = with_utc_day(CronJobRun.objects.exclude(status=CronJobRun.Status.RUNNING)).exclude(rolled_up_day())
    for row in raw.values("job_name", "status").annotate(n=Count("pk"), lock=Count("pk", filter=LOCK_HELD)):
        runs[row["job_name"], row["status"]] += row["n"]
        lock_skips[row["job_name"]] += row["lock"]
    return runs, lock_skips


class CronJobCollector:
    """Generates every metric from the database when Prometheus scrapes."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        statuses = job_statuses(now)
        runs, lock_skips = run_totals()
        yield from self._gauges(statuses)
        total = CounterMetricFamily(
            f"{PREFIX}_runs", "Runs that ended, by status.", labels=["job_name", "status"]
        )
        for status in statuses:
            for outcome in COUNTED:
                total.add_metric([status.job_name, outcome], runs.get((status.job_name, outcome), 0))
        yield total
        skips = CounterMetricFamily(
            f"{PREFIX}_lock_skips",
            "Runs skipped because another pod held the job's lock.",
            labels=["job_name"],
        )
        for status in statuses:
            skips.add_metric([status.job_name], lock_skips.get(status.job_name, 0))
        yield skips

    def _gauges(self, statuses: list[JobStatus]) -> Iterator[Metric]:
        threshold = settings.CRONJOB_ALERT_AFTER_FAILURES

        def family(
            name: str, documentation: str, labels: tuple[str, ...] = ("job_name",)
        ) -> GaugeMetricFamily:
            return GaugeMetricFamily(f"{PREFIX}_{name}", documentation, labels=list(labels))

        info = family("info", "The job's schedule facts (value 1).", ("job_name", "schedule", "timezone"))
        values = {
            "last_success": family("last_success_timestamp_seconds", "End of the latest successful run."),
            "last_run": family("last_run_timestamp_seconds", "Start of the latest run of any status."),
            "last_duration": family("last_duration_seconds", "Duration of the latest run that did work."),
            "deadline": family("deadline_seconds", "The job's max_execution_time."),
            "next_run": family("next_run_timestamp_seconds", "The next scheduled slot."),
        }
        failures = family("consecutive_failures", "Failed or timed-out runs since the last success.")
        overdue = family("overdue", "1 when the latest due slot has no run that ran.")
        slow = family("slow", f"1 when the latest run took {settings.CRONJOB_SLOW_RATIO:g} of the deadline.")
        failing = family("failing", f"1 when consecutive_failures >= {threshold}.")
        in_doubt = family(
            "notices_in_doubt", "Its notices (and alerts) in doubt: the provider may have them; resolve them."
        )
        lock_held = family("lock_held", "1 while a live lock is held (the job is running).")
        lock_age = family("lock_held_seconds", "How long the live lock has been held (0 without one).")
        state = family(
            "state",
            "1 for each state the job is in (operations.states: waiting, ok, running, failed, failing, "
            "overdue, in_doubt, slow), else 0.",
            ("job_name", "state"),
        )
        for status in statuses:
            name = [status.job_name]
            current = status.states(threshold)
            for each in JobState:
                state.add_metric([status.job_name, each.value], int(each in current))
            run, finished = status.last_run, status.last_finished
            facts = {
                "last_success": _ts(status.last_success_at),
                "last_run": _ts(run.started_at) if run else None,
                "last_duration": finished.duration_seconds if finished else None,
                "deadline": status.deadline.total_seconds() if status.deadline else None,
                "next_run": _ts(status.next_run),
            }
            for key, value in facts.items():
                if value is not None:
                    values[key].add_metric(name, value)
            if status.spec is not None:
                info.add_metric([status.job_name, status.spec.schedule, status.spec.timezone], 1)
                overdue.add_metric(name, int(status.overdue is not None))
            failures.add_metric(name, status.consecutive_failures)
            failing.add_metric(name, int(status.failing(threshold)))
            slow.add_metric(name, int(status.slow))
            in_doubt.add_metric(name, status.in_doubt)
            running = status.running_for
            lock_held.add_metric(name, int(running is not None))
            lock_age.add_metric(name, running.total_seconds() if running is not None else 0)
        yield info
        yield from values.values()
        yield from (failures, failing, overdue, slow, in_doubt, lock_held, lock_age, state)


REGISTRY = CollectorRegistry(auto_describe=False)
REGISTRY.register(CronJobCollector())


def metrics_view(request: HttpRequest) -> HttpResponse:
    """``/metrics``: 404 unless METRICS_TOKEN is set, 401 without ``Authorization: Bearer <it>``."""
    token = settings.METRICS_TOKEN
    if not token:
        return HttpResponse("not found\n", status=404, content_type="text/plain")
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        response = HttpResponse("a bearer token is required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    # The format the scraper asks for (Accept): OpenMetrics, or the classic text format.
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encode(REGISTRY), content_type=content_type)
