"""The staff dashboard of the scheduled jobs: status badges and server-rendered SVG charts.

One page, no JavaScript: the table comes from ``operations.status.job_statuses()``, each badge
from the job's state (``operations.states``), and the charts cover the last 30 UTC days, today
included: the days ``aggregate_cron_analytics`` rolled up from the daily rollups, the days after
the latest rolled-up one (today, and yesterday until its rollup runs) from the raw runs, added up
by the same code. A fixed number of queries, whatever the size of the history.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from operations import analytics
from operations.models import CronJobDailyStats
from operations.states import JobState
from operations.status import JobStatus, job_statuses
from utils.cli import format_age

DAYS = 30
WIDTH, HEIGHT, PAD = 180, 44, 2


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass
class Chart:
    """An SVG chart's shapes, in the chart's own coordinates (WIDTH x HEIGHT)."""

    label: str
    bars: list[Bar] = field(default_factory=list)
    lines: list[tuple[str, str, str]] = field(default_factory=list)  # (points, css class, legend)
    width: int = WIDTH
    height: int = HEIGHT


def _x(index: int) -> float:
    return PAD + index * (WIDTH - 2 * PAD) / DAYS


def _day(day: datetime.date, days: list[datetime.date]) -> str:
    return f"{day} (today, so far)" if day == days[-1] else str(day)


def success_chart(days: list[datetime.date], rows: Mapping[datetime.date, Mapping[str, Any]]) -> Chart:
    chart = Chart(label="success rate per day")
    slot = (WIDTH - 2 * PAD) / DAYS
    for index, day in enumerate(days):
        row = rows.get(day)
        rate = row["success_rate"] if row else None
        if row is None or rate is None:
            runs = f"{row['runs']} run(s), none that did work" if row else "no runs"
            chart.bars.append(Bar(_x(index), HEIGHT - 2, slot - 1, 2, "none", f"{_day(day, days)}: {runs}"))
            continue
        height = max(2.0, rate * (HEIGHT - PAD))
        css = "good" if rate >= 0.999 else "warn" if rate >= 0.5 else "bad"
        title = f"{_day(day, days)}: {rate:.0%} of {row['runs']} run(s) succeeded"
        chart.bars.append(Bar(_x(index), HEIGHT - height, slot - 1, height, css, title))
    return chart


def duration_chart(days: list[datetime.date], rows: Mapping[datetime.date, Mapping[str, Any]]) -> Chart:
    peak = max((r["duration_p95"] or 0 for r in rows.values()), default=0) or 1.0
    chart = Chart(label=f"duration per day (top {peak:.2f}s)" if rows else "duration per day (no runs)")
    slot = (WIDTH - 2 * PAD) / DAYS
    for key, css in (("duration_p50", "p50"), ("duration_p95", "p95")):
        points = []
        for index, day in enumerate(days):
            value = rows.get(day, {}).get(key)
            if value is not None:
                y = HEIGHT - PAD - value / peak * (HEIGHT - 2 * PAD)
                points.append(f"{_x(index) + slot / 2:.1f},{y:.1f}")
        if points:
            chart.lines.append((" ".join(points), css, key.removeprefix("duration_")))
    return chart


def badge(status: JobStatus) -> tuple[str, str]:
    """(css class, text) of the job's status badge: its worst state."""
    state = status.state(settings.CRONJOB_ALERT_AFTER_FAILURES)
    failures = status.consecutive_failures
    text = {
        JobState.FAILING: f"failing ×{failures}",
        JobState.FAILED: "failed once" if failures == 1 else f"failed ×{failures}",
        JobState.IN_DOUBT: f"{status.in_doubt} in doubt",
    }.get(state, state.value)
    return state.css, text


def note(status: JobStatus) -> tuple[str, str] | None:
    """(css class, text) of the line under the badge: the last failure's error, why the last run
    did not work, or when a waiting job is first due."""
    finished = status.last_finished
    if status.consecutive_failures and finished is not None and finished.error:
        return "error", finished.error
    run = status.last_run
    if run is not None and run.status != "succeeded" and run.error:
        return "muted", run.error
    if status.last_run is None and status.waiting_until is not None:
        return "muted", f"never ran; first due by {timezone.localtime(status.waiting_until):%Y-%m-%d %H:%M}"
    return None


def chart_days(now: datetime.datetime) -> list[datetime.date]:
    """The last DAYS UTC days, today (so far) the last."""
    today = now.astimezone(datetime.UTC).date()
    return [today - datetime.timedelta(days=DAYS - 1 - i) for i in range(DAYS)]


def daily_rows(days: list[datetime.date], now: datetime.datetime) -> dict[str, dict[datetime.date, Any]]:
    """Job -> day -> its runs added up: rollups up to the latest rolled-up day, then the raw runs
    (two queries; the raw ones span the days not rolled up yet, normally today alone)."""
    daily: dict[str, dict[datetime.date, Any]] = {}
    for row in CronJobDailyStats.objects.filter(day__gte=days[0], day__lte=days[-1]).values(
        "job_name", "day", "runs", "success_rate", "duration_p50", "duration_p95"
    ):
        daily.setdefault(row["job_name"], {})[row["day"]] = row
    rolled = max((day for rows in daily.values() for day in rows), default=None)
    first_raw = days[0] if rolled is None else rolled + analytics.DAY
    if first_raw <= days[-1]:
        for tally in analytics.tally_days(analytics.utc_midnight(first_raw), now):
            daily.setdefault(tally.job_name, {})[tally.period] = tally.fields(now)
    return daily


def job_rows(now: datetime.datetime) -> list[dict[str, Any]]:
    statuses = job_statuses(now)
    days = chart_days(now)
    daily = daily_rows(days, now)
    rows = []
    for status in statuses:
        css, text = badge(status)
        finished = status.last_finished
        history = daily.get(status.job_name, {})
        rows.append(
            {
                "status": status,
                "badge_css": css,
                "badge": text,
                "note": note(status),
                "last_duration": f"{finished.duration_seconds:.2f}s"
                if finished and finished.duration_seconds is not None
                else "-",
                "deadline": format_age(status.deadline) if status.deadline else "-",
                "lock": f"{status.lock.holder} for {format_age(status.lock.age)}" if status.lock else "-",
                "charts": [success_chart(days, history), duration_chart(days, history)],
            }
        )
    return rows


@staff_member_required
def dashboard(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    rows = job_rows(now)
    context = {
        "rows": rows,
        "attention": [row for row in rows if row["badge_css"] in ("bad", "warn")],
        "now": now,
        "days": DAYS,
        "threshold": settings.CRONJOB_ALERT_AFTER_FAILURES,
        "club_name": settings.CLUB_NAME,
    }
    return render(request, "operations/dashboard.html", context)
