"""The staff dashboard: access, content after real runs, query counts, and a real headless Chromium."""

from __future__ import annotations

import datetime
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from members.models import Member
from members.tests.factories import MemberFactory
from operations.models import KnownJob
from testsupport.commands import run_command
from utils.models import CronJobLock, CronJobRun

UTC = datetime.UTC
NOW = datetime.datetime(2026, 11, 23, 10, 40, tzinfo=UTC)
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1480,1060",
]


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def demo_at(moment: datetime.datetime, *args: str) -> None:
    with time_machine.travel(moment):
        run_command("test_cronjob", "--units=1", *args)


def build_history() -> None:
    """A week of the demo job, getting slower, with a failing day, and the rollups of it."""
    for day in range(16, 23):
        seconds = f"--unit-seconds={0.03 * (day - 15):.2f}"  # slower every day
        demo_at(at(day, 8), seconds)
        demo_at(at(day, 9), seconds, *(["--fail-at=1"] if day == 20 else []))
    demo_at(at(23, 9), "--unit-seconds=0", "--fail-at=1")
    demo_at(at(23, 10), "--unit-seconds=0", "--fail-at=1")
    with time_machine.travel(at(23, 10, 20)):
        assert run_command("aggregate_cron_analytics", "--backfill=8").code == 0


@pytest.fixture
def staff() -> Member:
    return MemberFactory(username="ops", is_staff=True)


def get_dashboard(client: Client) -> str:
    with time_machine.travel(NOW, tick=False):
        response = client.get("/cron/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_only_staff_see_the_dashboard(client: Client) -> None:
    anonymous = client.get("/cron/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/admin/login/?next=/cron/")
    client.force_login(MemberFactory(username="pilot"))
    member = client.get("/cron/")
    assert member.status_code == 302 and "/admin/login/" in member["Location"]


@pytest.mark.django_db
def test_a_job_that_fails_stops_or_slows_shows_on_the_dashboard(
    client: Client, staff: Member, scheduled_demo: Any
) -> None:
    build_history()
    # The real jobs never ran here: known since this morning they wait; known since the 1st, overdue.
    KnownJob.objects.update(first_seen_at=at(23, 10, 0))
    KnownJob.objects.filter(job_name="notify_aging_logsheets").update(first_seen_at=at(1, 0))
    CronJobLock.objects.acquire("notify_late_sprs", "web-7d9f-abc", 60)
    client.force_login(staff)
    page = get_dashboard(client)
    assert '<tr id="job-test_cronjob" data-job="test_cronjob" data-status="failing ×2">' in page
    assert "RuntimeError: unit 1 failed as requested by --fail-at" in page
    assert 'data-job="notify_aging_logsheets" data-status="overdue">' in page
    assert 'data-job="send_maintenance_digest" data-status="waiting">' in page
    assert "never ran; first due by 2026-11-29 04:35" in page  # Sunday 09:00 UTC + 35 min, club time
    assert "2026-11-23 06:00" in page  # next run, club time (11:00 UTC)
    assert "web-7d9f-abc for 0s" in page  # the lock holder
    # Success rate per day: the 20th had one failure of two runs.
    assert "<title>2026-11-20: 50% of 2 run(s) succeeded</title>" in page
    assert "<title>2026-11-19: 100% of 2 run(s) succeeded</title>" in page
    # Today is not rolled up yet: its bar comes from the raw runs (two failures this morning).
    assert "<title>2026-11-23 (today, so far): 0% of 2 run(s) succeeded</title>" in page
    # Durations per day: a p95 line that climbs day after day, then today's quick failures.
    row = page.split('id="job-test_cronjob"', 1)[1].split("</tr>", 1)[0]
    points = row.split('<polyline class="p95" points="', 1)[1].split('"', 1)[0]
    ys = [float(point.split(",")[1]) for point in points.split()]
    assert len(ys) == 8 and ys[6] < ys[0] < ys[7]  # later days higher on screen (a smaller y)


@pytest.mark.django_db
def test_a_job_whose_last_run_failed_shows_failed_once_not_ok(
    client: Client, staff: Member, scheduled_demo: Any
) -> None:
    demo_at(at(23, 8))
    demo_at(at(23, 9), "--fail-at=1")
    client.force_login(staff)
    with time_machine.travel(at(23, 9, 10), tick=False):
        page = client.get("/cron/").content.decode()
    row = page.split('id="job-test_cronjob"', 1)[1].split("</tr>", 1)[0]
    assert '<span class="badge warn">failed once</span>' in row
    assert '<div class="error">failed: RuntimeError: unit 1 failed as requested by --fail-at' in row
    assert "badge good" not in row
    # Today's two runs are drawn although no day has been rolled up.
    assert "<title>2026-11-23 (today, so far): 50% of 2 run(s) succeeded</title>" in row


@pytest.mark.django_db
def test_a_slow_job_gets_a_slow_badge(
    client: Client, staff: Member, scheduled_demo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scheduled_demo, "max_execution_time", datetime.timedelta(seconds=1))
    run_command("test_cronjob", "--units=1", "--unit-seconds=0.85")
    client.force_login(staff)
    response = client.get("/cron/")
    assert 'data-job="test_cronjob" data-status="slow"' in response.content.decode()


@pytest.mark.django_db
def test_dashboard_queries_do_not_grow_with_the_history(client: Client, staff: Member) -> None:
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            get_dashboard(client)
        return len(queries)

    client.force_login(staff)
    demo_at(at(22, 9))
    small = count_queries()
    CronJobRun.objects.bulk_create(
        CronJobRun(
            job_name=f"job{i % 7}", occurrence=str(i), pod="p", status="succeeded", started_at=at(20, 0)
        )
        for i in range(300)
    )
    with time_machine.travel(at(23, 0, 5)):
        run_command("aggregate_cron_analytics", "--backfill=5")
    assert count_queries() == small


# --- A real browser --------------------------------------------------------------------------


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Chromium is not installed: apt-get install chromium (.ci/run installs it)")
    return path


def run_chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", header[16:24])


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_in_headless_chromium(live_server: Any, settings: Any, tmp_path: Path) -> None:
    """The demo club after a month (``seed_demo --history 30``), as docs/images/dashboard.png."""
    settings.ROOT_URLCONF = "operations.tests.browser_urls"
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    settings.SESSION_COOKIE_SECURE = False  # plain HTTP on loopback
    moment = datetime.datetime(2026, 11, 23, 15, 30, tzinfo=UTC)  # a Monday afternoon
    with time_machine.travel(moment, tick=False):
        assert run_command("seed_demo", "--history", "30").code == 0
    # Its live run's lock, again on the database's clock (a lease is never read on ours).
    holder = CronJobLock.objects.get().locked_by
    CronJobLock.objects.all().delete()
    CronJobLock.objects.acquire("report_duty_delinquents", holder, 1800)
    staff = MemberFactory(username="ops", is_staff=True, is_superuser=True)
    url = f"{live_server.url}/__test__/login/{staff.pk}/?next=/cron/"
    with time_machine.travel(moment + datetime.timedelta(minutes=2, seconds=30)):
        dom = run_chromium("--dump-dom", url, profile=tmp_path / "profile")
        assert dom.returncode == 0, dom.stderr[-2000:]
        screenshot = tmp_path / "dashboard.png"
        shot = run_chromium(f"--screenshot={screenshot}", url, profile=tmp_path / "profile")
    assert "<h1>Scheduled jobs</h1>" in dom.stdout
    for job, status in [
        ("notify_pilot_currency", "failing ×2"),
        ("send_maintenance_digest", "failed once"),
        ("notify_late_sprs", "slow"),
        ("report_duty_delinquents", "running"),
        ("send_deferred_notices", "ok"),
    ]:
        assert f'data-job="{job}" data-status="{status}"' in dom.stdout
    assert "<title>2026-11-23 (today, so far): 100% of 16 run(s) succeeded</title>" in dom.stdout
    assert dom.stdout.count("<svg") == 2 * dom.stdout.count("<tr id=")
    assert shot.returncode == 0 and screenshot.exists(), shot.stderr[-2000:]
    assert png_size(screenshot) == (1480, 1060)
    assert screenshot.stat().st_size > 20_000  # a rendered page, not a blank one
