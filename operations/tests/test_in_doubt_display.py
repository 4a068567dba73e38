"""Notices in doubt, where operators look: cron_status (and its --check), the dashboard, /metrics."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
import time_machine
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from members.tests.factories import MemberFactory
from notifications.models import Delivery
from testsupport.commands import run_command
from utils.exitcodes import ExitCode

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 11, 23, 10, 40, tzinfo=datetime.UTC)
DAY = datetime.date(2026, 11, 23)


def ledger_row(job_name: str, recipient: str, status: str = "in_doubt") -> Delivery:
    return Delivery.objects.create(
        job_name=job_name, day=DAY, recipient=recipient, kind="greeting", channel="email", status=status
    )


@pytest.fixture
def doubts(scheduled_demo: Any) -> None:
    """test_cronjob ran fine at 10:00; two of its notices and one of its alerts are in doubt."""
    with time_machine.travel(datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.UTC)):
        assert run_command("test_cronjob", "--units=1", "--unit-seconds=0").code == 0
    ledger_row("test_cronjob", "member:1")
    ledger_row("test_cronjob", "member:2")
    ledger_row("test_cronjob", "member:3", status="sent")
    ledger_row("alerts:test_cronjob", "ops@example.org")


def cron_status(*args: str) -> Any:
    with time_machine.travel(NOW, tick=False):
        return run_command("cron_status", *args)


def test_cron_status_shows_each_jobs_notices_in_doubt_and_check_fails_on_them(doubts: None) -> None:
    table = cron_status("test_cronjob")
    [row] = [line for line in table.out.splitlines() if line.startswith("test_cronjob ")]
    assert "IN_DOUBT" in row
    [job] = json.loads(cron_status("--json", "test_cronjob").out)
    assert job["notices_in_doubt"] == 3 and job["problems"] == ["in_doubt"]

    check = cron_status("--check", "test_cronjob")
    assert check.code == ExitCode.FAILED
    assert "❌ test_cronjob has 3 notice(s) in doubt: the provider may have them." in check.out
    assert "manage.py test_cronjob --send-in-doubt" in check.out
    assert "1 job(s) need attention: test_cronjob" in check.err

    Delivery.objects.filter(status="in_doubt").update(status="sent")  # resolved
    assert cron_status("--check", "test_cronjob").code == 0


def test_the_dashboard_badges_a_job_with_notices_in_doubt_and_links_to_them(
    client: Client, doubts: None
) -> None:
    client.force_login(MemberFactory(username="ops", is_staff=True))
    with time_machine.travel(NOW, tick=False):
        page = client.get("/cron/").content.decode()
    row = page[page.index('id="job-test_cronjob"') :].split("</tr>")[0]
    assert 'data-status="3 in doubt"' in row
    assert "/admin/notifications/delivery/?status__exact=in_doubt&amp;q=test_cronjob" in row
    assert "3 notices in doubt</a>" in row


def test_metrics_has_a_gauge_of_the_notices_in_doubt_per_job(
    client: Client, settings: Any, doubts: None
) -> None:
    settings.METRICS_TOKEN = "t0ken"
    with time_machine.travel(NOW, tick=False):
        response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer t0ken")
    samples = {
        (sample.name, sample.labels.get("job_name")): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }
    assert samples["manage2soar_cronjob_notices_in_doubt", "test_cronjob"] == 3
    assert samples["manage2soar_cronjob_notices_in_doubt", "notify_late_sprs"] == 0


def test_check_notify_tells_the_admins_once_per_new_notice_in_doubt(
    smtp_settings: Any, settings: Any, doubts: None
) -> None:
    settings.ADMINS = [("Ops", "ops@example.org")]
    cron_status("--check", "--notify", "test_cronjob")
    assert smtp_settings.subjects() == ["[Skyline Soaring Club] test_cronjob has 3 notice(s) in doubt"]
    body = smtp_settings.messages[0].get_body(("plain",)).get_content()
    assert "manage.py test_cronjob --send-in-doubt" in body
    cron_status("--check", "--notify", "test_cronjob")
    assert len(smtp_settings.messages) == 1  # already told
    ledger_row("alerts:test_cronjob", "tech@example.org")  # an alert in doubt: shown, not alerted on
    cron_status("--check", "--notify", "test_cronjob")
    assert len(smtp_settings.messages) == 1
    ledger_row("test_cronjob", "member:4")  # a new notice in doubt: a new alert
    cron_status("--check", "--notify", "test_cronjob")
    assert smtp_settings.subjects()[1] == "[Skyline Soaring Club] test_cronjob has 5 notice(s) in doubt"
